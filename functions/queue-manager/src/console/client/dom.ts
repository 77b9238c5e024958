/** The two DOM helpers every panel uses: find an element of the page, build one. */

/** An element the page's HTML (page.ts) always has; a missing one is a bug worth an error. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the console page has no #${id}`);
  return node as T;
}

/** `text` becomes textContent and `cls` the class; every other key is an attribute. */
export type Attributes = Record<string, string | undefined>;
export type Child = Node | string | null | undefined;

/** Text from the server only ever goes in as text (textContent or a text node), never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attributes | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (key === 'text') node.textContent = value ?? '';
    else if (key === 'cls') node.className = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
