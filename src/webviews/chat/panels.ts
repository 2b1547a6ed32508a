/**
 * The static parts around the transcript: the title row, the gateway banner, the "no agent has a
 * key" notices and the welcome shown for an empty conversation. Each says what to do and offers the
 * button that does it.
 */
import type { ChatState } from '../../protocol/chatView';
import { codicon, h, iconButton, textButton } from './dom';

type GatewayState = ChatState['gatewayState'];
export type HostCommand = 'setProviderKey' | 'openLogs' | 'openSettings' | 'startGateway';

export class TitleBar {
  readonly el: HTMLElement;
  readonly newConversation: HTMLButtonElement;
  private readonly title: HTMLElement;

  constructor() {
    this.title = h('h2', { class: 'title' }, 'New conversation');
    this.newConversation = iconButton('add', 'New Conversation', 'new-conversation');
    this.el = h(
      'header',
      { class: 'title-bar' },
      this.title,
      h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Chat actions' }, this.newConversation),
    );
  }

  setTitle(title: string): void {
    const text = title.trim() || 'New conversation';
    this.title.textContent = text;
    this.title.title = text;
  }
}

/** Shown above the transcript while the gateway is not running. */
export function gatewayBanner(state: GatewayState, run: (c: HostCommand) => void): HTMLElement | null {
  if (state === 'running') return null;
  if (state === 'starting') {
    return h(
      'div',
      { class: 'banner info', role: 'status', 'data-testid': 'gateway-banner' },
      codicon('loading', 'codicon-modifier-spin'),
      h('span', { class: 'banner-text' }, 'Starting the gateway…'),
    );
  }
  const start = textButton('Start Gateway', { testId: 'start-gateway' });
  start.addEventListener('click', () => run('startGateway'));
  const logs = state === 'error' ? textButton('Open Logs', { secondary: true }) : null;
  logs?.addEventListener('click', () => run('openLogs'));
  return h(
    'div',
    { class: `banner ${state === 'error' ? 'error' : 'warning'}`, role: 'status', 'data-testid': 'gateway-banner' },
    codicon(state === 'error' ? 'error' : 'warning'),
    h(
      'span',
      { class: 'banner-text' },
      state === 'error' ? 'The gateway stopped after an error. Agents cannot reply.' : 'The gateway is stopped. Agents cannot reply until it runs.',
    ),
    h('span', { class: 'banner-actions' }, start, logs),
  );
}

/** Full empty state: no agent can run because no provider has a key. */
export function noAgentsState(run: (c: HostCommand) => void): HTMLElement {
  const setKey = textButton('Set Provider API Key', { icon: 'key', testId: 'set-provider-key' });
  setKey.addEventListener('click', () => run('setProviderKey'));
  const settings = textButton('Open Settings', { secondary: true });
  settings.addEventListener('click', () => run('openSettings'));
  return h(
    'div',
    { class: 'empty-state', 'data-testid': 'empty-state' },
    h('div', { class: 'empty-icon' }, codicon('key')),
    h('h3', {}, 'Add an API key to start chatting'),
    h(
      'p',
      {},
      'MultiClaw agents run on OpenAI, Anthropic, Gemini or an OpenAI-compatible server. Set a key for one of them; it is kept in VS Code\u2019s secret storage.',
    ),
    h('div', { class: 'empty-actions' }, setKey, settings),
  );
}

/** Compact form of the same notice, when a conversation is open but no agent has a key any more. */
export function noAgentsBanner(run: (c: HostCommand) => void): HTMLElement {
  const setKey = textButton('Set Provider API Key', { testId: 'set-provider-key' });
  setKey.addEventListener('click', () => run('setProviderKey'));
  return h(
    'div',
    { class: 'banner warning', role: 'status' },
    codicon('key'),
    h('span', { class: 'banner-text' }, 'No agent has an API key.'),
    h('span', { class: 'banner-actions' }, setKey),
  );
}

/** An empty conversation with a usable agent. */
export function welcomeState(agentName: string | undefined): HTMLElement {
  return h(
    'div',
    { class: 'welcome', 'data-testid': 'welcome' },
    h('div', { class: 'empty-icon' }, codicon('hubot')),
    h('h3', {}, agentName ? `Chat with ${agentName}` : 'Start a conversation'),
    h('p', {}, 'Ask about your code, or describe a change. Code blocks in replies can be copied or inserted at the cursor.'),
  );
}
