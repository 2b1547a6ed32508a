/**
 * The chat view: owns the state the host sent (agents, conversation, a page of messages), applies
 * notifications to it, and turns user actions into protocol commands. Rendering is split out: the
 * transcript is a VirtualList of messageView rows, the input is the Composer, the rest is panels.ts.
 */
import {
  providerIdSchema,
  type AgentInfo,
  type ChatNotificationParams,
  type ChatState,
  type ChatViewMessage,
  type ConversationInfo,
} from '../../protocol/chatView';
import { AgentUi } from './agentUi';
import { Composer } from './composer';
import { ContextBar } from './contextBar';
import { codicon, h } from './dom';
import { HostClient, type NotificationHandlers } from './hostClient';
import { LinkDecorations } from './linkDecorations';
import { warn } from './log';
import { MarkdownCache, safeLinkTarget } from './markdown';
import { MessageActions } from './messageActions';
import { renderMarkdownInto } from './markdownBlocks';
import { estimateMessageHeight, renderMessage, updateMessage, type MessageContext } from './messageView';
import { TitleBar, gatewayBanner, noAgentsBanner, noAgentsState, welcomeState, type HostCommand } from './panels';
import { UsageSummary } from './usageView';
import { slashSend } from './slashSend';
import { readViewState, type ChatViewState } from './viewState';
import { VirtualList } from './virtualList';
import type { VsCodeApi } from './vscodeApi';

export interface ChatAppOptions {
  /** false renders every message (benchmark baseline only). */
  readonly windowed: boolean;
}

const OLDER_PAGE = 200;
const OLDER_RETRY_MS = 5000;
const SAVE_DELAY_MS = 250;

export class ChatApp {
  private agents: AgentInfo[] = [];
  private selectedAgentId: string | null = null;
  private conversation: ConversationInfo = { id: null, title: '', agentId: null, locked: false, messageCount: 0 };
  private firstIndex = 0;
  private busy = false;
  private gateway: ChatState['gatewayState'] = 'running';
  private ready = false;
  private loadingOlder = false;
  private olderFailedAt = 0;
  private saveTimer = 0;
  private readonly saved: ChatViewState | undefined;

  private readonly client: HostClient;
  private readonly markdown = new MarkdownCache();
  private readonly links = new LinkDecorations(
    (urls) => this.client.command('chat/linkMeta', { urls }),
    (id) => this.list.invalidate(id),
  );
  private readonly list: VirtualList<ChatViewMessage>;
  private readonly composer: Composer;
  private readonly contextBar: ContextBar;
  private readonly agentUi: AgentUi;
  private readonly actions: MessageActions;
  private readonly titleBar = new TitleBar();
  private readonly usage = new UsageSummary();
  private readonly banners = h('div', { class: 'banners' });
  private readonly overlay = h('div', { class: 'overlay' });
  private readonly olderProgress = h('div', { class: 'progress-bar', role: 'progressbar', 'aria-label': 'Loading older messages', hidden: true });
  private readonly transcript = h('div', {
    class: 'transcript',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-label': 'Conversation',
    tabindex: 0,
  });
  private readonly canvas = h('div', { class: 'transcript-canvas' });

