/**
 * The local API's attack table (issue 7), each row a test against a real listener on 127.0.0.1:
 * no token; wrong token; token in the query string; brute force (a growing per-connection delay, no lockout); a web page's
 * Origin over HTTP and WebSocket; DNS rebinding (Host); a non-loopback address of this machine;
 * oversized body; malformed JSON; slow-loris (headers and body).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { type ApiHarness, errorCode, ManualClock, openEvents, request, startApiGateway } from './helpers';

describe('Local API: the attack table', function () {
  let server: ProviderServer;
  let h: ApiHarness;
  let clock: ManualClock;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    clock = new ManualClock();
    h = await startApiGateway(server, {
      clock,
      limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, bodyBytes: 64 * 1024, authDelayMs: 1, maxAuthDelayMs: 8 },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers an authenticated request (the control for every row below)', async () => {
    const r = await request(h.api, { path: '/v1/status' });
    assert.equal(r.status, 200);
    assert.equal((r.json as { ok: boolean }).ok, true);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS');
  });

  it('no token → 401 unauthorized with WWW-Authenticate, on every route', async () => {
    for (const [method, p] of [
      ['GET', '/v1/status'],
      ['GET', '/v1/agents'],
      ['GET', '/v1/tasks'],
      ['POST', '/v1/tasks'],
      ['GET', '/v1/nope'],
    ] as const) {
      const r = await request(h.api, { method, path: p, token: null });
      assert.equal(r.status, 401, `${method} ${p}`);
      assert.equal(errorCode(r), 'unauthorized');
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
    const basic = await request(h.api, {
      path: '/v1/status',
      token: null,
      headers: { authorization: `Basic ${Buffer.from(`x:${h.api.token}`).toString('base64')}` },
    });
    assert.equal(basic.status, 401, 'the token in Basic auth is not accepted');
  });

  it("wrong token → 401: same length, other length, a prefix, the previous start's token", async () => {
    const t = h.api.token;
    const flipped = t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    for (const wrong of [flipped, t.slice(0, 20), t + 'x', 'mcl_' + 'A'.repeat(43), '"' + t + '"']) {
      const r = await request(h.api, { path: '/v1/status', token: wrong });
      assert.equal(r.status, 401, wrong);
      assert.equal(errorCode(r), 'unauthorized');
    }
    const old = h.api.token;
    await h.gateway.restart();
    const api = h.gateway.localApi!;
    assert.notEqual(api.token, old, 'a new token per start');
    assert.equal((await request(api, { path: '/v1/status', token: old })).status, 401);
    assert.equal((await request(api, { path: '/v1/status' })).status, 200);
    h.api = api;
  });

  it('token in the query string → 400 token_in_query, even the right token, even with a valid header, even percent-encoded', async () => {
    const t = encodeURIComponent(h.api.token);
    for (const p of [`/v1/status?token=${t}`, `/v1/status?access_token=${t}`, `/v1/status?%74oken=${t}`, `/v1/tasks?status=queued&Token=${t}`]) {
      const r1 = await request(h.api, { path: p, token: null });
      assert.equal(r1.status, 400, p);
      assert.equal(errorCode(r1), 'token_in_query');
      const r2 = await request(h.api, { path: p });
      assert.equal(errorCode(r2), 'token_in_query', `${p} with a valid header`);
    }
    await assert.rejects(
      openEvents(h.api, { token: null, path: `/v1/events?token=${t}` }),
      (e: { status?: number; body?: string }) => e.status === 400 && /token_in_query/.test(e.body ?? ''),
    );
  });

  it('brute force → each failure on a connection holds its 401 longer; the right token still works for everyone (no lockout)', async () => {
    const hammer = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 12; i++) {
        const r = await request(h.api, { path: '/v1/status', token: `mcl_guess${i}`.padEnd(47, 'x'), agent: hammer });
        assert.equal(r.status, 401, 'never a lockout answer');
        assert.equal(errorCode(r), 'unauthorized');
      }
      assert.ok(
        h.sink.lines.some((l) => /failure 12 on this connection, answered after 8 ms/.test(l)),
        'the delay grew on that connection (capped)',
      );
      assert.equal((await request(h.api, { path: '/v1/status' })).status, 200, 'another client is not locked out');
      await openEvents(h.api).then((c) => c.close());
    } finally {
      hammer.destroy();
    }
  });

  it('Origin: https://evil.example (and null, and a browser Sec-Fetch-Site) over HTTP → 403 forbidden_origin, even with the right token', async () => {
    const browserHeaders: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'http://127.0.0.1:' + h.api.port },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of browserHeaders) {
      const r = await request(h.api, { path: '/v1/status', headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(errorCode(r), 'forbidden_origin');
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    const preflight = await request(h.api, {
      method: 'OPTIONS',
      path: '/v1/tasks',
      token: null,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 403, 'a CORS preflight is refused');
    const post = await request(h.api, {
      method: 'POST',
      path: '/v1/tasks',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ agentId: 'default-openai-compatible', prompt: 'pwned' }),
    });
    assert.equal(post.status, 403);
    assert.equal(h.gateway.tasks.list().length, 0, 'no task was created');
  });

  it('Origin: https://evil.example on the WebSocket upgrade → 403, no socket (cross-site WebSocket hijacking, CVE-2026-25253)', async () => {
    await assert.rejects(
      openEvents(h.api, { headers: { origin: 'https://evil.example' } }),
      (e: { status?: number; body?: string }) => e.status === 403 && /forbidden_origin/.test(e.body ?? ''),
    );
    await assert.rejects(openEvents(h.api, { headers: { origin: 'null' } }), (e: { status?: number }) => e.status === 403);
    const ok = await openEvents(h.api);
    assert.equal((await ok.next((e) => e.type === 'hello')).type, 'hello', 'the same upgrade without Origin works');
    ok.close();
  });

  it('Host: evil.example (DNS rebinding) → 421 bad_host over HTTP and WebSocket; loopback names with our port pass', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${h.api.port}`,
      `localhost:${h.api.port + 1}`,
      '127.0.0.1',
      `127.0.0.2:${h.api.port}`,
      `localhost.evil.example:${h.api.port}`,
      null,
    ]) {
      const r = await request(h.api, { path: '/v1/status', host });
      assert.ok(r.status === 421 || r.status === 400, `${String(host)} → ${r.status}`);
      if (host !== null) assert.equal(errorCode(r), 'bad_host', String(host));
    }
    for (const host of [`127.0.0.1:${h.api.port}`, `localhost:${h.api.port}`, `LOCALHOST:${h.api.port}`, `[::1]:${h.api.port}`]) {
      assert.equal((await request(h.api, { path: '/v1/status', host })).status, 200, host);
    }
    await assert.rejects(openEvents(h.api, { headers: { host: `evil.example:${h.api.port}` } }), (e: { status?: number }) => e.status === 421);
  });

  it('a non-loopback address of this machine: nothing listens there', async function () {
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal && !a.address.startsWith('fe80'))
      .map((a) => a.address);
    if (addresses.length === 0) this.skip();
    for (const address of addresses) {
      const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const s = net.connect({ host: address, port: h.api.port });
        s.once('connect', () => {
          s.destroy();
          resolve(undefined);
        });
        s.once('error', (e) => resolve(e));
      });
      assert.ok(err, `connected to ${address}:${h.api.port}`);
      assert.equal(err.code, 'ECONNREFUSED', `${address}: ${err.code}`);
    }
  });

  it('oversized body → 413 payload_too_large, declared or chunked; nothing is created', async () => {
    const big = JSON.stringify({ agentId: 'default-openai-compatible', prompt: 'x'.repeat(100 * 1024) });
    const declared = await request(h.api, { method: 'POST', path: '/v1/tasks', body: big });
    assert.equal(declared.status, 413);
    assert.equal(errorCode(declared), 'payload_too_large');
    const chunked = await request(h.api, {
      method: 'POST',
      path: '/v1/tasks',
      body: big,
      headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
    });
    assert.equal(chunked.status, 413);
    assert.equal(h.gateway.tasks.list().length, 0);
    assert.equal((await request(h.api, { path: '/v1/status' })).status, 200, 'the API still answers');
  });

  it('malformed JSON → 400 invalid_json; a wrong shape → 400 invalid_request with issues; not JSON → 415', async () => {
    for (const body of ['{"agentId":', '{"agentId": "a", prompt: x}', '\u0000\u0001', '']) {
      const r = await request(h.api, { method: 'POST', path: '/v1/tasks', body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorCode(r), 'invalid_json');
    }
    const shape = await request(h.api, { method: 'POST', path: '/v1/tasks', body: JSON.stringify({ agentId: 7, prompt: '', extra: true }) });
    assert.equal(shape.status, 400);
    assert.equal(errorCode(shape), 'invalid_request');
    const paths = (shape.json as { error: { details: { issues: Array<{ path: string }> } } }).error.details.issues.map((i) => i.path);
    assert.ok(paths.includes('agentId') && paths.includes('prompt'), paths.join(','));
    const form = await request(h.api, {
      method: 'POST',
      path: '/v1/tasks',
      body: 'agentId=a&prompt=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    assert.equal(errorCode(form), 'unsupported_media_type');
  });

  /** A raw client that sends `payload` (maybe nothing) and never finishes; resolves when the server closes it. */
  function stalledClient(payload: string): Promise<{ data: string; elapsed: number; connected: boolean }> {
    return new Promise((resolve) => {
      const started = Date.now();
      let data = '';
      let connected = false;
      const s = net.connect({ host: '127.0.0.1', port: h.api.port }, () => {
        connected = true;
        if (payload) s.write(payload);
      });
      s.on('data', (c: Buffer) => {
        data += c.toString('latin1');
      });
      s.on('error', () => undefined);
      s.once('close', () => resolve({ data, elapsed: Date.now() - started, connected }));
    });
  }

  it('slow-loris: headers that never finish → 408 and the socket closed by the headers timeout', async () => {
    const { data, elapsed } = await stalledClient(
      `GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:${h.api.port}\r\nAuthorization: Bearer ${h.api.token}\r\nX-Slow: 1`,
    );
    assert.match(data, /^HTTP\/1\.1 408/);
    assert.ok(elapsed >= 300 && elapsed < 5_000, `closed after ${elapsed} ms (headers timeout 400 ms)`);
  });

  it('slow-loris: a connection that sends nothing is closed by the headers timeout', async () => {
    const { elapsed, connected } = await stalledClient('');
    assert.ok(connected, 'the listener accepted the connection');
    assert.ok(elapsed >= 300 && elapsed < 5_000, `closed after ${elapsed} ms (headers timeout 400 ms)`);
  });

  it('a reply that streams for longer than the headers and request timeouts is not cut', async () => {
    const r = await request(h.api, {
      method: 'POST',
      path: '/v1/conversations/new/messages',
      body: JSON.stringify({ agentId: 'default-openai-compatible', text: 'slow #scenario:slow:60' }),
    });
    assert.equal(r.status, 200);
    assert.match(r.text, /"status":"complete"/);
  });

  it('slow-loris: a body that never finishes → the socket is closed by the request timeout', async () => {
    const { elapsed } = await stalledClient(
      `POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1:${h.api.port}\r\nAuthorization: Bearer ${h.api.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"agentId":`,
    );
    assert.ok(elapsed >= 600 && elapsed < 5_000, `closed after ${elapsed} ms (request timeout 800 ms)`);
    assert.equal((await request(h.api, { path: '/v1/status' })).status, 200, 'the API still answers');
  });

  it('refused upgrades and malformed requests do not hold connection slots (connection exhaustion)', async () => {
    const small = await startApiGateway(server, { limits: { maxConnections: 20 } });
    try {
      const raw = (payload: string): Promise<string> =>
        new Promise((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: small.api.port });
          let data = '';
          s.on('data', (c: Buffer) => {
            data += c.toString('latin1');
            s.end('junk after the answer');
          });
          s.on('error', () => resolve(data));
          s.on('close', () => resolve(data));
          s.once('connect', () => s.write(payload));
        });
      for (let i = 0; i < 60; i++) {
        const answer =
          i % 2
            ? await raw(
                `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${small.api.port}\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
              )
            : await raw('NOT HTTP AT ALL\r\n\r\n');
        assert.match(answer, i % 2 ? /^HTTP\/1\.1 403/ : /^HTTP\/1\.1 400/);
      }
      assert.equal((await request(small.api, { path: '/v1/status' })).status, 200, '60 refused connections on a 20-connection listener: all released');
    } finally {
      await small.close();
    }
  });

  it('never writes the token to the log, and the discovery file is 0600', async () => {
    await request(h.api, { path: `/v1/status?token=${h.api.token}`, token: null });
    await request(h.api, { path: '/v1/status', token: h.api.token + 'x' });
    const log = h.sink.lines.join('\n');
    assert.ok(!log.includes(h.api.token), 'the token is not in the log');
    assert.ok(h.redactor.redact(`x ${h.api.token} y`).includes('[REDACTED]'), 'the token is registered with the redactor');
    const { mode } = await import('node:fs').then((fs) => fs.statSync(h.api.discoveryFile));
    assert.equal(mode & 0o777, 0o600);
  });
});
