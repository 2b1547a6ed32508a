/**
 * Link titles (a microlink-style API: only the URL is sent) and favicons (Google's s2 service: only
 * the domain is sent), fetched through NetService for the chat view. Cached (LRU with a TTL; failures
 * cached briefly), deduplicated in flight, bounded in time, size and concurrency, and never throwing:
 * when a service is off, blocked or slow, the chat simply renders without the decoration.
 * Local and private addresses are never sent to a service.
 */
import type { ConnectionPurpose } from './ledger';
import type { NetConfig } from './netConfig';
import { ipBytes, isLoopbackHost } from './noProxy';

export interface LinkMeta {
  url: string;
  title?: string;
  /** A data: URI (PNG, ICO, GIF, JPEG or WebP). */
  favicon?: string;
}

export interface LinkPreviewOptions {
  timeoutMs?: number;
  ttlMs?: number;
  failureTtlMs?: number;
  maxEntries?: number;
  concurrency?: number;
}

interface BodyReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/** The part of a fetch Response used here (NetService returns undici's). */
export interface FetchResponse {
  ok: boolean;
  headers: { get(name: string): string | null };
  body: { getReader(): BodyReader; cancel(): Promise<void> } | null;
}

export type LinkFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }, purpose: ConnectionPurpose) => Promise<FetchResponse>;

interface Cached {
  value: Promise<string | undefined>;
  expires: number;
}

const MAX_JSON = 512 * 1024;
const MAX_ICON = 64 * 1024;
const ICON_TYPES = /^image\/(png|x-icon|vnd\.microsoft\.icon|gif|jpeg|webp)$/;

/** true for URLs whose host may be shown to a third-party service (public names and addresses only). */
export function isPublicUrl(raw: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host || isLoopbackHost(host) || u.username || u.password) return undefined;
  const b = ipBytes(host);
  if (b) {
    const [a, c] = [b[0]!, b[1]!];
    const v4Private =
      b.length === 4 &&
      (a === 10 || a === 0 || (a === 172 && c >= 16 && c < 32) || (a === 192 && c === 168) || (a === 169 && c === 254) || (a === 100 && c >= 64 && c < 128));
    const v6Private = b.length === 16 && ((a & 0xfe) === 0xfc || (a === 0xfe && (c & 0xc0) === 0x80));
    return v4Private || v6Private ? undefined : u;
  }
  if (!host.includes('.') || /\.(local|internal|lan|home|corp|intranet|localdomain)$/.test(host)) return undefined;
  return u;
}

async function readLimited(res: FetchResponse, max: number): Promise<Uint8Array | undefined> {
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > max || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done || !r.value) break;
    size += r.value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}

export class LinkPreviews {
  private readonly titles = new Map<string, Cached>();
  private readonly icons = new Map<string, Cached>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly o: Required<LinkPreviewOptions>;

  constructor(
    private readonly fetch: LinkFetch,
    private readonly config: () => NetConfig,
    options: LinkPreviewOptions = {},
  ) {
    this.o = { timeoutMs: 4000, ttlMs: 60 * 60_000, failureTtlMs: 5 * 60_000, maxEntries: 500, concurrency: 4, ...options };
  }

  /** Title and favicon for each URL the settings allow; resolves within the timeout, never rejects. */
  async lookup(url: string): Promise<LinkMeta> {
    const [title, favicon] = await Promise.all([this.title(url), this.favicon(url)]);
    return { url, ...(title ? { title } : {}), ...(favicon ? { favicon } : {}) };
  }

  title(url: string): Promise<string | undefined> {
    const c = this.config();
    const u = c.linkPreviews ? isPublicUrl(url) : undefined;
    if (!u) return Promise.resolve(undefined);
    return this.cached(this.titles, `${c.linkPreviewService} ${u.href}`, async (signal) => {
      const service = new URL(c.linkPreviewService);
      service.searchParams.set('url', u.href);
      const res = await this.fetch(service.href, { signal, headers: { accept: 'application/json' } }, 'link-preview');
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return undefined;
      }
      const body = await readLimited(res, MAX_JSON);
      if (!body) return undefined;
      const json = JSON.parse(Buffer.from(body).toString('utf8')) as { status?: unknown; data?: { title?: unknown } };
      const t = json?.status === 'success' && typeof json.data?.title === 'string' ? json.data.title.replace(/\s+/g, ' ').trim() : '';
      return t ? (t.length > 200 ? `${t.slice(0, 199)}…` : t) : undefined;
    });
  }

  favicon(url: string): Promise<string | undefined> {
    const c = this.config();
    const u = c.favicons ? isPublicUrl(url) : undefined;
    if (!u) return Promise.resolve(undefined);
    return this.cached(this.icons, `${c.faviconService} ${u.hostname}`, async (signal) => {
      const service = new URL(c.faviconService);
      service.searchParams.set('domain', u.hostname);
      service.searchParams.set('sz', '32');
      const res = await this.fetch(service.href, { signal, headers: { accept: 'image/*' } }, 'favicon');
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!res.ok || !ICON_TYPES.test(type)) {
        await res.body?.cancel().catch(() => undefined);
        return undefined;
      }
      const body = await readLimited(res, MAX_ICON);
      return body && body.byteLength ? `data:${type};base64,${Buffer.from(body).toString('base64')}` : undefined;
    });
  }

  clear(): void {
    this.titles.clear();
    this.icons.clear();
  }

  private cached(map: Map<string, Cached>, key: string, load: (signal: AbortSignal) => Promise<string | undefined>): Promise<string | undefined> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.expires > now) {
      map.delete(key);
      map.set(key, hit);
      return hit.value;
    }
    const entry: Cached = { value: Promise.resolve(undefined), expires: now + this.o.ttlMs };
    entry.value = this.limited(async () => {
      const signal = AbortSignal.timeout(this.o.timeoutMs);
      try {
        const v = await load(signal);
        if (v === undefined) entry.expires = Date.now() + this.o.failureTtlMs;
        return v;
      } catch {
        entry.expires = Date.now() + this.o.failureTtlMs; // blocked, slow or malformed: render without it
        return undefined;
      }
    });
    map.set(key, entry);
    if (map.size > this.o.maxEntries) map.delete(map.keys().next().value as string);
    return entry.value;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.o.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
