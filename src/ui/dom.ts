// The few DOM helpers the views share.

/** Escape text for use inside HTML built as a string (the runs table is rendered that way for speed). */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function $(selector: string, root: ParentNode = document): HTMLElement {
  const e = root.querySelector(selector);
  if (!e) throw new Error(`missing element ${selector}`);
  return e as HTMLElement;
}

/** An element with attributes and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/** Show a "what to do" message in place of a view's content. */
export function emptyState(container: HTMLElement, html: string): void {
  container.innerHTML = `<div class="empty">${html}</div>`;
}

/** Call `fn` at most once per animation frame, however often it is asked for. */
export function perFrame(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}
