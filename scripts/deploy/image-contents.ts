/**
 * What `func deploy --path functions/<name>` sends to the pack build: the function's folder
 * minus the `.funcignore` patterns (func passes them to pack as the project descriptor's
 * `build.exclude`, gitignore syntax; knative/func pkg/buildpacks/builder.go). The repository's
 * .gitignore plays no part, so the git-ignored build/ folder does reach the image.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface IgnoreRule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

function globToRegex(glob: string, anchored: boolean): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` any leading folders, `/**` everything inside, `**` anything
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern with no slash matches a name at any depth; with one it is relative to the root.
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${out}(?:/.*)?$`);
}

export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.startsWith('/') || line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    rules.push({ negate, dirOnly, regex: globToRegex(line, anchored) });
  }
  return rules;
}

/** Whether `relPath` (slash-separated, relative to the function folder) stays out of the image. */
export function isExcluded(rules: IgnoreRule[], relPath: string, isDir: boolean): boolean {
  let excluded = false;
  for (const rule of rules) {
    // A dir-only rule excludes the folder and so everything inside it.
    const matches = rule.dirOnly
      ? (isDir && rule.regex.test(relPath)) ||
        relPath
          .split('/')
          .slice(0, -1)
          .some((_, i, parts) => rule.regex.test(parts.slice(0, i + 1).join('/')))
      : rule.regex.test(relPath);
    if (matches) excluded = !rule.negate;
  }
  return excluded;
}

export function readFuncignore(fnDir: string): IgnoreRule[] {
  const file = join(fnDir, '.funcignore');
  return existsSync(file) ? parseIgnore(readFileSync(file, 'utf8')) : [];
}

/** Files of the function folder the pack build receives, relative and slash-separated. */
export function imageFiles(fnDir: string, options: { skip?: string[] } = {}): string[] {
  const rules = readFuncignore(fnDir);
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(fnDir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (options.skip?.includes(path)) continue;
      const isDir = entry.isDirectory();
      if (isExcluded(rules, path, isDir)) continue;
      if (isDir) walk(path);
      else out.push(path);
    }
  };
  walk('');
  return out.sort();
}

/** Copies what the image build would receive into `dest` (plain files; links are followed). */
export function copyImageFiles(fnDir: string, dest: string, options: { skip?: string[] } = {}): string[] {
  const files = imageFiles(fnDir, options);
  for (const file of files) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    copyFileSync(join(fnDir, file), join(dest, file));
  }
  return files;
}

/** Every file below `dir`, relative to it (for checking that .funcignore keeps the bundle). */
export function filesBelow(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => `${prefix}${join(e.parentPath, e.name).slice(dir.length + 1)}`)
    .sort();
}
