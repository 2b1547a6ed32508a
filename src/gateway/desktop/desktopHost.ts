/**
 * The cloud desktop: the X display, its capture and input, one ViewerSession per viewer, the status it
 * reports to the workspace and the lifecycle commands it carries out. It lives beside the headless
 * Gateway (`multiclaw desktop`) and talks to the workspace only through the gateway's link (signalling,
 * `instance.report`, TURN credentials, `instance.command` events).
 *
 * Status: starting → online (idle) / running (tasks running); stopped after Stop (display, capture and
 * agents off; data kept); error with the reason when the display or capture fails. Tasks assigned to this
 * desktop are run by the link's TaskRunner as soon as they arrive while the desktop is up.
 */
import { randomUUID } from 'node:crypto';
import type { InstanceStatus, LifecycleAction } from '../../protocol/workspace/common';
import type { ServerSignalFrame } from '../../protocol/workspace/frames';
import { turnCredentialsSchema, type TurnCredentials } from '../../protocol/workspace/models';
import type { QualityLevel } from '../../protocol/viewer';
import type { ConnectionLedger, LedgerEntry } from '../net/ledger';
import type { Logger } from '../ports';
import { Disposable, DisposableStore, Emitter, type Event } from '../util/disposable';
import type { WorkspaceLink } from '../workspace/workspaceLink';
import { errorMessage } from '../errors';
import { ScreenCapture } from './capture';
import { XDisplay, type DisplayOptions } from './display';
import { Adapter, LEVELS } from './frameSender';
import { InputInjector } from './input';
import { ViewerSession, type IceServer } from './viewerSession';

export interface DesktopHostOptions extends DisplayOptions {
  fps: number;
  label?: string;
  logger: Logger;
  ledger: ConnectionLedger;
  /** Local tasks running now (the `running` status). */
  runningTasks: () => number;
  /** Called after Terminate: remove this desktop's data and exit. */
  onTerminate: () => Promise<void>;
  /** TURN transport for the desktop's own peer: `udp` (default), `tcp` or `tls`. */
  turnTransport?: 'udp' | 'tcp' | 'tls';
  /** Rewrites the TURN URLs the desktop uses (the gateway's loopback CONNECT forwarder when a proxy applies). */
  mapTurnUrl?: (url: string) => Promise<string>;
  xdotool?: string;
  ffmpeg?: string;
}

const MANUAL_LEVEL: Record<Exclude<QualityLevel, 'auto'>, number> = { high: 0, medium: 2, low: 3 };

export class DesktopHost extends Disposable {
  readonly display: XDisplay;
  private capture: ScreenCapture | undefined;
  private input: InputInjector | undefined;
  private readonly sessions = new Map<string, ViewerSession>();
  private readonly sessionSubs = new Map<string, DisposableStore>();
  private _status: InstanceStatus = 'starting';
  private reason: string | null = null;
  private reported: string | undefined;
  private readonly adapter = new Adapter();
  private quality: QualityLevel = 'auto';
  private level = 0;
  private levelChangedAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;
  private turn: { creds: TurnCredentials; until: number } | undefined;
  private readonly started = new Set<string>();
  private transition: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly statusEmitter = this._register(new Emitter<InstanceStatus>());
  readonly onDidChangeStatus: Event<InstanceStatus> = this.statusEmitter.event;

  constructor(
    private readonly link: WorkspaceLink,
    private readonly o: DesktopHostOptions,
  ) {
    super();
    this.log = o.logger.child('desktop');
    this.display = this._register(new XDisplay(o, this.log.child('display')));
    this._register(this.display.onDidExit((why) => void this.fail(why)));
    this._register(link.onDidReceiveSignal((f) => void this.onSignal(f)));
    this._register(
      link.onDidReceiveEvent((e) => {
        if (e.name === 'instance.command' && e.data.instanceId === link.instance?.id) void this.command(e.data.action);
      }),
    );
    this._register(link.onDidChangeConnected((up) => up && void this.report(true)));
    this._register(link.onDidChangeTasks(() => this.runAssigned()));
    this.tick = setInterval(() => this.everySecond(), 1000);
  }

