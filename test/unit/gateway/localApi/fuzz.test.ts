/**
 * Throws random requests at the local API for a bounded time (MULTICLAW_FUZZ_MS, default 3 s; seed in
 * MULTICLAW_FUZZ_SEED): random methods, paths, headers and bodies over HTTP, raw bytes over TCP, and
 * random WebSocket upgrades. The API must never crash, never answer 5xx, never leave an unhandled
 * rejection, always answer JSON errors with a known code, and still serve afterwards.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { localApiErrorCodeSchema } from '../../../../src/protocol/localApi';
import fc from 'fast-check';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { bodyText, bounded, fuzzBudget, nastyString } from '../../../support/fuzz';
import { type ApiHarness, request, startApiGateway } from './helpers';

/** mulberry32: a small seeded PRNG, so a failure can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Local API: fuzz', function () {
  const budgetMs = Number(process.env.MULTICLAW_FUZZ_MS ?? 3000);
  const seed = Number(process.env.MULTICLAW_FUZZ_SEED ?? Date.now() % 1_000_000);
  this.timeout(budgetMs + 30_000);
  let server: ProviderServer;
  let h: ApiHarness;

  before(async () => {
    server = await startProviderServer();
    h = await startApiGateway(server, { limits: { authDelayMs: 0, headersTimeoutMs: 1000, requestTimeoutMs: 2000, bodyBytes: 32 * 1024 } });
  });
  after(async () => {
    await h.close();
    await server.close();
  });

  it(`survives random requests (seed ${seed})`, async () => {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (n: number): number => Math.floor(rnd() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const str = (n: number): string =>
      Array.from({ length: n }, () => String.fromCharCode(pick([int(128), 0x20 + int(95), 0x4e00 + int(100), 0xd800 + int(10)]))).join('');

    const enc = (x: string): string => encodeURIComponent(x.replace(/[\ud800-\udfff]/g, '?'));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);

    const paths = [
      '/v1/status',
      '/v1/agents',
      '/v1/tasks',
      '/v1/tasks/x/cancel',
      '/v1/tasks/%ZZ',
      '/v1/conversations/new/messages',
      '/v1/conversations/../messages',
      '/v1/chat/completions',
      '/v1/models',
      '/v1/events',
      '/',
      '//v1//status',
      '/v1/tasks?status=',
      '*',
    ];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE', 'BREW'];
    const bodies = (): string | Buffer =>
      pick<() => string | Buffer>([
        () =>
          JSON.stringify({
            agentId: pick(['default-openai-compatible', 'x', '', 7]),
            prompt: pick([str(int(50)), '', null]),
            context: pick([{}, [], 'x', { a: { b: [1] } }]),
          }),
        () => JSON.stringify({ text: str(int(40)), agentId: pick(['default-openai-compatible', undefined]) }),
        () =>
          JSON.stringify({
            model: 'default-openai-compatible',
            messages: pick([[], [{ role: 'user', content: str(10) }], 'x', [{ role: 'wizard' }]]),
            stream: pick([true, false, 'yes']),
          }),
        () => '['.repeat(int(20_000)),
        () => JSON.stringify(str(int(200))),
        () => bytes(int(2000)),
        () => '{"a":' + '1'.repeat(int(100)),
        () => '',
      ])();

    let http = 0;
    let raw = 0;
    let ws = 0;
    const codes = new Map<string, number>();
    const deadline = Date.now() + budgetMs;
    while (Date.now() < deadline) {
      const kind = rnd();
      if (kind < 0.7) {
        http++;
        const headers: Record<string, string> = {};
        if (rnd() < 0.3) headers['content-type'] = pick(['application/json', 'text/plain', 'application/json; charset=utf-8', str(5)]);
        if (rnd() < 0.1) headers.origin = pick(['https://evil.example', 'null', 'vscode-webview://x']);
        if (rnd() < 0.1) headers['x-' + int(1000)] = str(int(30)).replace(/[^\x21-\x7e]/g, 'a');
        const token = pick([undefined, undefined, undefined, null, 'mcl_' + str(43).replace(/[^\x21-\x7e]/g, 'a')]);
        const host = pick([undefined, undefined, undefined, 'evil.example', `localhost:${h.api.port}`]);
        let path = pick(paths);
        if (rnd() < 0.2) path += '?' + pick(['limit=' + int(5000), 'status=' + enc(str(3)), 'token=x', 'a=%', 'agentId=' + enc(str(5))]);
        if (rnd() < 0.1) path = '/v1/' + enc(str(int(30)));
        const method = pick(methods);
        const withBody = method !== 'GET' && method !== 'HEAD' && rnd() < 0.8;
        try {
          const r = await request(h.api, { method, path, token, host, headers, body: withBody ? bodies() : undefined });
          assert.ok(r.status < 500, `${method} ${path} → ${r.status} ${r.text.slice(0, 200)}`);
          if (r.status >= 400 && method !== 'HEAD' && r.headers['content-type']?.startsWith('application/json')) {
            const code = (r.json as { error?: { code?: unknown } }).error?.code;
            assert.ok(localApiErrorCodeSchema.safeParse(code).success, `unknown error code ${String(code)} for ${method} ${path}`);
            codes.set(String(code), (codes.get(String(code)) ?? 0) + 1);
          }
        } catch (err) {
          // A client-side protocol error (e.g. a header Node refuses to send) is fine; a server crash is not.
          if (!/ECONNRESET|socket hang up|Invalid character|HPE_|ERR_INVALID|ERR_UNESCAPED|Parse Error/.test(String(err))) throw err;
        }
      } else if (kind < 0.9) {
        raw++;
        await new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: h.api.port });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.on('data', () => undefined);
          s.once('connect', () => {
            const head = pick([
              `GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:${h.api.port}\r\n`,
              'GARBAGE',
              `POST /v1/tasks HTTP/1.1\r\nContent-Length: -1\r\n\r\n`,
              '\r\n\r\n',
              'GET / HTTP/9.9\r\n\r\n',
            ]);
            s.end(Buffer.concat([Buffer.from(head), bytes(int(300)), Buffer.from(pick(['\r\n\r\n', '']))]));
          });
        });
      } else {
        ws++;
        await new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: h.api.port });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.once('connect', () => {
            const auth = rnd() < 0.5 ? `Authorization: Bearer ${h.api.token}\r\n` : '';
            s.write(
              `GET ${pick(['/v1/events', '/v1/x', '/v1/events?token=1'])} HTTP/1.1\r\nHost: 127.0.0.1:${h.api.port}\r\n${auth}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
                `Sec-WebSocket-Version: ${pick(['13', '8', 'x'])}\r\nSec-WebSocket-Key: ${pick(['dGhlIHNhbXBsZSBub25jZQ==', str(5).replace(/[^\x21-\x7e]/g, 'a')])}\r\n\r\n`,
            );
            s.on('data', () => s.end(bytes(int(100))));
          });
        });
      }
    }
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection or exception');
    const after = await request(h.api, { path: '/v1/status' });
    assert.equal(after.status, 200, 'the API still serves');
    assert.ok(http + raw + ws > 50, `only ${http + raw + ws} requests in ${budgetMs} ms`);
    assert.ok(codes.size >= 5, `too little variety: ${JSON.stringify([...codes])}`);
    assert.ok(
      h.sink.lines.every((l) => !/request .* failed:/.test(l)),
      'no internal error was logged',
    );
  });

  const budget = fuzzBudget(40);
  const ROUTES: Array<[string, string, Record<string, unknown> | undefined]> = [
    ['GET', '/v1/status', undefined],
    ['GET', '/v1/agents', undefined],
    ['GET', '/v1/tasks', undefined],
    ['POST', '/v1/tasks', { agentId: 'default-openai-compatible', prompt: 'p', title: 't', context: { a: [1] } }],
    ['GET', '/v1/tasks/{id}', undefined],
    ['POST', '/v1/tasks/{id}/cancel', undefined],
    ['POST', '/v1/conversations/{id}/messages', { text: 'hi', agentId: 'default-openai-compatible' }],
    ['POST', '/v1/chat/completions', { model: 'default-openai-compatible', messages: [{ role: 'user', content: 'hi' }], stream: false }],
    ['GET', '/v1/models', undefined],
  ];

  it(`answers every route with a typed error or success: property-based (seed ${budget.seed}, ${budget.numRuns} runs per route)`, async () => {
    const unhandled: unknown[] = [];
    const on = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', on);
    process.on('uncaughtException', on);
    try {
      for (const [method, path, sample] of ROUTES) {
        const arb = fc.record({
          id: fc.oneof(
            fc.constant('new'),
            fc.constant('tsk_nope'),
            nastyString.map((x) => encodeURIComponent(x.replace(/[\ud800-\udfff]/g, '?')).slice(0, 300) || 'x'),
          ),
          body: bodyText(sample ? [sample] : []),
          json: fc.boolean(),
          token: fc.constantFrom<string | null | undefined>(undefined, undefined, null, 'mcl_' + 'x'.repeat(43)),
          query: fc.option(fc.constantFrom('limit=5', 'status=running', 'limit=-1', 'status=' + 'x'.repeat(500), 'a=%', 'agentId=%00'), { nil: undefined }),
        });
        await fc.assert(
          fc.asyncProperty(arb, async (q) => {
            const p = path.replace('{id}', q.id) + (q.query ? `?${q.query}` : '');
            const r = await request(h.api, {
              method,
              path: p,
              token: q.token,
              headers: q.json ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain' },
              body: method === 'GET' ? undefined : q.body,
            });
            assert.ok(r.status < 500, `${method} ${p.slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
            if (r.status >= 400 && r.headers['content-type']?.startsWith('application/json')) {
              const e = (r.json as { error?: { code?: unknown; message?: unknown } }).error;
              assert.ok(localApiErrorCodeSchema.safeParse(e?.code).success, `untyped error ${r.text.slice(0, 200)}`);
              assert.ok(typeof e?.message === 'string' && bounded(e.message, 2_500), `unbounded message for ${method} ${path}`);
            }
          }),
          { seed: budget.seed, numRuns: budget.numRuns, endOnFailure: true },
        );
      }
      assert.equal((await request(h.api, { path: '/v1/status' })).status, 200, 'the API still serves');
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      process.off('unhandledRejection', on);
      process.off('uncaughtException', on);
    }
  });
});
