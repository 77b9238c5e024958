/**
 * Reads one page of the archive site's folder listing: an S3 ListObjects (version 1)
 * `ListBucketResult` (docs/binance.md, public data files). A small parser of well-formed XML
 * without attributes' values, DTDs, CDATA or comments (S3 sends none), strict about nesting
 * and entities, so a proxy's error page or a cut body is refused instead of read as an empty
 * folder. Elements the client does not use (Owner, StorageClass …) are skipped.
 */

export interface ArchiveListEntry {
  key: string;
  size: number;
  /** ISO time, as S3 gives it. */
  lastModified?: string;
  /** MD5 of the object (S3 ETag without quotes). */
  etag?: string;
}

export interface ListingPage {
  files: ArchiveListEntry[];
  /** Sub-folders (CommonPrefixes), each ending with the delimiter. */
  folders: string[];
  truncated: boolean;
  /** Where the next page starts (NextMarker, else the page's last key or folder). */
  nextMarker?: string;
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(raw: string): string {
  return raw.replace(/&([^;&<]{1,10});|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new SyntaxError('a bare & in text');
    if (name in ENTITIES) return ENTITIES[name]!;
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#([0-9]{1,7})$/.exec(name)?.[1];
    if (code === undefined) throw new SyntaxError(`unknown entity ${whole}`);
    return String.fromCodePoint(Number.parseInt(code, name.startsWith('#x') ? 16 : 10));
  });
}

const TAG = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;

/** Parses the document into its root element; throws SyntaxError on anything not well-formed. */
export function parseXml(xml: string): XmlElement {
  let pos = 0;
  const declaration = /^\uFEFF?\s*<\?xml[^?]*\?>/.exec(xml);
  if (declaration !== null) pos = declaration[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (pos < xml.length) {
    const next = xml.indexOf('<', pos);
    const text = xml.slice(pos, next < 0 ? xml.length : next);
    if (stack.length > 0) stack.at(-1)!.text += decodeText(text);
    else if (text.trim() !== '') throw new SyntaxError(`text outside the root element at ${pos}`);
    if (next < 0) break;
    TAG.lastIndex = next;
    const tag = TAG.exec(xml);
    if (tag === null) throw new SyntaxError(`not a tag at ${next}: ${JSON.stringify(xml.slice(next, next + 30))}`);
    pos = TAG.lastIndex;
    const [, closing, name, , selfClosing] = tag;
    if (closing === '/') {
      const open = stack.pop();
      if (open?.name !== name) throw new SyntaxError(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    if (root !== undefined && stack.length === 0) throw new SyntaxError(`a second root element <${name}>`);
    const element: XmlElement = { name: name!, children: [], text: '' };
    if (stack.length > 0) stack.at(-1)!.children.push(element);
    else root = element;
    if (selfClosing !== '/') stack.push(element);
  }
  if (stack.length > 0) throw new SyntaxError(`<${stack.at(-1)!.name}> is not closed`);
  if (root === undefined) throw new SyntaxError('no root element');
  return root;
}

function only(parent: XmlElement, name: string, required: true): string;
function only(parent: XmlElement, name: string, required?: false): string | undefined;
function only(parent: XmlElement, name: string, required = false): string | undefined {
  const found = parent.children.filter((c) => c.name === name);
  if (found.length > 1) throw new SyntaxError(`<${parent.name}> has ${found.length} <${name}>`);
  if (found.length === 0 && required) throw new SyntaxError(`<${parent.name}> has no <${name}>`);
  if (found[0] !== undefined && found[0].children.length > 0) throw new SyntaxError(`<${name}> holds elements`);
  return found[0]?.text;
}

/** One `ListBucketResult` page; throws SyntaxError naming what is wrong. */
export function parseListing(xml: string): ListingPage {
  const root = parseXml(xml);
  if (root.name !== 'ListBucketResult') throw new SyntaxError(`root element <${root.name}>, not <ListBucketResult>`);
  const truncatedText = only(root, 'IsTruncated', true);
  if (truncatedText !== 'true' && truncatedText !== 'false')
    throw new SyntaxError(`IsTruncated: ${JSON.stringify(truncatedText)} is not a boolean`);
  const files: ArchiveListEntry[] = [];
  const folders: string[] = [];
  for (const child of root.children) {
    if (child.name === 'Contents') {
      const sizeText = only(child, 'Size', true);
      if (!/^\d{1,15}$/.test(sizeText)) throw new SyntaxError(`Size: ${JSON.stringify(sizeText)} is not a byte count`);
      const entry: ArchiveListEntry = { key: only(child, 'Key', true), size: Number(sizeText) };
      const lastModified = only(child, 'LastModified');
      const etag = only(child, 'ETag');
      if (lastModified !== undefined) entry.lastModified = lastModified;
      if (etag !== undefined) entry.etag = etag.replace(/^"|"$/g, '');
      files.push(entry);
    } else if (child.name === 'CommonPrefixes') folders.push(only(child, 'Prefix', true));
  }
  const truncated = truncatedText === 'true';
  const page: ListingPage = { files, folders, truncated };
  if (truncated) {
    // S3 sends NextMarker only with a delimiter; without one the last key is the marker.
    const last = [...files.map((f) => f.key), ...folders].sort().at(-1);
    const marker = only(root, 'NextMarker') ?? last;
    if (marker === undefined) throw new SyntaxError('a truncated page without NextMarker or keys');
    page.nextMarker = marker;
  }
  return page;
}
