/**
 * The cloud desktop viewer webview: connection state machine (Connecting → Connected · direct|relay,
 * Reconnecting with backoff, Failed with the reason and Diagnose), the toolbar (reconnect, fit / 1:1,
 * quality, full screen, keyboard) and the overlay (fps, latency, direct/relay). Signalling and TURN
 * credentials come from the extension host; this page holds the RTCPeerConnection itself.
 */
import './viewer.css';
import { hostToViewerSchema, type DesktopStatus, type HostToViewer, type QualityLevel, type ViewerState, type ViewerToHost } from '../../protocol/viewer';
import { now, ViewerPeer } from './peer';
import { Screen } from './screen';

interface VsCodeApi {
  postMessage(m: ViewerToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (m: ViewerToHost): void => vscode.postMessage(m);

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const button = (icon: string, title: string, testid: string): HTMLButtonElement => {
  const b = el('button', 'tool');
  b.title = title;
  b.setAttribute('aria-label', title);
  b.setAttribute('data-testid', testid);
  b.appendChild(el('span', `codicon codicon-${icon}`));
  return b;
};

// ── layout
const root = el('div', 'viewer');
const toolbar = el('div', 'toolbar');
const title = el('span', 'title', 'Cloud desktop');
const chip = el('span', 'chip');
chip.setAttribute('data-testid', 'state');
const spacer = el('span', 'spacer');
const bReconnect = button('refresh', 'Reconnect', 'reconnect');
const bFit = button('screen-normal', 'Actual size (1:1)', 'fit');
const quality = el('select', 'quality');
quality.title = 'Quality';
quality.setAttribute('data-testid', 'quality');
for (const q of ['auto', 'high', 'medium', 'low'] as const) {
  const o = el('option', undefined, q === 'auto' ? 'Quality: auto' : `Quality: ${q}`);
  o.value = q;
  quality.appendChild(o);
}
const bKeyboard = button('keyboard', 'Release keyboard (Ctrl+Alt+R)', 'keyboard');
bKeyboard.hidden = true;
const bFull = button('screen-full', 'Full screen', 'fullscreen');
toolbar.append(title, chip, spacer, bKeyboard, quality, bFit, bFull, bReconnect);
const stage = el('div', 'stage');
const overlay = el('div', 'overlay');
overlay.setAttribute('data-testid', 'overlay');
const watchOnly = el('div', 'watch-only', 'View only: your role can watch this desktop, not type.');
watchOnly.hidden = true;
const panel = el('div', 'panel');
panel.setAttribute('data-testid', 'panel');
const panelIcon = el('span', 'codicon');
const panelText = el('div', 'panel-text');
const panelDetail = el('div', 'panel-detail');
const panelActions = el('div', 'panel-actions');
const bRetry = el('button', 'primary', 'Retry');
bRetry.setAttribute('data-testid', 'retry');
const bDiagnose = el('button', 'secondary', 'Diagnose');
bDiagnose.setAttribute('data-testid', 'diagnose');
panelActions.append(bRetry, bDiagnose);
panel.append(panelIcon, panelText, panelDetail, panelActions);
stage.append(overlay, watchOnly, panel);
root.append(toolbar, stage);
document.body.appendChild(root);
const screen = new Screen(stage);

// ── state
let peer: ViewerPeer | undefined;
let sessionId: string | undefined;
let state: ViewerState = 'connecting';
let relay = false;
let relayProto = '';
let attempt = 0;
let retryTimer: number | undefined;
let mayControl = false;
let desktop: DesktopStatus | undefined;
let qualityLevel: QualityLevel = 'auto';
const drawTimes: number[] = [];
const sendToDraw: number[] = [];
const captureToDraw: number[] = [];
let frames = 0;
let stalls = 0;
let lastDraw = 0;
let rttMs: number | null = null;
const BACKOFF = [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000];

const p50 = (a: number[]): number | null => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.floor(s.length / 2)] * 10) / 10;
};
const fps = (): number => {
  const t = now();
  while (drawTimes.length && t - drawTimes[0] > 1000) drawTimes.shift();
  return drawTimes.length;
};