  constructor(
    root: HTMLElement,
    private readonly api: VsCodeApi<ChatViewState>,
    options: ChatAppOptions,
  ) {
    this.saved = readViewState(api.getState());
    const ctx: MessageContext = {
      agentName: (id) => this.agentName(id),
      agentProvider: (id) => this.agents.find((a) => a.id === (id ?? this.conversation.agentId))?.provider,
      renderMarkdown: (container, text) => renderMarkdownInto(container, text, this.markdown),
      position: (i) => ({ pos: this.firstIndex + i + 1, size: Math.max(this.conversation.messageCount, this.firstIndex + this.list.length) }),
      decorateLinks: (body, m) => this.links.decorate(body, m),
      toolCards: {
        isExpanded: (id) => this.agentUi.cards.isExpanded(id),
        setExpanded: (id, open) => this.agentUi.cards.setExpanded(id, open),
        favicon: (url) => this.agentUi.cards.favicon(url),
        wantFavicon: (url, messageId) => this.agentUi.cards.wantFavicon(url, messageId),
      },
      neighbour: (i, offset) => this.list.at(i + offset),
    };
    this.list = new VirtualList<ChatViewMessage>({
      scroller: this.transcript,
      canvas: this.canvas,
      windowed: options.windowed,
      render: (m, i) => renderMessage(m, i, ctx),
      update: (el, m, i) => updateMessage(el, m, ctx, i),
      estimate: estimateMessageHeight,
      onNearTop: () => this.loadOlder(),
      onScroll: () => this.scheduleSave(),
    });
    this.contextBar = new ContextBar((method, params) => this.client.command(method, params));
    this.composer = new Composer(
      {
        send: (text, agentId) => {
          const out = slashSend(text, agentId, this.composer.slash.skillNames, this.contextBar.attachment());
          if (typeof out === 'string') return out;
          const sent = out.newConversation ? this.client.command('chat/newConversation', {}) : this.client.command('chat/send', out.params);
          if (sent) this.list.scrollToBottom();
          return sent;
        },
        stop: () => this.client.command('chat/stop', {}),
        selectAgent: (agentId) => {
          this.selectedAgentId = agentId;
          this.client.command('chat/selectAgent', { agentId });
          this.refreshChrome();
        },
        draftChanged: () => this.scheduleSave(),
        edit: (messageId, text) => {
          const sent = this.client.command('chat/edit', { messageId, text });
          if (sent) this.list.scrollToBottom();
          return sent;
        },
        editLast: () => this.actions.editLast(),
      },
      this.contextBar.el,
    );
    this.client = new HostClient(api, this.handlers());
    this.agentUi = new AgentUi({
      command: (method, params) => this.client.command(method, params),
      links: this.links,
      list: this.list,
      transcript: this.transcript,
      input: this.composer.input,
    });

    this.actions = new MessageActions({
      command: (method, params) => this.client.command(method, params),
      list: this.list,
      beginEdit: (id, text) => this.composer.beginEdit(id, text),
      isBusy: () => this.busy,
    });

    this.transcript.append(this.canvas);
    root.replaceChildren(
      this.titleBar.el,
      this.usage.el,
      this.banners,
      h('main', { class: 'main' }, this.olderProgress, this.transcript, this.overlay),
      this.agentUi.changes.el,
      this.composer.el,
    );
    if (this.saved) this.composer.setDraft(this.saved.draft);
    this.wireEvents();
    this.refreshChrome();
  }

  start(): void {
    this.client.request('chat/ready', {}).then(
      (state) => this.applyState(state, true),
      (err: unknown) => warn('chat/ready failed', err),
    );
  }

  private handlers(): NotificationHandlers {
    return {
      'chat/reset': (s) => this.applyState(s, false),
      'chat/agents': (p) => {
        this.agents = p.agents;
        this.selectedAgentId = p.selectedAgentId;
        this.list.invalidateAll();
        this.refreshChrome();
      },
      'chat/conversation': (c) => {
        // The totals come with `chat/usage`: keep them while it is the same conversation.
        const usage = c.usage ?? (c.id !== null && c.id === this.conversation.id ? this.conversation.usage : undefined);
        this.conversation = usage ? { ...c, usage } : c;
        this.refreshChrome();
      },
      'chat/messageAdded': (m) => {
        if (this.list.indexOf(m.id) >= 0) return warn(`duplicate message ${m.id}`);
        const prev = this.list.at(this.list.length - 1);
        this.list.append(m);
        // The previous message is no longer the last (Regenerate), and a reply may continue in this one: re-render it.
        if (prev) this.list.invalidate(prev.id);
        if (m.role === 'user') this.list.scrollToBottom();
        this.refreshChrome();
      },
      'chat/delta': (d) => {
        const m = this.message(d.messageId);
        if (!m) return;
        m.text += d.text;
        this.list.invalidate(m.id);
      },
      'chat/messageUpdated': (u) => this.updateMessage(u),
      'chat/messageRemoved': (r) => {
        const i = this.list.indexOf(r.messageId);
        const around = [this.list.at(i - 1), this.list.at(i + 1)];
        this.list.remove(r.messageId);
        for (const n of around) if (n && i >= 0) this.list.invalidate(n.id);
        this.refreshChrome();
      },
      'chat/busy': (b) => this.setBusy(b.busy),
      'chat/gateway': (g) => {
        this.gateway = g.state;
        this.refreshChrome();
      },
      'chat/focusInput': () => this.composer.focus(),
      'chat/linkMeta': (meta) => this.links.receive(meta),
      'chat/toolCall': (p) => this.agentUi.upsert(p.call),
      'chat/changes': (p) => this.agentUi.changes.set(p.files),
      'chat/sendRefused': (r) => this.composer.refused(r.reason),
      'chat/usage': (p) => {
        if (p.conversationId !== this.conversation.id) return;
        this.conversation = { ...this.conversation, usage: p.usage };
        this.usage.set(p.usage);
      },
      'chat/context': (p) => {
        this.contextBar.set(p);
        this.composer.slash.setSkills(p.skills ?? []);
      },
    };
  }