  get status(): InstanceStatus {
    return this._status;
  }

  get viewers(): number {
    return this.sessions.size;
  }

  get size(): { width: number; height: number } {
    return { width: this.o.width, height: this.o.height };
  }

  /** Brings the display up (status starting → online). */
  start(): Promise<void> {
    return this.serial(async () => {
      if (this._status !== 'stopped' && this._status !== 'starting' && this._status !== 'error' && this.display.running) return;
      this.setStatus('starting', null);
      try {
        const name = await this.display.start();
        this.input = new InputInjector(name, () => this.size, this.log.child('input'), this.o.xdotool);
        this.capture = new ScreenCapture({ display: name, width: this.o.width, height: this.o.height, fps: this.o.fps, ffmpeg: this.o.ffmpeg }, this.log);
        this.capture.onDidCapture((f) => {
          for (const s of this.sessions.values()) s.offer(f);
        });
        this.capture.onDidFail((why) => this.log.warn(why));
        this.setStatus(this.o.runningTasks() > 0 ? 'running' : 'online', null);
        this.runAssigned();
      } catch (err) {
        this.setStatus('error', errorMessage(err));
      }
    });
  }

  /** Display, capture and agents off; viewers are told; data is kept. */
  stop(): Promise<void> {
    return this.serial(async () => {
      await this.tearDown('the desktop was stopped');
      this.setStatus('stopped', null);
    });
  }

  private async tearDown(why: string): Promise<void> {
    for (const id of [...this.sessions.keys()]) this.endSession(id, true);
    this.capture?.dispose();
    this.capture = undefined;
    this.input?.dispose();
    this.input = undefined;
    await this.display.stop();
    for (const t of this.link.workspaceTasks?.list() ?? []) {
      if (this.link.runner?.activeRun(t.id)) await this.link.runner.cancel(t.id).catch(() => undefined);
    }
    this.log.info(why);
  }

