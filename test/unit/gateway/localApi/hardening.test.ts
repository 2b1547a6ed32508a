/**
 * The local API stays up and stays usable (issue 11, items 1 and 8): a body nested thousands deep is
 * refused before it is parsed (it made the gateway process exit), and failed authentications slow
 * down only the connection that sends them — ten bad requests no longer lock the API for everyone,
 * and refusals for Host, Origin or Referer never count.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { type ApiHarness, errorCode, request, startApiGateway } from './helpers';

const deepObject = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

function trapCrashes(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const on = (e: unknown): void => void list.push(e);
  process.on('uncaughtException', on);
  process.on('unhandledRejection', on);
  return {
    list,
    stop: () => {
      process.off('uncaughtException', on);
      process.off('unhandledRejection', on);
    },
  };
}

/** The failure counts the server logged for refused requests, in order. */
const failureCounts = (lines: string[]): number[] =>
  lines.map((l) => /failure (\d+) on this connection, answered after (\d+) ms/.exec(l)).flatMap((m) => (m ? [Number(m[1])] : []));

describe('Local API: deep bodies, per-connection authentication delay', () => {
  let server: ProviderServer;
  let h: ApiHarness;

  before(async () => {
    server = await startProviderServer();
    h = await startApiGateway(server, { limits: { authDelayMs: 20, maxAuthDelayMs: 160 } });
  });
  after(async () => {
    await h.close();
    await server.close();
  });

  it('refuses a task whose context is nested 4,100 deep with a typed error, and stays up', async () => {
    const trap = trapCrashes();
    try {
      const body = `{"agentId":"default-openai-compatible","prompt":"p","context":${deepObject(4_100)}}`;
      const r = await request(h.api, { method: 'POST', path: '/v1/tasks', body });
      assert.equal(r.status, 400);
      assert.equal(errorCode(r), 'invalid_json');
      assert.match(r.text, /nests deeper than 64 levels/);
      const msg = await request(h.api, { method: 'POST', path: '/v1/conversations/new/messages', body: `{"text":"hi","x":${deepObject(3_000)}}` });
      assert.equal(errorCode(msg), 'invalid_json');
      const ok = await request(h.api, {
        method: 'POST',
        path: '/v1/tasks',
        body: `{"agentId":"default-openai-compatible","prompt":"p","context":${deepObject(40)}}`,
      });
      assert.equal(ok.status, 201, ok.text.slice(0, 300));
      assert.equal((await request(h.api, { path: '/v1/status' })).status, 200);
      assert.equal((await request(h.api, { path: '/v1/tasks' })).status, 200, 'lists still serve');
      assert.deepEqual(trap.list, []);
    } finally {
      trap.stop();
    }
  });

  it('delays only the failing connection, doubling; ten bad requests do not lock anyone else out', async () => {
    const hammer = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = h.sink.lines.length;
      for (let i = 0; i < 10; i++) {
        const r = await request(h.api, { path: '/v1/status', token: `mcl_guess${i}`.padEnd(47, 'x'), agent: hammer });
        assert.equal(r.status, 401);
        assert.equal(errorCode(r), 'unauthorized');
      }
      assert.deepEqual(failureCounts(h.sink.lines.slice(before)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'one connection, counted up');
      const delays = h.sink.lines
        .slice(before)
        .map((l) => /answered after (\d+) ms/.exec(l)?.[1])
        .filter(Boolean)
        .map(Number);
      assert.deepEqual(delays, [20, 40, 80, 160, 160, 160, 160, 160, 160, 160], 'doubling up to the cap');
      // Everyone else: the right token works at once, on a new connection and for WebSocket upgrades.
      assert.equal((await request(h.api, { path: '/v1/status' })).status, 200);
      const other = h.sink.lines.length;
      assert.equal((await request(h.api, { path: '/v1/status', token: 'mcl_wrong'.padEnd(47, 'y') })).status, 401);
      assert.deepEqual(failureCounts(h.sink.lines.slice(other)), [1], 'another connection starts from its first failure');
      // The right token on the hammering connection resets it.
      assert.equal((await request(h.api, { path: '/v1/status', agent: hammer })).status, 200);
      const reset = h.sink.lines.length;
      assert.equal((await request(h.api, { path: '/v1/status', token: null, agent: hammer })).status, 401);
      assert.deepEqual(failureCounts(h.sink.lines.slice(reset)), [1]);
    } finally {
      hammer.destroy();
    }
  });

  it('never counts refusals for Host, Origin, Referer or a token in the query', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = h.sink.lines.length;
      for (let i = 0; i < 5; i++) {
        assert.equal((await request(h.api, { path: '/v1/status', token: null, host: 'evil.example', agent })).status, 421);
        assert.equal((await request(h.api, { path: '/v1/status', token: null, headers: { origin: 'https://evil.example' }, agent })).status, 403);
        const ref = await request(h.api, { path: '/v1/status', token: null, headers: { referer: 'https://evil.example/page' }, agent });
        assert.equal(ref.status, 403);
        assert.equal(errorCode(ref), 'forbidden_origin', 'a Referer means a browser sent it');
        assert.equal((await request(h.api, { path: '/v1/status?token=x', token: null, agent })).status, 400);
      }
      assert.deepEqual(failureCounts(h.sink.lines.slice(before)), [], 'none counted');
      assert.equal((await request(h.api, { path: '/v1/status', token: null, agent })).status, 401);
      assert.deepEqual(failureCounts(h.sink.lines.slice(before)), [1], 'the first real failure on that connection');
      assert.equal((await request(h.api, { path: '/v1/status', headers: { referer: 'https://evil.example/' } })).status, 403, 'even with the right token');
    } finally {
      agent.destroy();
    }
  });
});
