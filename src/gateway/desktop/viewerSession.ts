/**
 * One viewer of this desktop: a werift RTCPeerConnection (the answerer; the viewer's webview offers
 * the `frames` and `input` channels), its FrameSender (ack window, drop at the source) and its input.
 * Input is injected only while this viewer holds control, and only a role with `agents.use` may take
 * it (the server attests the role in every signal frame). Remote candidates that arrive before the
 * offer is applied are queued.
 */
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import type { Role } from '../../protocol/workspace/common';
import { roleHas } from '../../protocol/workspace/common';
import { FRAMES_CHANNEL, frameControlSchema, INPUT_CHANNEL, inputEventSchema, type DesktopStatus, type InputEvent } from '../../protocol/viewer';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { FrameSender, type CapturedFrame } from './frameSender';

export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface SessionPeer {
  sessionId: string;
  connectionId: string;
  memberId: string;
  role: Role;
}

export interface SignalOut {
  kind: 'answer' | 'ice' | 'bye';
  payload: { sdp?: string; candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null };
}

export interface SelectedPair {
  local: { type: string; address: string; port: number; protocol: string };
  remote: { type: string; address: string; port: number; protocol: string };
}

type Candidate = { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null };

export class ViewerSession extends Disposable {
  private readonly pc: RTCPeerConnection;
  private input: RTCDataChannel | undefined;
  sender: FrameSender | undefined;
  private early: Candidate[] = [];
  private remoteSet = false;
  hasControl = false;
  offered = 0;
  /** Acks counted up to the last adapter tick. */
  ackedBefore = 0;
  droppedBefore = 0;
  readonly mayControl: boolean;
  state = 'new';
  private readonly stateEmitter = this._register(new Emitter<string>());
  readonly onDidChangeState: Event<string> = this.stateEmitter.event;
  private readonly inputEmitter = this._register(new Emitter<InputEvent>());
  /** Input events from this viewer that passed validation (control requests included). */
  readonly onDidInput: Event<InputEvent> = this.inputEmitter.event;
  private readonly qualityEmitter = this._register(new Emitter<string>());
  readonly onDidRequestQuality: Event<string> = this.qualityEmitter.event;
  private readonly openEmitter = this._register(new Emitter<void>());
  /** The frames channel opened: frames can flow. */
  readonly onDidOpen: Event<void> = this.openEmitter.event;
  badMessages = 0;

  constructor(
    readonly peer: SessionPeer,
    iceServers: IceServer[],
    private readonly signal: (s: SignalOut) => void,
    private readonly log: Logger,
    turnTransport?: 'udp' | 'tcp' | 'tls',
  ) {
    super();
    this.mayControl = roleHas(peer.role, 'agents.use');
    this.pc = new RTCPeerConnection({ iceServers, ...(turnTransport ? { turnTransport } : {}) });
    this.pc.onIceCandidate.subscribe((c) => {
      if (!c) return;
      const j = c.toJSON();
      this.signal({ kind: 'ice', payload: { candidate: j.candidate, sdpMid: j.sdpMid ?? null, sdpMLineIndex: j.sdpMLineIndex ?? null } });
    });
    this.pc.connectionStateChange.subscribe((s) => {
      this.state = s;
      this.stateEmitter.fire(s);
    });
    this.pc.onDataChannel.subscribe((ch) => this.onChannel(ch));
  }

  async onOffer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.remoteSet = true;
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.signal({ kind: 'answer', payload: { sdp: this.pc.localDescription?.sdp ?? answer.sdp } });
    for (const c of this.early.splice(0)) await this.addCandidate(c);
  }

  async onCandidate(c: Candidate): Promise<void> {
    if (!c.candidate) return;
    if (!this.remoteSet) {
      if (this.early.length < 100) this.early.push(c);
      return;
    }
    await this.addCandidate(c);
  }

  private async addCandidate(c: Candidate): Promise<void> {
    try {
      await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? '0', sdpMLineIndex: c.sdpMLineIndex ?? 0 });
    } catch (err) {
      this.log.debug(`ignored a remote candidate: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private onChannel(ch: RTCDataChannel): void {
    if (ch.label === FRAMES_CHANNEL) {
      const sender = new FrameSender({
        send: (m) => {
          if (ch.readyState !== 'open') return false;
          ch.send(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
          return true;
        },
        get bufferedAmount() {
          return ch.bufferedAmount;
        },
      });
      this.sender = sender;
      ch.onMessage.subscribe((data) => {
        const r = frameControlSchema.safeParse(parseJson(data));
        if (!r.success) return void this.badMessages++;
        if (r.data.t === 'ack') sender.ack(r.data.id);
        else this.qualityEmitter.fire(r.data.level);
      });
      ch.stateChanged.subscribe((s) => {
        if (s === 'open') this.openEmitter.fire();
        if (s === 'closed') sender.close();
      });
      if (ch.readyState === 'open') this.openEmitter.fire();
    } else if (ch.label === INPUT_CHANNEL) {
      this.input = ch;
      ch.onMessage.subscribe((data) => {
        const r = inputEventSchema.safeParse(parseJson(data));
        if (!r.success) return void this.badMessages++;
        this.inputEmitter.fire(r.data);
      });
    } else ch.close();
  }

  /** A new frame from the capture: sent or dropped by this viewer's window. */
  offer(frame: CapturedFrame): void {
    if (!this.sender) return;
    this.offered++;
    this.sender.offer(frame);
  }

  sendStatus(s: Omit<DesktopStatus, 't' | 'mayControl' | 'hasControl' | 'dropped'>): void {
    const ch = this.input;
    if (!ch || ch.readyState !== 'open') return;
    const status: DesktopStatus = { t: 'status', ...s, mayControl: this.mayControl, hasControl: this.hasControl, dropped: this.sender?.stats.dropped ?? 0 };
    ch.send(JSON.stringify(status));
  }

  /** The nominated pair (for the ledger), when connected. */
  selectedPair(): SelectedPair | undefined {
    const pair = this.pc.iceTransports[0]?.connection?.nominated;
    if (!pair) return undefined;
    const l = pair.localCandidate;
    const r = pair.remoteCandidate;
    return {
      local: { type: l.type, address: l.host, port: l.port, protocol: l.transport },
      remote: { type: r.type, address: r.host, port: r.port, protocol: r.transport },
    };
  }

  bye(): void {
    this.signal({ kind: 'bye', payload: {} });
  }

  override dispose(): void {
    this.sender?.close();
    void this.pc.close().catch(() => undefined);
    super.dispose();
  }
}

function parseJson(data: string | Buffer): unknown {
  try {
    return JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return undefined;
  }
}
