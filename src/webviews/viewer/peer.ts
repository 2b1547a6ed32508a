/**
 * The viewer's RTCPeerConnection (it lives in the webview): offers the `frames` and `input`
 * channels, reassembles frame chunks, acks each whole frame at once (the desktop's flow control),
 * decodes with createImageBitmap and hands bitmaps to the screen, newest first (a frame that arrives
 * while one decodes replaces the waiting one). Reports the selected candidate pair from getStats().
 */
import {
  FRAME_HEADER_BYTES,
  FRAMES_CHANNEL,
  INPUT_CHANNEL,
  desktopStatusSchema,
  readFrameHeader,
  type DesktopStatus,
  type HostToViewer,
  type InputEvent,
  type QualityLevel,
  type ViewerStats,
} from '../../protocol/viewer';

type Start = Extract<HostToViewer, { type: 'start' }>;
type Signal = Extract<HostToViewer, { type: 'signal' }>;

export interface PeerEvents {
  signal(kind: 'offer' | 'ice' | 'bye', payload: { sdp?: string; candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null }): void;
  frame(bmp: ImageBitmap, sentAt: number, capturedAt: number): void;
  status(s: DesktopStatus): void;
  /** The transport is up and frames flow (first frame drawn) / went down. */
  up(): void;
  down(why: string, now: boolean): void;
}

const now = (): number => performance.timeOrigin + performance.now();

export class ViewerPeer {
  readonly pc: RTCPeerConnection;
  private frames: RTCDataChannel;
  private input: RTCDataChannel;
  private early: RTCIceCandidateInit[] = [];
  private partial = new Map<number, { buf: Uint8Array; got: number; sentAt: number; capturedAt: number }>();
  private decoding = false;
  private waiting: { buf: Uint8Array; sentAt: number; capturedAt: number } | undefined;
  private closed = false;
  private gotFirst = false;
  private downTimer: number | undefined;
  bytesReceived = 0;

  constructor(
    readonly start: Start,
    private readonly on: PeerEvents,
  ) {
    this.pc = new RTCPeerConnection({ iceServers: start.iceServers, iceTransportPolicy: start.iceTransportPolicy });
    this.frames = this.pc.createDataChannel(FRAMES_CHANNEL, { ordered: true });
    this.frames.binaryType = 'arraybuffer';
    this.input = this.pc.createDataChannel(INPUT_CHANNEL, { ordered: true });
    this.frames.onmessage = (e) => this.onChunk(e.data);
    this.frames.onclose = () => this.down('the desktop closed the stream', true);
    this.input.onmessage = (e) => {
      try {
        const r = desktopStatusSchema.safeParse(JSON.parse(String(e.data)));
        if (r.success) this.on.status(r.data);
      } catch {
        // not JSON: ignored
      }
    };
    this.pc.onicecandidate = (e) => {
      if (e.candidate) this.on.signal('ice', { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
    };
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (s === 'failed') this.down('the connection failed (ICE)', true);
      else if (s === 'disconnected') {
        // Often recovers by itself (a network change): give it a moment first.
        this.downTimer ??= window.setTimeout(() => {
          this.downTimer = undefined;
          if (this.pc.connectionState === 'disconnected') this.down('the connection was interrupted', true);
        }, 2500);
      } else if (s === 'connected' && this.downTimer !== undefined) {
        window.clearTimeout(this.downTimer);
        this.downTimer = undefined;
      }
    };
  }

  async offer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.on.signal('offer', { sdp: this.pc.localDescription?.sdp });
  }

