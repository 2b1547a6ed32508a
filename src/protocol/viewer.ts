/**
 * The cloud desktop viewer's wire formats, shared by the desktop (werift, Node), the viewer webview
 * (RTCPeerConnection, browser) and the extension host that relays its signalling:
 * - the `frames` DataChannel: JPEG frames in chunks of at most 64 KiB (werift advertises
 *   max-message-size 65536), each with a 32-byte header; the viewer acks every complete frame and the
 *   desktop keeps at most `ACK_WINDOW` frames in flight, dropping older frames at the source;
 * - the `input` DataChannel: JSON input events viewer → desktop and JSON status desktop → viewer;
 * - the webview ⇄ extension host messages (postMessage).
 * Imports only zod; the header codec uses DataView so it runs in Node and in the browser.
 */
import { z } from 'zod';

export const FRAMES_CHANNEL = 'frames';
export const INPUT_CHANNEL = 'input';
/** Largest DataChannel message, header included (werift's advertised max-message-size). */
export const MAX_CHUNK_BYTES = 64 * 1024;
export const FRAME_HEADER_BYTES = 32;
export const FRAME_MAGIC = 0x324d5246; // 'FRM2' little endian
/** Frames sent and not yet acked; a newer frame replaces any that waits behind them. */
export const ACK_WINDOW = 3;

export interface FrameHeader {
  frameId: number;
  /** Wall-clock ms when the desktop sent the first chunk. */
  sentAt: number;
  /** Wall-clock ms when the JPEG came out of the encoder. */
  capturedAt: number;
  chunkIndex: number;
  chunkCount: number;
  totalBytes: number;
}

/** Writes the header into the first FRAME_HEADER_BYTES of `out`. */
export function writeFrameHeader(out: Uint8Array, h: FrameHeader): void {
  const dv = new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES);
  dv.setUint32(0, FRAME_MAGIC, true);
  dv.setUint32(4, h.frameId >>> 0, true);
  dv.setFloat64(8, h.sentAt, true);
  dv.setFloat64(16, h.capturedAt, true);
  dv.setUint16(24, h.chunkIndex, true);
  dv.setUint16(26, h.chunkCount, true);
  dv.setUint32(28, h.totalBytes, true);
}

/** The header of one chunk, or undefined when the message is not a frame chunk (or is malformed). */
export function readFrameHeader(msg: Uint8Array): FrameHeader | undefined {
  if (msg.byteLength < FRAME_HEADER_BYTES) return undefined;
  const dv = new DataView(msg.buffer, msg.byteOffset, FRAME_HEADER_BYTES);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) return undefined;
  const h: FrameHeader = {
    frameId: dv.getUint32(4, true),
    sentAt: dv.getFloat64(8, true),
    capturedAt: dv.getFloat64(16, true),
    chunkIndex: dv.getUint16(24, true),
    chunkCount: dv.getUint16(26, true),
    totalBytes: dv.getUint32(28, true),
  };
  const maxPayload = MAX_CHUNK_BYTES - FRAME_HEADER_BYTES;
  if (h.chunkCount < 1 || h.chunkIndex >= h.chunkCount || h.totalBytes > h.chunkCount * maxPayload || h.totalBytes > 32 * 1024 * 1024) return undefined;
  return h;
}

/** Splits one JPEG into DataChannel messages (each ≤ MAX_CHUNK_BYTES, header first). */
export function chunkFrame(jpeg: Uint8Array, frameId: number, capturedAt: number, sentAt: number): Uint8Array[] {
  const per = MAX_CHUNK_BYTES - FRAME_HEADER_BYTES;
  const count = Math.max(1, Math.ceil(jpeg.byteLength / per));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = jpeg.subarray(i * per, Math.min(jpeg.byteLength, (i + 1) * per));
    const msg = new Uint8Array(FRAME_HEADER_BYTES + part.byteLength);
    writeFrameHeader(msg, { frameId, sentAt, capturedAt, chunkIndex: i, chunkCount: count, totalBytes: jpeg.byteLength });
    msg.set(part, FRAME_HEADER_BYTES);
    out.push(msg);
  }
  return out;
}

// --- viewer → desktop, `frames` channel (JSON text) -------------------------------------------------
export const qualityLevelSchema = z.enum(['auto', 'high', 'medium', 'low']);
export type QualityLevel = z.infer<typeof qualityLevelSchema>;

export const frameControlSchema = z.discriminatedUnion('t', [
  /** A frame was received whole (sent at once, before decoding). */
  z.object({ t: z.literal('ack'), id: z.number().int().nonnegative() }),
  z.object({ t: z.literal('quality'), level: qualityLevelSchema }),
]);
export type FrameControl = z.infer<typeof frameControlSchema>;

