/**
 * Clients for the cluster suites (test/support/cluster.ts): one-shot REST calls (a fresh TCP
 * connection each, so the round-robin proxy spreads them over the nodes), retries with the same
 * idempotency key, and `Follower`, a WSS client that follows the event stream through node deaths and
 * counts what it got, Jepsen-style (lost, duplicated, out of order).
 */
import * as http from 'node:http';
import WebSocket from 'ws';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** One REST call on a fresh TCP connection (so the proxy spreads calls over the nodes). */
export function rest(base: string, method: string, p: string, token?: string, body?: unknown, idem?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (idem) headers['idempotency-key'] = idem;
    if (data) headers['content-type'] = 'application/json';
    const req = http.request(`${base}${p}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Retries a call that died with its node or failed on the server (same idempotency key), until some
 * node answers; `between` runs before each retry (e.g. waits until a node is ready again).
 */
export async function retried(
  base: string,
  method: string,
  p: string,
  token: string,
  body: unknown,
  idem: string,
  between?: () => Promise<unknown>,
): Promise<Reply & { tries: number }> {
  for (let tries = 1; ; tries++) {
    try {
      const r = await rest(base, method, p, token, body, idem);
      if (r.status < 500) return { ...r, tries };
    } catch {
      // the node died mid-request: try again through the proxy
    }
    if (tries > 50) throw new Error(`${method} ${p} never answered`);
    await between?.();
  }
}

/** A node's readiness (`GET /v1/ready`): its status and body, or undefined when it does not answer. */
export async function readiness(
  url: string,
): Promise<{ status: number; ready: boolean; database: { ok: boolean }; listen: { ok: boolean; hintsReceived: number } | null } | undefined> {
  try {
    const r = await rest(url, 'GET', '/v1/ready');
    return { status: r.status, ...(r.body as { ready: boolean; database: { ok: boolean }; listen: { ok: boolean; hintsReceived: number } | null }) };
  } catch {
    return undefined;
  }
}

/** A WSS client that follows the event stream, reconnecting through the proxy with its last seq. */
export class Follower {
  readonly seqs: number[] = [];
  last = 0;
  reconnects = 0;
  resyncs = 0;
  private stopped = false;
  private ws: WebSocket | undefined;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  readonly frames: Array<Record<string, unknown>> = [];

  constructor(
    private readonly url: string,
    private readonly token: string,
    start: number,
  ) {
    this.last = start;
  }

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.url, { headers: { authorization: `Bearer ${this.token}` } });
      this.ws = ws;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, lastSeq: this.last, client: { name: 'follower', version: '0' } })));
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as Record<string, unknown> & { type: string; seq?: number };
        if (f.type === 'resumed') resolve();
        if (f.type === 'resync') this.resyncs++;
        if (f.type === 'signal' || (f.type === 'event' && f.name === 'instance.presence')) this.frames.push(f);
        if (f.type !== 'event' || typeof f.seq !== 'number') return;
        this.seqs.push(f.seq);
        this.last = Math.max(this.last, f.seq);
        for (const w of this.waiters.filter((x) => this.last >= x.seq)) w.resolve();
        this.waiters = this.waiters.filter((x) => this.last < x.seq);
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (this.stopped) return;
        this.reconnects++;
        void this.connect();
        resolve();
      });
    });
  }

  reached(seq: number): Promise<void> {
    if (this.last >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Lost, duplicated and out-of-order events in (from, to]. */
  check(from: number, to: number): { lost: number; duplicated: number; outOfOrder: number } {
    const seen = new Set<number>();
    let duplicated = 0;
    let outOfOrder = 0;
    let prev = from;
    for (const s of this.seqs) {
      if (s <= from) continue;
      if (seen.has(s)) duplicated++;
      else if (s < prev) outOfOrder++;
      seen.add(s);
      prev = Math.max(prev, s);
    }
    let lost = 0;
    for (let s = from + 1; s <= to; s++) if (!seen.has(s)) lost++;
    return { lost, duplicated, outOfOrder };
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}
