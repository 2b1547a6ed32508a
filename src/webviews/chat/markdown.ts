/**
 * Markdown for chat messages: markdown-it (raw HTML off, bare URLs linkified), then DOMPurify with a
 * small allow-list. Nothing a message contains can run script, load a resource, or carry an inline
 * style (the CSP forbids them, and a blocked attempt would still be reported as a violation):
 * images become links, table alignment becomes a class, and only http(s)/mailto links survive.
 * Fenced code gets a header with its language and Copy / Insert at Cursor buttons.
 */
import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';

const ALLOWED_TAGS = [
  'p',
  'br',
  'hr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'em',
  's',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'div',
  'span',
  'button',
  'i',
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'type', 'start', 'data-testid', 'aria-label', 'aria-hidden'];
// Attributes that are not URLs: exempt from ALLOWED_URI_REGEXP, which otherwise applies to every value.
const NON_URL_ATTR = ['type', 'start', 'data-testid', 'aria-label', 'aria-hidden'];
const SAFE_URL = /^(?:https?:|mailto:)/i;

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
const escape = (s: string): string => md.utils.escapeHtml(s);

function codeBlock(content: string, info: string): string {
  const lang = info.trim().split(/\s+/)[0] ?? '';
  const label = lang ? escape(lang) : 'plain text';
  const button = (testId: string, icon: string, text: string): string =>
    `<button type="button" class="icon-button" data-testid="${testId}" title="${text}" aria-label="${text}">` +
    `<i class="codicon codicon-${icon}" aria-hidden="true"></i></button>`;
  return (
    `<div class="code-block"><div class="code-header"><span class="code-lang">${label}</span>` +
    `<span class="code-actions">${button('copy-code', 'copy', 'Copy')}${button('insert-code', 'insert', 'Insert at Cursor')}</span></div>` +
    `<pre><code${lang ? ` class="language-${escape(lang)}"` : ''}>${escape(content)}</code></pre></div>\n`
  );
}

md.renderer.rules.fence = (tokens, idx) => codeBlock(tokens[idx].content, tokens[idx].info);
md.renderer.rules.code_block = (tokens, idx) => codeBlock(tokens[idx].content, '');
// An image would be a network load (blocked by the CSP); show it as a link to open instead.
md.renderer.rules.image = (tokens, idx) => {
  const t = tokens[idx];
  const alt = t.children ? t.children.map((c) => c.content).join('') : t.content;
  const src = String(t.attrGet('src') ?? '');
  return `<a href="${escape(src)}" class="image-link"><i class="codicon codicon-file-media" aria-hidden="true"></i>${escape(alt || src)}</a>`;
};
// Table column alignment is emitted as an inline style; turn it into a class.
md.core.ruler.push('align_to_class', (state) => {
  for (const t of state.tokens) {
    if ((t.type !== 'th_open' && t.type !== 'td_open') || !t.attrs) continue;
    const align = /text-align:\s*(left|right|center)/.exec(String(t.attrGet('style') ?? ''))?.[1];
    t.attrs = t.attrs.filter(([name]) => name !== 'style');
    if (align) t.attrJoin('class', `align-${align}`);
  }
});

export function renderMarkdownUncached(text: string): string {
  return DOMPurify.sanitize(md.render(text), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ADD_URI_SAFE_ATTR: NON_URL_ATTR,
    FORBID_ATTR: ['style'],
  });
}

/**
 * Renders markdown blocks with a small LRU cache keyed by the block's text. A streaming message is
 * re-rendered block by block (see markdownBlocks.ts), so every block but the last is a cache hit, and
 * scrolling back over a message costs nothing.
 */
export class MarkdownCache {
  private readonly cache = new Map<string, string>();

  constructor(private readonly limit = 600) {}

  render(text: string): string {
    const hit = this.cache.get(text);
    if (hit !== undefined) {
      this.cache.delete(text);
      this.cache.set(text, hit);
      return hit;
    }
    const html = renderMarkdownUncached(text);
    this.cache.set(text, html);
    if (this.cache.size > this.limit) this.cache.delete(this.cache.keys().next().value as string);
    return html;
  }
}

/** Only these URLs are handed to the host to open; everything else is inert text. */
export function safeLinkTarget(href: string | null): string | undefined {
  if (!href || !SAFE_URL.test(href)) return undefined;
  try {
    return new URL(href).href;
  } catch {
    return undefined;
  }
}