function setState(s: ViewerState, detail?: string): void {
  state = s;
  root.dataset.state = s;
  const label =
    s === 'connected'
      ? `Connected · ${relay ? `relay${relayProto ? ` (${relayProto})` : ''}` : 'direct'}`
      : s === 'connecting'
        ? 'Connecting…'
        : s === 'reconnecting'
          ? `Reconnecting… (attempt ${attempt})`
          : 'Failed';
  chip.textContent = label;
  chip.className = `chip ${s}`;
  panel.hidden = s === 'connected';
  panelIcon.className = `codicon ${s === 'failed' ? 'codicon-error' : 'codicon-loading codicon-modifier-spin'}`;
  panelText.textContent =
    s === 'failed' ? 'Could not connect to the desktop' : s === 'reconnecting' ? 'Reconnecting to the desktop…' : 'Connecting to the desktop…';
  panelDetail.textContent = detail ?? '';
  panelActions.hidden = s !== 'failed';
  post({ type: 'state', state: s, detail, relay });
}

function connect(reason: string): void {
  if (retryTimer !== undefined) window.clearTimeout(retryTimer);
  retryTimer = undefined;
  peer?.close();
  peer = undefined;
  post({ type: 'connect', reason });
}

/** The session dropped: reconnect with backoff, or fail after the last attempt. */
function lost(why: string, retry: boolean): void {
  peer?.close();
  peer = undefined;
  sessionId = undefined;
  if (!retry || attempt >= BACKOFF.length) {
    setState('failed', why);
    return;
  }
  const delay = BACKOFF[attempt++];
  setState('reconnecting', why);
  if (retryTimer !== undefined) window.clearTimeout(retryTimer);
  retryTimer = window.setTimeout(() => connect(`retry after: ${why}`), delay);
}

function onStart(m: Extract<HostToViewer, { type: 'start' }>): void {
  peer?.close();
  sessionId = m.sessionId;
  mayControl = m.mayControl;
  watchOnly.hidden = mayControl;
  title.textContent = m.instance.name;
  relay = m.iceTransportPolicy === 'relay';
  if (state !== 'reconnecting') setState('connecting');
  const id = m.sessionId;
  const p = new ViewerPeer(m, {
    signal: (kind, payload) => post({ type: 'signal', sessionId: id, kind, payload }),
    frame: (bmp, sentAt, capturedAt) => {
      screen.draw(bmp);
      const t = now();
      if (lastDraw && t - lastDraw > 1000 && state === 'connected') stalls++;
      lastDraw = t;
      frames++;
      drawTimes.push(t);
      sendToDraw.push(t - sentAt);
      captureToDraw.push(t - capturedAt);
      if (sendToDraw.length > 600) sendToDraw.shift();
      if (captureToDraw.length > 600) captureToDraw.shift();
    },
    status: (s) => {
      desktop = s;
      if (!s.hasControl && mayControl && s.mayControl) p.sendInput({ t: 'control', take: true });
    },
    up: () => {
      attempt = 0;
      lastDraw = now();
      void refreshStats().then(() => setState('connected'));
    },
    down: (why) => {
      if (sessionId === id) lost(why, true);
    },
  });
  peer = p;
  p.offer().catch((err: unknown) => lost(`could not start WebRTC: ${err instanceof Error ? err.message : String(err)}`, false));
}