  async onSignal(m: Signal): Promise<void> {
    if (this.closed) return;
    if (m.kind === 'answer' && m.payload.sdp) {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: m.payload.sdp });
      for (const c of this.early.splice(0)) await this.pc.addIceCandidate(c).catch(() => undefined);
    } else if (m.kind === 'ice' && m.payload.candidate) {
      // werift sends candidates while it sets its local description, before the answer: queue them.
      const c: RTCIceCandidateInit = { candidate: m.payload.candidate, sdpMid: m.payload.sdpMid ?? '0', sdpMLineIndex: m.payload.sdpMLineIndex ?? 0 };
      if (!this.pc.remoteDescription) this.early.push(c);
      else await this.pc.addIceCandidate(c).catch(() => undefined);
    } else if (m.kind === 'bye') this.down('the desktop ended the session', true);
  }

  sendInput(e: InputEvent): boolean {
    if (this.input.readyState !== 'open') return false;
    this.input.send(JSON.stringify(e));
    return true;
  }

  setQuality(level: QualityLevel): void {
    if (this.frames.readyState === 'open') this.frames.send(JSON.stringify({ t: 'quality', level }));
  }

  private onChunk(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    const msg = new Uint8Array(data);
    const h = readFrameHeader(msg);
    if (!h) return;
    this.bytesReceived += msg.byteLength;
    let f = this.partial.get(h.frameId);
    if (!f) {
      f = { buf: new Uint8Array(h.totalBytes), got: 0, sentAt: h.sentAt, capturedAt: h.capturedAt };
      this.partial.set(h.frameId, f);
      if (this.partial.size > 8) this.partial.delete(this.partial.keys().next().value as number);
    }
    const per = 64 * 1024 - FRAME_HEADER_BYTES;
    const part = msg.subarray(FRAME_HEADER_BYTES);
    if (h.chunkIndex * per + part.byteLength > f.buf.byteLength) return;
    f.buf.set(part, h.chunkIndex * per);
    if (++f.got < h.chunkCount) return;
    this.partial.delete(h.frameId);
    if (this.frames.readyState === 'open') this.frames.send(JSON.stringify({ t: 'ack', id: h.frameId }));
    this.waiting = { buf: f.buf, sentAt: f.sentAt, capturedAt: f.capturedAt };
    void this.decode();
  }

  private async decode(): Promise<void> {
    if (this.decoding) return;
    this.decoding = true;
    try {
      while (this.waiting && !this.closed) {
        const w = this.waiting;
        this.waiting = undefined;
        try {
          const bmp = await createImageBitmap(new Blob([w.buf as BlobPart], { type: 'image/jpeg' }));
          if (this.closed) {
            bmp.close();
            break;
          }
          this.on.frame(bmp, w.sentAt, w.capturedAt);
          if (!this.gotFirst) {
            this.gotFirst = true;
            this.on.up();
          }
        } catch {
          // a broken JPEG: skip it
        }
      }
    } finally {
      this.decoding = false;
    }
  }

  private down(why: string, immediate: boolean): void {
    if (this.closed) return;
    this.on.down(why, immediate);
  }

  /** The selected pair and counters (for the overlay and the gateway's ledger). */
  async stats(extra: Omit<ViewerStats, 'pair' | 'bytesReceived' | 'bytesSent'>): Promise<ViewerStats> {
    const report = await this.pc.getStats();
    let pair: RTCStats & Record<string, unknown> = undefined as never;
    report.forEach((r: RTCStats & Record<string, unknown>) => {
      if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') pair = report.get(r.selectedCandidatePairId);
    });
    if (!pair)
      report.forEach((r: RTCStats & Record<string, unknown>) => {
        if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
      });
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    if (!pair) return { ...extra, pair: null, bytesReceived: 0, bytesSent: 0 };
    const l = report.get(String(pair.localCandidateId)) as Record<string, unknown> | undefined;
    const r = report.get(String(pair.remoteCandidateId)) as Record<string, unknown> | undefined;
    return {
      ...extra,
      pair: {
        local: {
          type: str(l?.candidateType) ?? '?',
          protocol: str(l?.protocol) ?? '?',
          relayProtocol: str(l?.relayProtocol),
          address: str(l?.address),
          port: typeof l?.port === 'number' ? l.port : null,
          url: str(l?.url),
        },
        remote: {
          type: str(r?.candidateType) ?? '?',
          protocol: str(r?.protocol) ?? '?',
          address: str(r?.address),
          port: typeof r?.port === 'number' ? r.port : null,
        },
        rttMs: typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null,
      },
      bytesReceived: num(pair.bytesReceived),
      bytesSent: num(pair.bytesSent),
    };
  }

  close(): void {
    this.closed = true;
    if (this.downTimer !== undefined) window.clearTimeout(this.downTimer);
    this.waiting = undefined;
    this.partial.clear();
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }
}

export { now };
