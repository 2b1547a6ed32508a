/** Tiny DOM builders: elements are created with properties, never from HTML strings (CSP-safe). */

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** Creates `<tag>` with attributes (`class`, `data-*`, `aria-*`, …) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** `<i class="codicon codicon-NAME" aria-hidden="true">`. */
export function codicon(name: string, extra = ''): HTMLElement {
  return h('i', { class: `codicon codicon-${name}${extra ? ' ' + extra : ''}`, 'aria-hidden': 'true' });
}

/** A toolbar-style icon button (no text), labelled for screen readers and hover. */
export function iconButton(icon: string, label: string, testId?: string): HTMLButtonElement {
  return h('button', { type: 'button', class: 'icon-button', title: label, 'aria-label': label, 'data-testid': testId }, codicon(icon));
}

/** A text button; `secondary` uses the secondary button colours. */
export function textButton(label: string, opts: { icon?: string; secondary?: boolean; testId?: string } = {}): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: `text-button${opts.secondary ? ' secondary' : ''}`, 'data-testid': opts.testId },
    opts.icon ? codicon(opts.icon) : null,
    h('span', {}, label),
  );
}
