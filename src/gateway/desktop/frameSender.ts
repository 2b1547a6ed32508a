/**
 * Flow control for one viewer: at most `window` frames in flight (sent, not yet acked); a frame that
 * arrives while the window is full waits as the single `pending` frame and a newer one replaces it —
 * frames are dropped at the source, never queued. A frame that waited too long for acks counts as a
 * stall. Every second the sender looks at how it went and tells the `Adapter` (quality and rate).
 */
import { ACK_WINDOW, chunkFrame } from '../../protocol/viewer';

export interface FrameChannel {
  /** Sends one message; false (or a throw) when the channel is closed. */
  send(msg: Uint8Array): boolean;
  /** Bytes queued in the channel (SCTP) not yet on the wire. */
  readonly bufferedAmount: number;
}

export interface CapturedFrame {
  jpeg: Uint8Array;
  capturedAt: number;
}

export interface SenderStats {
  sent: number;
  acked: number;
  dropped: number;
  /** Median send → ack, ms, over the last second. */
  ackRttMs: number | undefined;
}

/** Above this much buffered in the channel, frames wait even when the window has room. */
const MAX_BUFFERED = 512 * 1024;

export class FrameSender {
  private nextId = 1;
  private readonly inflight = new Map<number, number>();
  private pending: CapturedFrame | undefined;
  private minIntervalMs = 0;
  private lastSentAt = 0;
  private rtts: number[] = [];
  readonly stats: SenderStats = { sent: 0, acked: 0, dropped: 0, ackRttMs: undefined };
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly channel: FrameChannel,
    private readonly now: () => number = Date.now,
    private readonly window = ACK_WINDOW,
  ) {}

  /** Caps the frame rate (0 = as fast as frames come and acks allow). */
  setMaxFps(fps: number): void {
    this.minIntervalMs = fps > 0 ? 1000 / fps : 0;
  }

  /** A new frame from the encoder: sent now, or kept as the one pending frame (replacing an older one). */
  offer(frame: CapturedFrame): void {
    if (this.closed) return;
    if (this.pending) this.stats.dropped++;
    this.pending = frame;
    this.pump();
  }

  ack(id: number): void {
    const sentAt = this.inflight.get(id);
    if (sentAt === undefined) return;
    // Acks come in order on the ordered channel: anything older is lost with its frame.
    for (const k of this.inflight.keys()) {
      if (k > id) break;
      this.inflight.delete(k);
    }
    this.stats.acked++;
    this.rtts.push(this.now() - sentAt);
    if (this.rtts.length > 60) this.rtts.shift();
    this.pump();
  }

  /** Median ack round trip of the recent frames. */
  takeRtt(): number | undefined {
    if (!this.rtts.length) return undefined;
    const s = [...this.rtts].sort((a, b) => a - b);
    this.rtts = [];
    return (this.stats.ackRttMs = s[Math.floor(s.length / 2)]);
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  private pump(): void {
    if (this.closed || !this.pending) return;
    if (this.inflight.size >= this.window || this.channel.bufferedAmount > MAX_BUFFERED) return;
    const now = this.now();
    const wait = this.lastSentAt + this.minIntervalMs - now;
    if (wait > 1) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    const frame = this.pending;
    this.pending = undefined;
    const id = this.nextId++;
    this.lastSentAt = now;
    this.inflight.set(id, now);
    for (const msg of chunkFrame(frame.jpeg, id, frame.capturedAt, now)) {
      if (!this.channel.send(msg)) {
        this.close();
        return;
      }
    }
    this.stats.sent++;
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Quality levels: ffmpeg `-q:v` (smaller JPEGs as it grows) and the frame-rate cap. The ack window
 * already paces the rate to what the path carries, so only the last level caps it (to spare a very slow
 * viewer); stepping down trades sharpness for frames.
 */
export const LEVELS = [
  { q: 5, fps: 30 },
  { q: 8, fps: 30 },
  { q: 12, fps: 30 },
  { q: 18, fps: 30 },
  { q: 26, fps: 15 },
] as const;

/**
 * Picks the level from what the viewers got over the last second. It steps down only when the viewer
 * or the network is the bottleneck — frames were dropped at the source (the window was full) and fewer
 * than 80% of the level's rate got through, two seconds in a row — or when the ack round trip is slow;
 * a slow capture alone (nothing dropped) changes nothing. Five calm seconds → one level up.
 * Pure: tests drive it directly.
 */
export class Adapter {
  level = 0;
  private calm = 0;
  private behind = 0;

  update(s: { offered: number; dropped: number; acked: number; ackRttMs: number | undefined }): number {
    const target = LEVELS[this.level].fps;
    const dropRate = s.offered ? s.dropped / s.offered : 0;
    const slow = s.ackRttMs !== undefined && s.ackRttMs > 400;
    if ((dropRate > 0.2 && s.acked < target * 0.8) || slow) {
      this.calm = 0;
      if (++this.behind >= 2 && this.level < LEVELS.length - 1) {
        this.level++;
        this.behind = 0;
      }
    } else {
      this.behind = 0;
      if (dropRate < 0.05 && ++this.calm >= 5 && this.level > 0) {
        this.level--;
        this.calm = 0;
      }
    }
    return this.level;
  }
}