  private applyState(s: ChatState, fromReady: boolean): void {
    this.ready = true;
    this.agents = s.agents;
    this.selectedAgentId = s.selectedAgentId;
    this.conversation = s.conversation;
    this.firstIndex = s.firstIndex;
    this.gateway = s.gatewayState;
    this.setBusy(s.busy);
    const editing = this.composer.editingId;
    if (editing && !s.messages.some((m) => m.id === editing)) this.composer.cancelEdit();
    const restore = fromReady && this.saved && this.saved.conversationId === s.conversation.id ? this.saved.scroll : { pinned: true as const };
    this.refreshChrome(s.messages.length);
    this.list.reset(s.messages, restore);
    this.agentUi.reset(s.messages, s.changes);
    // Lay out now rather than on the next frame, so the transcript is in the very next paint.
    this.list.flush();
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.composer.setBusy(busy);
    this.transcript.classList.toggle('busy', busy);
  }

  private updateMessage(u: ChatNotificationParams<'chat/messageUpdated'>): void {
    const m = this.message(u.messageId);
    if (!m) return;
    m.status = u.status;
    if (u.finishReason !== undefined) m.finishReason = u.finishReason;
    if (u.usage !== undefined) m.usage = u.usage;
    if (u.error !== undefined) m.error = u.error;
    else if (u.status !== 'error') delete m.error;
    this.list.invalidate(m.id);
  }

  private message(id: string): ChatViewMessage | undefined {
    const i = this.list.indexOf(id);
    if (i < 0) warn(`unknown message ${id}`);
    return this.list.at(i);
  }

  private agentName(id: string | undefined): string {
    const agent = this.agents.find((a) => a.id === (id ?? this.conversation.agentId));
    return agent?.name ?? id ?? 'Assistant';
  }

  /** Everything except the transcript rows: title, banners, empty states, the composer's picker. */
  private refreshChrome(messageCount = this.list.length): void {
    this.titleBar.setTitle(this.conversation.title);
    this.usage.set(this.conversation.usage);
    const run = (command: HostCommand): void => void this.client.command('chat/command', { command });
    const anyAvailable = this.agents.some((a) => a.available);
    const empty = messageCount === 0 && this.firstIndex === 0;
    this.banners.replaceChildren(
      ...[this.ready ? gatewayBanner(this.gateway, run) : null, this.ready && !anyAvailable && !empty ? noAgentsBanner(run) : null].filter(
        (e): e is HTMLElement => e !== null,
      ),
    );
    const selected = this.agents.find((a) => a.id === (this.conversation.agentId ?? this.selectedAgentId));
    const overlay = !this.ready || !empty ? null : anyAvailable ? welcomeState(selected?.name) : noAgentsState(run);
    const current = this.overlay.firstElementChild;
    if (!overlay) this.overlay.replaceChildren();
    else if (!current || current.className !== overlay.className || current.textContent !== overlay.textContent) this.overlay.replaceChildren(overlay);
    this.overlay.hidden = !overlay;
    this.transcript.hidden = !!overlay;
    const pickerAgentId = this.conversation.locked ? (this.conversation.agentId ?? this.selectedAgentId) : this.selectedAgentId;
    this.composer.setAgents(this.agents, pickerAgentId, this.conversation.locked);
  }