async function refreshStats(): Promise<void> {
  const p = peer;
  const id = sessionId;
  if (!p || !id) return;
  try {
    const s = await p.stats({ fps: fps(), frames, sendToDrawP50Ms: p50(sendToDraw), stalls });
    if (s.pair) {
      relay = s.pair.local.type === 'relay' || s.pair.remote.type === 'relay';
      relayProto = s.pair.local.type === 'relay' ? (s.pair.local.relayProtocol ?? '') : '';
      rttMs = s.pair.rttMs;
    }
    post({ type: 'stats', sessionId: id, stats: s });
  } catch {
    // closed meanwhile
  }
}

function renderOverlay(): void {
  if (state !== 'connected') {
    overlay.textContent = '';
    return;
  }
  if (lastDraw && now() - lastDraw > 1000) stalls += 0; // counted when the next frame arrives
  const parts = [`${fps()} fps`, rttMs !== null ? `${rttMs} ms` : '— ms', relay ? `Relay${relayProto ? ` ${relayProto.toUpperCase()}` : ''}` : 'Direct'];
  if (desktop) parts.push(desktop.hasControl ? 'You have control' : desktop.mayControl ? 'Watching' : 'View only');
  overlay.textContent = parts.join(' · ');
}
setInterval(renderOverlay, 500);
setInterval(() => {
  if (state === 'connected') void refreshStats().then(() => setState('connected'));
}, 2000);

// ── input
screen.onInput = (e) => {
  if (!peer || !mayControl) return;
  if (desktop && !desktop.hasControl && (e.t === 'button' || e.t === 'key')) peer.sendInput({ t: 'control', take: true });
  peer.sendInput(e);
};
screen.onCaptureChange = (on) => {
  bKeyboard.hidden = !on || !mayControl;
};

// ── toolbar
bReconnect.onclick = () => {
  attempt = 0;
  setState('connecting');
  connect('reconnect button');
};
bRetry.onclick = bReconnect.onclick;
bDiagnose.onclick = () => post({ type: 'diagnose' });
bFit.onclick = () => {
  const actual = screen.fitMode === 'fit';
  screen.setFit(actual ? 'actual' : 'fit');
  bFit.title = actual ? 'Fit to window' : 'Actual size (1:1)';
  bFit.firstElementChild?.setAttribute('class', `codicon codicon-${actual ? 'screen-full' : 'screen-normal'}`);
};
quality.onchange = () => {
  qualityLevel = quality.value as QualityLevel;
  peer?.setQuality(qualityLevel);
};
bKeyboard.onclick = () => {
  screen.setCaptured(false);
  screen.canvas.blur();
};
bFull.onclick = () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void root.requestFullscreen().catch(() => root.classList.toggle('pseudo-full'));
};
window.addEventListener('online', () => {
  if (state !== 'connected') connect('network is back');
});

// ── host messages
window.addEventListener('message', (ev: MessageEvent) => {
  const r = hostToViewerSchema.safeParse(ev.data);
  if (!r.success) return;
  const m = r.data;
  switch (m.type) {
    case 'start':
      onStart(m);
      return;
    case 'signal':
      if (m.sessionId === sessionId) void peer?.onSignal(m);
      return;
    case 'unavailable':
      lost(m.reason, m.retry);
      return;
    case 'desktopOnline':
      if (state === 'reconnecting' || state === 'failed') {
        attempt = 0;
        connect('the desktop is back online');
      }
      return;
  }
});

/** Read by the tests (and handy in the webview's dev tools). */
(window as unknown as { multiclawViewer: unknown }).multiclawViewer = {
  get state() {
    return state;
  },
  get relay() {
    return relay;
  },
  get frames() {
    return frames;
  },
  get fps() {
    return fps();
  },
  stats: () => ({ frames, stalls, sendToDraw: [...sendToDraw], captureToDraw: [...captureToDraw], fps: fps() }),
  pair: async () => (peer ? (await peer.stats({ fps: fps(), frames, sendToDrawP50Ms: p50(sendToDraw), stalls })).pair : null),
  canvas: screen.canvas,
  map: (x: number, y: number) => screen.map(x, y),
};

setState('connecting');
post({ type: 'ready' });