// --- viewer → desktop, `input` channel (JSON text) --------------------------------------------------
const coord = z.number().int().min(0).max(16384);
/** Modifier bits: 1 Ctrl, 2 Shift, 4 Alt, 8 Meta. */
const mods = z.number().int().min(0).max(15);
export const inputEventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('move'), x: coord, y: coord }),
  z.object({ t: z.literal('button'), down: z.boolean(), button: z.number().int().min(0).max(2), x: coord, y: coord }),
  z.object({ t: z.literal('wheel'), dx: z.number().min(-10_000).max(10_000), dy: z.number().min(-10_000).max(10_000), x: coord, y: coord }),
  z.object({ t: z.literal('key'), down: z.boolean(), key: z.string().min(1).max(32), code: z.string().max(32), mods }),
  z.object({ t: z.literal('text'), text: z.string().min(1).max(4096) }),
  /** Ask for (or give back) control of the desktop: only the holder's input is injected. */
  z.object({ t: z.literal('control'), take: z.boolean() }),
]);
export type InputEvent = z.infer<typeof inputEventSchema>;

// --- desktop → viewer, `input` channel (JSON text) --------------------------------------------------
export const desktopStatusSchema = z.object({
  t: z.literal('status'),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** This viewer's role may type (Owner, Admin, Member); a Viewer watches only. */
  mayControl: z.boolean(),
  /** This viewer holds control now (its input is injected). */
  hasControl: z.boolean(),
  fps: z.number().nonnegative(),
  quality: qualityLevelSchema,
  /** JPEG quality the encoder uses now (2 best … 31 worst, ffmpeg -q:v). */
  jpegQ: z.number().int().min(2).max(31),
  dropped: z.number().int().nonnegative(),
});
export type DesktopStatus = z.infer<typeof desktopStatusSchema>;

// --- webview ⇄ extension host (postMessage) --------------------------------------------------------
export const connectionModeSchema = z.enum(['auto', 'relay']);
export type ConnectionMode = z.infer<typeof connectionModeSchema>;

const iceServerSchema = z.object({ urls: z.array(z.string().max(500)).min(1), username: z.string().max(300), credential: z.string().max(300) });
const signalPayload = z.object({
  sdp: z
    .string()
    .max(64 * 1024)
    .optional(),
  candidate: z.string().max(4096).optional(),
  sdpMid: z.string().max(100).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1000).nullable().optional(),
});
export const viewerSignalKindSchema = z.enum(['offer', 'answer', 'ice', 'bye']);

/** The selected candidate pair and counters from the webview's `getStats()`. */
export const viewerStatsSchema = z.object({
  pair: z
    .object({
      local: z.object({
        type: z.string().max(20),
        protocol: z.string().max(10),
        relayProtocol: z.string().max(10).nullable(),
        address: z.string().max(100).nullable(),
        port: z.number().int().nullable(),
        url: z.string().max(500).nullable(),
      }),
      remote: z.object({ type: z.string().max(20), protocol: z.string().max(10), address: z.string().max(100).nullable(), port: z.number().int().nullable() }),
      rttMs: z.number().nullable(),
    })
    .nullable(),
  bytesReceived: z.number().nonnegative(),
  bytesSent: z.number().nonnegative(),
  fps: z.number().nonnegative(),
  frames: z.number().int().nonnegative(),
  /** Send → drawn, ms (same-clock deployments and tests only). */
  sendToDrawP50Ms: z.number().nullable(),
  stalls: z.number().int().nonnegative(),
});
export type ViewerStats = z.infer<typeof viewerStatsSchema>;

export const viewerStateSchema = z.enum(['connecting', 'connected', 'reconnecting', 'failed']);
export type ViewerState = z.infer<typeof viewerStateSchema>;

/** Webview → host. */
export const viewerToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** Start (or restart) a session: the host answers `start` with fresh TURN credentials. */
  z.object({ type: z.literal('connect'), reason: z.string().max(200) }),
  z.object({ type: z.literal('signal'), sessionId: z.string().min(1).max(100), kind: viewerSignalKindSchema, payload: signalPayload }),
  z.object({ type: z.literal('stats'), sessionId: z.string().max(100), stats: viewerStatsSchema }),
  z.object({ type: z.literal('state'), state: viewerStateSchema, detail: z.string().max(500).optional(), relay: z.boolean().optional() }),
  z.object({ type: z.literal('diagnose') }),
]);
export type ViewerToHost = z.infer<typeof viewerToHostSchema>;

/** Host → webview. */
export const hostToViewerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    sessionId: z.string().min(1).max(100),
    instance: z.object({ id: z.string(), name: z.string() }),
    mode: connectionModeSchema,
    iceServers: z.array(iceServerSchema),
    iceTransportPolicy: z.enum(['all', 'relay']),
    /** The user's role may type (else the viewer says it watches only). */
    mayControl: z.boolean(),
  }),
  z.object({ type: z.literal('signal'), sessionId: z.string().max(100), kind: viewerSignalKindSchema, payload: signalPayload }),
  /** The session cannot go on (desktop offline, refused, no workspace); the webview retries or fails. */
  z.object({ type: z.literal('unavailable'), reason: z.string().max(500), retry: z.boolean() }),
  /** The desktop came back online: reconnect now instead of waiting for the backoff. */
  z.object({ type: z.literal('desktopOnline') }),
]);
export type HostToViewer = z.infer<typeof hostToViewerSchema>;