  private loadOlder(): void {
    if (!this.ready || this.loadingOlder || this.firstIndex <= 0 || Date.now() - this.olderFailedAt < OLDER_RETRY_MS) return;
    const before = this.firstIndex;
    const conversationId = this.conversation.id;
    this.loadingOlder = true;
    this.olderProgress.hidden = false;
    this.client
      .request('chat/loadOlder', { beforeIndex: before, limit: Math.min(OLDER_PAGE, before) })
      .then((r) => {
        // A reset (new or switched conversation) while the request was out makes the page stale.
        if (this.conversation.id !== conversationId || this.firstIndex !== before) return;
        const known = new Set<string>();
        for (let i = 0; i < this.list.length; i++) known.add(this.list.at(i)?.id ?? '');
        this.firstIndex = r.firstIndex;
        this.list.prepend(r.messages.filter((m) => !known.has(m.id)));
      })
      .catch((err: unknown) => {
        this.olderFailedAt = Date.now();
        warn('chat/loadOlder failed', err);
      })
      .finally(() => {
        this.loadingOlder = false;
        this.olderProgress.hidden = true;
      });
  }

  private wireEvents(): void {
    this.titleBar.newConversation.addEventListener('click', () => this.client.command('chat/newConversation', {}));
    this.canvas.addEventListener('click', (e) => this.onTranscriptClick(e));
    // Middle-click on a link would otherwise try to open it in a new browsing context.
    this.canvas.addEventListener('auxclick', (e) => this.onTranscriptClick(e));
    document.addEventListener('keydown', (e) => {
      if (this.agentUi.onKeydown(e)) return;
      if (e.key === 'Escape' && this.busy && !e.defaultPrevented) {
        e.preventDefault();
        this.client.command('chat/stop', {});
      }
    });
    // Nothing in the webview may navigate it: every other link is inert.
    document.addEventListener('click', (e) => {
      if (!e.defaultPrevented && e.target instanceof Element && e.target.closest('a')) e.preventDefault();
    });
    const saveNow = (): void => this.save();
    window.addEventListener('pagehide', saveNow);
    document.addEventListener('visibilitychange', saveNow);
  }

  private onTranscriptClick(e: MouseEvent): void {
    if (!(e.target instanceof Element)) return;
    const link = e.target.closest('a');
    if (link) {
      e.preventDefault();
      const url = safeLinkTarget(link.getAttribute('href'));
      if (url) this.client.command('chat/openLink', { url });
      return;
    }
    if (e.type !== 'click') return;
    const button = e.target.closest('button[data-testid]');
    if (!(button instanceof HTMLButtonElement)) return;
    if (this.agentUi.onClick(button) || this.actions.onClick(button)) return;
    const action = button.dataset.testid;
    if (action === 'copy-code' || action === 'insert-code') {
      const text = button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
      this.client.command(action === 'copy-code' ? 'chat/copy' : 'chat/insertAtCursor', { text });
      if (action === 'copy-code') flashCopied(button);
    } else if (action === 'set-key') {
      const provider = providerIdSchema.safeParse(button.dataset.provider);
      this.client.command('chat/command', { command: 'setProviderKey', ...(provider.success ? { provider: provider.data } : {}) });
    } else if (action === 'retry') {
      const id = button.closest<HTMLElement>('[data-message-id]')?.dataset.messageId;
      if (id) this.client.command('chat/retry', { messageId: id });
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer === 0) this.saveTimer = window.setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  private save(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = 0;
    // Before the host's state arrived there is no position of ours yet: keep the saved one.
    const conversationId = this.ready ? this.conversation.id : (this.saved?.conversationId ?? null);
    const scroll = this.ready ? this.list.position() : (this.saved?.scroll ?? { pinned: true as const });
    this.api.setState({ draft: this.composer.input.value, conversationId, scroll });
  }
}

function flashCopied(button: HTMLButtonElement): void {
  button.replaceChildren(codicon('check'));
  button.setAttribute('aria-label', 'Copied');
  window.setTimeout(() => {
    button.replaceChildren(codicon('copy'));
    button.setAttribute('aria-label', 'Copy');
  }, 1500);
}