  private async command(action: LifecycleAction): Promise<void> {
    this.log.info(`lifecycle command: ${action}`);
    switch (action) {
      case 'start':
        return this.start();
      case 'stop':
        return this.stop();
      case 'restart':
        await this.stop();
        return this.start();
      case 'terminate':
        await this.serial(() => this.tearDown('terminated: removing this desktop'));
        await this.o.onTerminate();
        return;
    }
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.transition.then(fn, fn);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private async fail(why: string): Promise<void> {
    this.log.error(why);
    await this.serial(() => this.tearDown('the display failed'));
    this.setStatus('error', why);
  }

  private setStatus(s: InstanceStatus, reason: string | null): void {
    const changed = s !== this._status || reason !== this.reason;
    this._status = s;
    this.reason = reason;
    if (changed) {
      this.statusEmitter.fire(s);
      void this.report();
    }
  }

  /** Tells the workspace the status (and label); `force` after a reconnect. */
  private async report(force = false): Promise<void> {
    const key = `${this._status}|${this.reason}|${this.o.label}`;
    if (!force && key === this.reported) return;
    if (!this.link.isConnected) return;
    this.reported = key;
    try {
      await this.link.request('instance.report', { status: this._status, reason: this.reason, ...(this.o.label ? { label: this.o.label } : {}) });
    } catch (err) {
      this.reported = undefined;
      this.log.warn(`could not report the status: ${errorMessage(err)}`);
    }
  }

  /** Runs each workspace task assigned to this desktop once, while the desktop is up. */
  private runAssigned(): void {
    if (this._status !== 'online' && this._status !== 'running') return;
    const tasks = this.link.workspaceTasks;
    const runner = this.link.runner;
    if (!tasks || !runner) return;
    for (const t of tasks.list()) {
      if (this.started.has(t.id) || !tasks.isAssignedHere(t) || t.assignee?.type !== 'instance') continue;
      if (t.status !== 'assigned' && t.status !== 'queued') continue;
      if (runner.localRuns(t.id).length) continue;
      this.started.add(t.id);
      runner.run(t.id).catch((err: unknown) => {
        this.log.warn(`could not run task ${t.id}: ${errorMessage(err)}`);
        void runner.update(t.id, { status: 'failed', result: { summary: 'Could not start on the cloud desktop', error: errorMessage(err) } });
      });
    }
  }

  // --- viewers ---------------------------------------------------------------------------------------
  private async onSignal(f: ServerSignalFrame): Promise<void> {
    const reply = (kind: 'answer' | 'ice' | 'bye', payload: Record<string, unknown>) =>
      this.link.sendSignal({ sessionId: f.sessionId, kind, to: { connectionId: f.from.connectionId }, payload });
    const existing = this.sessions.get(f.sessionId);
    if (existing && existing.peer.connectionId !== f.from.connectionId) return; // someone else's session id
    try {
      switch (f.kind) {
        case 'offer': {
          if (this._status !== 'online' && this._status !== 'running') {
            reply('bye', {});
            return;
          }
          if (existing) this.endSession(f.sessionId, false);
          if (!f.payload.sdp) return;
          const s = await this.openSession(f, (kind, payload) => reply(kind, payload));
          await s.onOffer(f.payload.sdp);
          return;
        }
        case 'ice':
          if (existing && f.payload.candidate)
            await existing.onCandidate({ candidate: f.payload.candidate, sdpMid: f.payload.sdpMid, sdpMLineIndex: f.payload.sdpMLineIndex });
          return;
        case 'bye':
          if (existing) this.endSession(f.sessionId, false);
          return;
        case 'answer':
          return; // the desktop never offers
      }
    } catch (err) {
      this.log.warn(`viewer session ${f.sessionId}: ${errorMessage(err)}`);
      this.endSession(f.sessionId, true);
    }
  }

  private async iceServers(): Promise<IceServer[]> {
    if (!this.turn || this.turn.until < Date.now()) {
      try {
        const creds = turnCredentialsSchema.parse(await this.link.request('turn.credentials', {}));
        this.turn = { creds, until: Date.now() + (creds.ttlSeconds * 1000) / 2 };
      } catch (err) {
        this.log.warn(`no TURN credentials (direct connections only): ${errorMessage(err)}`);
        return [];
      }
    }
    const transport = this.o.turnTransport ?? 'udp';
    const out: IceServer[] = [];
    for (const s of this.turn.creds.iceServers) {
      // werift uses one TURN URL: the one for our transport.
      const url = s.urls.find((u) => urlTransport(u) === transport) ?? s.urls[0];
      out.push({ urls: [this.o.mapTurnUrl ? await this.o.mapTurnUrl(url) : url], username: s.username, credential: s.credential });
    }
    return out.slice(0, 1);
  }

  private async openSession(f: ServerSignalFrame, signal: (kind: 'answer' | 'ice' | 'bye', payload: Record<string, unknown>) => void): Promise<ViewerSession> {
    const peer = { sessionId: f.sessionId, connectionId: f.from.connectionId, memberId: f.from.memberId, role: f.from.role };
    const s = new ViewerSession(peer, await this.iceServers(), (m) => signal(m.kind, m.payload), this.log.child('viewer'), this.o.turnTransport);
    const subs = new DisposableStore();
    let ledger: LedgerEntry | undefined;
    subs.add(
      s.onDidOpen(() => {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        this.capture?.start(LEVELS[this.level].q);
        s.sender?.setMaxFps(LEVELS[this.level].fps);
        if (s.mayControl && ![...this.sessions.values()].some((x) => x.hasControl)) s.hasControl = true;
        this.sendStatus(s);
      }),
    );
    subs.add(
      s.onDidChangeState((state) => {
        if (state === 'connected') {
          const pair = s.selectedPair();
          if (pair) {
            const scheme = pair.remote.protocol === 'tcp' ? 'tcp' : 'udp';
            ledger = this.o.ledger.open({ host: pair.remote.address, port: pair.remote.port, purpose: 'desktop:peer', scheme, proxied: null });
          }
          this.log.info(`viewer ${peer.memberId} (${peer.role}) connected${pair ? ` via ${pair.local.type} ↔ ${pair.remote.type}` : ''}`);
        }
        if (state === 'failed' || state === 'closed') {
          if (ledger) this.o.ledger.update(ledger, { end: Date.now(), ...(state === 'failed' ? { error: 'ICE failed' } : {}) });
          this.endSession(peer.sessionId, false);
        }
      }),
    );
    subs.add(s.onDidInput((e) => this.onInput(s, e)));
    subs.add(
      s.onDidRequestQuality((level) => {
        this.quality = level as QualityLevel;
        if (this.quality !== 'auto') this.setLevel(MANUAL_LEVEL[this.quality]);
      }),
    );
    this.sessions.set(peer.sessionId, s);
    this.sessionSubs.set(peer.sessionId, subs);
    return s;
  }

  private onInput(s: ViewerSession, e: Parameters<InputInjector['handle']>[0]): void {
    if (e.t === 'control') {
      if (!s.mayControl) return this.sendStatus(s);
      if (e.take) {
        for (const other of this.sessions.values()) {
          if (other !== s && other.hasControl) {
            other.hasControl = false;
            this.sendStatus(other);
          }
        }
        s.hasControl = true;
      } else {
        s.hasControl = false;
        this.input?.releaseAll();
      }
      return this.sendStatus(s);
    }
    if (!s.hasControl || !s.mayControl) return;
    this.input?.handle(e);
  }

  private endSession(id: string, tell: boolean): void {
    const s = this.sessions.get(id);
    if (!s) return;
    if (tell) s.bye();
    if (s.hasControl) this.input?.releaseAll();
    this.sessions.delete(id);
    this.sessionSubs.get(id)?.dispose();
    this.sessionSubs.delete(id);
    s.dispose();
    if (!this.sessions.size && this.capture?.running) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (!this.sessions.size) this.capture?.stop();
      }, 5000);
    }
  }

  private sendStatus(s: ViewerSession): void {
    s.sendStatus({ width: this.o.width, height: this.o.height, fps: LEVELS[this.level].fps, quality: this.quality, jpegQ: LEVELS[this.level].q });
  }

  private setLevel(level: number): void {
    if (level === this.level) return;
    this.level = level;
    this.levelChangedAt = Date.now();
    this.capture?.setQuality(LEVELS[level].q);
    for (const s of this.sessions.values()) {
      s.sender?.setMaxFps(LEVELS[level].fps);
      this.sendStatus(s);
    }
  }

  private everySecond(): void {
    const busy = this.o.runningTasks() > 0;
    if (this._status === 'online' && busy) this.setStatus('running', null);
    else if (this._status === 'running' && !busy) this.setStatus('online', null);
    if (!this.sessions.size) return;
    // The slowest viewer sets the level (each still drops frames at its own window).
    let worst: { offered: number; dropped: number; acked: number } | undefined;
    let rtt: number | undefined;
    for (const s of this.sessions.values()) {
      const st = s.sender?.stats;
      if (!st) continue;
      const sample = { offered: s.offered, dropped: st.dropped - s.droppedBefore, acked: st.acked - s.ackedBefore };
      s.offered = 0;
      s.droppedBefore = st.dropped;
      s.ackedBefore = st.acked;
      if (!worst || sample.acked < worst.acked) worst = sample;
      const r = s.sender?.takeRtt();
      if (r !== undefined) rtt = Math.max(rtt ?? 0, r);
    }
    if (worst && this.capture?.running && this.quality === 'auto' && Date.now() - this.levelChangedAt > 3000) {
      this.setLevel(this.adapter.update({ ...worst, ackRttMs: rtt }));
    }
    for (const s of this.sessions.values()) this.sendStatus(s);
  }

  /** A fresh id for a test or a tool that opens a session itself. */
  static sessionId(): string {
    return `vs-${randomUUID()}`;
  }

  override dispose(): void {
    clearInterval(this.tick);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const id of [...this.sessions.keys()]) this.endSession(id, true);
    this.capture?.dispose();
    this.input?.dispose();
    super.dispose();
  }
}

function urlTransport(url: string): 'udp' | 'tcp' | 'tls' {
  if (url.startsWith('turns:')) return 'tls';
  return /[?&]transport=tcp\b/.test(url) ? 'tcp' : 'udp';
}
