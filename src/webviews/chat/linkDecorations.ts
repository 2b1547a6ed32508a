/**
 * Page titles and favicons beside links in finished messages. The host fetches them (through its
 * network layer, behind `multiclaw.chat.linkPreviews` / `multiclaw.chat.favicons`) and sends text and
 * data: URIs; the webview never loads anything from the network. Rendering never waits: a row is
 * drawn at once and decorated when (if) the metadata arrives. Titles go beside links in any message;
 * favicons beside links in agent replies (where tool-call URLs appear).
 *
 * A URL an agent wrote is asked for only when the user points at it, focuses it or clicks it (a URL
 * the user wrote in this conversation is asked for at once, as before): an agent that read a
 * prompt-injected file could otherwise put data in a URL that the preview service would fetch.
 */
import type { ChatViewMessage, LinkMeta } from '../../protocol/chatView';
import { h } from './dom';
import { safeLinkTarget } from './markdown';

const BATCH = 20;
/** What counts as the user's intent to look at a link (pointer, keyboard focus, click). */
const INTENT_EVENTS = ['pointerenter', 'focus', 'click'] as const;

export class LinkDecorations {
  private readonly meta = new Map<string, LinkMeta>();
  private readonly requested = new Set<string>();
  /** URLs the user wrote in this conversation (previewed at once wherever they appear). */
  private readonly userWritten = new Set<string>();
  /** URL -> ids of the messages that show it. */
  private readonly shownIn = new Map<string, Set<string>>();
  /** URLs to ask for, sent together once the current render pass is done. */
  private pending: string[] = [];

  constructor(
    private readonly request: (urls: string[]) => void,
    private readonly invalidate: (messageId: string) => void,
  ) {}

  /** Applies known metadata to the links in `body`, and asks for the unknown ones. */
  decorate(body: HTMLElement, m: ChatViewMessage): void {
    if (m.status === 'streaming') return; // links may still be half-typed
    for (const a of body.querySelectorAll<HTMLAnchorElement>('a[href]')) {
      const url = safeLinkTarget(a.getAttribute('href'));
      if (!url || !/^https?:/i.test(url)) continue;
      let ids = this.shownIn.get(url);
      if (!ids) this.shownIn.set(url, (ids = new Set()));
      ids.add(m.id);
      if (m.role === 'user') this.userWritten.add(url);
      const meta = this.meta.get(url);
      if (meta) apply(a, meta, m.role === 'assistant');
      else if (m.role === 'assistant' && !this.userWritten.has(url)) this.onIntent(a, url);
      else this.want(url);
    }
  }

  /** The metadata the host sent for `url`, if any. */
  get(url: string): LinkMeta | undefined {
    return this.meta.get(url);
  }

  /**
   * A URL a tool call names (web_fetch), shown on its card in message `messageId`: asked for at once —
   * the card asks only for calls the policy let run, whose URL the gateway fetches anyway.
   */
  watch(url: string, messageId: string): void {
    let ids = this.shownIn.get(url);
    if (!ids) this.shownIn.set(url, (ids = new Set()));
    ids.add(messageId);
    this.want(url);
  }

  private want(url: string): void {
    if (this.requested.has(url)) return;
    this.requested.add(url);
    if (this.pending.push(url) === 1) queueMicrotask(() => this.flush());
  }

  /** Asks for an agent-written URL once the user points at, focuses or clicks its link. */
  private onIntent(a: HTMLAnchorElement, url: string): void {
    if (this.requested.has(url) || a.dataset.previewOnIntent === '1') return;
    a.dataset.previewOnIntent = '1';
    const go = (): void => {
      for (const e of INTENT_EVENTS) a.removeEventListener(e, go);
      this.want(url);
    };
    for (const e of INTENT_EVENTS) a.addEventListener(e, go);
  }

  private flush(): void {
    const urls = this.pending;
    this.pending = [];
    for (let i = 0; i < urls.length; i += BATCH) this.request(urls.slice(i, i + BATCH));
  }

  /** New metadata from the host: re-decorate the messages that show the URL. */
  receive(meta: LinkMeta): void {
    this.meta.set(meta.url, meta);
    for (const id of this.shownIn.get(meta.url) ?? []) this.invalidate(id);
  }
}

function apply(a: HTMLAnchorElement, meta: LinkMeta, favicon: boolean): void {
  if (a.dataset.decorated === '1') return;
  a.dataset.decorated = '1';
  if (favicon && meta.favicon) {
    a.prepend(h('img', { class: 'link-favicon', src: meta.favicon, alt: '', width: 16, height: 16, 'data-testid': 'link-favicon' }));
  }
  if (meta.title) {
    const bare = a.textContent?.trim() === a.getAttribute('href') || a.textContent?.trim() === meta.url;
    if (bare) a.after(h('span', { class: 'link-title', 'data-testid': 'link-title' }, ` — ${meta.title}`));
    else a.title = meta.title;
  }
}
