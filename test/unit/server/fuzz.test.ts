/**
 * Property-based fuzzing of the workspace server (issue 11): every REST route with near-valid,
 * arbitrary and deeply nested bodies under every kind of credential, and every WSS frame type with
 * arbitrary content. Whatever arrives, the process stays up (no uncaught exception, no unhandled
 * rejection), answers with a typed error (a known code, the documented shape, bounded text) and
 * serves the next request. Budget: test/support/fuzz.ts (fixed seed in CI, MULTICLAW_FUZZ_RUNS for a
 * long run).
 */
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CLOSE_CODES, ERROR_CODES } from '../../../src/protocol/workspace/common';
import { CLIENT_FRAME_TYPES, RPC_METHOD_NAMES, serverFrameSchema } from '../../../src/protocol/workspace/frames';
import { ROUTES, type RouteId } from '../../../src/protocol/workspace/routes';
import { anyJson, bodyText, bounded, fuzzBudget, longFuzz, mutated, nastyString } from '../../support/fuzz';
import { call, registerInstance, sessionToken, WsClient, type Registered, type Team, type TestServer, useTeamServer } from '../../support/server';

const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));
const KNOWN_CLOSE = new Set<number>(Object.values(CLOSE_CODES).map((c) => c.code));
/** Routes that would end the fuzzing session's own credentials or workspace when they succeed. */
const DESTRUCTIVE: ReadonlySet<RouteId> = new Set(['auth.logout', 'workspaces.delete', 'members.remove', 'members.update', 'instances.remove']);

const SAMPLE_BODIES: Partial<Record<RouteId, Record<string, unknown>>> = {
  'auth.login': { email: 'nobody@example.test', password: 'x' },
  'invites.accept': { token: 'mcinv_' + 'a'.repeat(40) },
  'sessionTokens.mint': { scope: 'user' },
  'instance.heartbeat': { status: 'busy', activeTasks: 1 },
  'workspaces.create': { slug: 'fuzz-ws', name: 'Fuzz' },
  'workspaces.update': {
    name: 'Renamed',
    guardrails: { allowedDomains: [], blockedTools: [], approvalRequired: [], maxTokenBudget: null, restrictedProviders: [] },
  },
  'members.update': { role: 'viewer' },
  'invites.create': { role: 'member' },
  'instances.register': { name: 'fuzz', platform: 'linux', version: '1', kind: 'gateway' },
  'tasks.create': { title: 'fuzz', prompt: 'p', context: { a: [1, { b: 2 }] } },
  'tasks.assign': { assignee: null },
  'tasks.status': { status: 'running', note: 'n', progress: 0.5 },
  'tasks.submitPlan': { summary: 's', steps: [{ title: 'one' }] },
  'tasks.decidePlan': { decision: 'approved' },
  'agents.create': { name: 'A', provider: 'openai', model: 'gpt' },
  'agents.update': { description: 'd' },
  'providerKeys.set': { apiKey: 'sk-fuzz' },
};

interface Crashes {
  list: unknown[];
  stop(): void;
}

function trapCrashes(): Crashes {
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

/** The documented shape of every error answer, with bounded text (never an echo of the input). */
function assertTypedError(status: number, body: unknown, what: string): void {
  assert.ok(status < 500, `${what} → ${status} ${JSON.stringify(body).slice(0, 300)}`);
  if (status < 400) return;
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
  assert.ok(err && typeof err.code === 'string' && KNOWN_CODES.has(err.code), `${what}: untyped error ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(ERROR_CODES[err.code as keyof typeof ERROR_CODES].http, status, `${what}: ${err.code} with HTTP ${status}`);
  assert.ok(typeof err.message === 'string' && bounded(err.message, 300), `${what}: message ${String(err.message).slice(0, 100)}…`);
  assert.ok(bounded(JSON.stringify(err.details ?? null), 20_000), `${what}: details too large`);
}

describe('server: property-based fuzzing of every REST route and WSS frame type', function () {
  const budget = fuzzBudget(40);
  this.timeout(longFuzz() ? 0 : 120_000);
  let ts: TestServer;
  let team: Team;
  let reg: Registered;
  let taskId: string;

  useTeamServer(async (e) => {
    ({ ts, team } = e);
    reg = await registerInstance(team, team.people.member);
    const t = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'target', prompt: 'p' },
    });
    taskId = t.body.task.id;
  });

  it(`answers every REST route with a typed error or success (seed ${budget.seed}, ${budget.numRuns} runs per route)`, async () => {
    const crashes = trapCrashes();
    try {
      const tokens = (): fc.Arbitrary<string | undefined> =>
        fc.constantFrom(
          undefined,
          team.owner.token,
          team.people.admin.token,
          team.people.member.token,
          team.people.viewer.token,
          reg.workspaceToken,
          'mca_nope',
          'Bearer',
          '',
        );
      for (const id of Object.keys(ROUTES) as RouteId[]) {
        const spec = ROUTES[id];
        const sample = SAMPLE_BODIES[id];
        const request = fc.record({
          token: tokens(),
          wid: fc.oneof(fc.constant(team.wid), fc.constant('ws_nope'), nastyString),
          other: fc.oneof(fc.constant(taskId), fc.constant('x_nope'), nastyString),
          method: fc.oneof({ weight: 5, arbitrary: fc.constant(spec.method) }, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
          body: fc.option(bodyText(sample ? [sample] : []), { nil: undefined }),
          json: fc.boolean(),
          idem: fc.option(fc.oneof(fc.constant(`fz-${randomUUID()}`), nastyString), { nil: undefined }),
          query: fc.option(fc.dictionary(fc.constantFrom('limit', 'status', 'cursor', 'after', 'since', 'action', 'x'), nastyString, { maxKeys: 3 }), {
            nil: undefined,
          }),
        });
        await fc.assert(
          fc.asyncProperty(request, async (q) => {
            const destructive = DESTRUCTIVE.has(id) && q.token !== undefined;
            const wellFormed = (x: string): string => x.replace(/[\ud800-\udfff]/g, '?');
            const wid = destructive ? 'ws_nope' : wellFormed(q.wid);
            let p = spec.path.replace('{wid}', encodeURIComponent(wid));
            p = p.replace(/\{(\w+)\}/g, (_m, n: string) =>
              encodeURIComponent(n === 'provider' ? (destructive ? 'nope' : 'openai') : destructive ? 'x_nope' : wellFormed(q.other)),
            );
            if (q.query) p += '?' + new URLSearchParams(Object.entries(q.query).map(([k, v]): [string, string] => [k, wellFormed(v)])).toString();
            const headers: Record<string, string> = {};
            if (q.json) headers['content-type'] = 'application/json';
            if (q.idem !== undefined) headers['idempotency-key'] = q.idem.replace(/[^\x21-\x7e]/g, '_').slice(0, 300) || 'k';
            // A destructive route without a path parameter (logout) gets a token that means nothing.
            const token = destructive && !spec.path.includes('{') ? 'mca_nope' : q.token;
            const r = await fetch(ts.url + p, {
              method: q.method,
              headers: { ...headers, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
              body: q.method === 'GET' || q.body === undefined ? undefined : q.body,
            });
            const text = await r.text();
            let body: unknown;
            try {
              body = JSON.parse(text);
            } catch {
              assert.fail(`${id} ${q.method} ${p.slice(0, 100)} → ${r.status}, not JSON: ${text.slice(0, 200)}`);
            }
            assertTypedError(r.status, body, `${id} ${q.method}`);
          }),
          { seed: budget.seed, numRuns: budget.numRuns, endOnFailure: true },
        );
      }
      assert.equal((await call(ts.url, 'GET', '/v1/health')).status, 200);
      assert.deepEqual(crashes.list.map(String), [], 'no uncaught exception or unhandled rejection');
    } finally {
      crashes.stop();
    }
  });

  it(`answers every WSS frame type with a typed error frame or res, or a documented close (seed ${budget.seed})`, async () => {
    const crashes = trapCrashes();
    const tokens = [
      await sessionToken(ts, team.people.viewer.token, team.wid),
      await sessionToken(ts, team.people.member.token, team.wid),
      await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'),
    ];
    let client: WsClient | undefined;
    let closes = 0;
    const open = async (k: number): Promise<WsClient> => {
      if (client && client.ws.readyState === client.ws.OPEN) return client;
      if (client) {
        const c = await client.closed;
        assert.ok(KNOWN_CLOSE.has(c.code), `undocumented close ${c.code} ${c.reason}`);
        closes++;
      }
      client = (await WsClient.ready(ts.wsUrl, tokens[k % tokens.length])).client;
      return client;
    };
    const params: Record<string, Record<string, unknown>> = {
      'task.update': { taskId, status: 'running', note: 'n' },
      'task.submitPlan': { taskId, summary: 's', steps: [{ title: 't' }] },
      'task.get': { taskId },
      'task.list': { limit: 2 },
    };
    const frame = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .record({
            method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...RPC_METHOD_NAMES) }, nastyString),
            key: fc.option(fc.string({ minLength: 8, maxLength: 40 }), { nil: undefined }),
          })
          .chain(({ method, key }) =>
            fc
              .oneof(mutated(params[method] ?? {}), anyJson)
              .map((p) => JSON.stringify({ type: 'req', id: randomUUID(), method, params: p, idempotencyKey: key ?? `k-${randomUUID()}` })),
          ),
      },
      {
        weight: 2,
        arbitrary: mutated({ type: 'signal', id: 's1', sessionId: 'x', kind: 'offer', to: { instanceId: reg.instanceId }, payload: { sdp: 'v=0' } }).map((v) =>
          JSON.stringify(v),
        ),
      },
      mutated({ type: 'heartbeat', ts: 1, status: 'idle' }).map((v) => JSON.stringify(v)),
      mutated({ type: 'hello', protocol: 1, client: { name: 'again', version: '1' } }).map((v) => JSON.stringify(v)),
      fc.record({ type: fc.oneof(fc.constantFrom(...CLIENT_FRAME_TYPES), anyJson), id: fc.option(anyJson, { nil: undefined }) }).map((v) => JSON.stringify(v)),
      bodyText([{ type: 'req', id: 'r', method: 'task.list', params: {} }]),
    );
    try {
      let k = 0;
      await fc.assert(
        fc.asyncProperty(frame, fc.boolean(), async (text, binary) => {
          const c = await open(k++);
          const before = c.frames.length;
          c.ws.send(binary ? Buffer.from(text) : text);
          // The probe: the socket still answers (or it was closed with a documented code).
          const probe = randomUUID();
          c.send({ type: 'req', id: probe, method: 'task.list', params: { limit: 1 } });
          const res = await Promise.race([c.next((f) => f.type === 'res' && f.id === probe, 10_000), c.closed.then(() => undefined)]);
          if (res === undefined) return;
          assert.equal(res.ok, true, JSON.stringify(res).slice(0, 300));
          for (const f of c.frames.slice(before)) {
            assert.ok(serverFrameSchema.safeParse(f).success, `frame off schema: ${JSON.stringify(f).slice(0, 300)}`);
            if (f.type === 'error' || (f.type === 'res' && f.ok === false)) {
              const e = f.error as { code: string; message: string };
              assert.ok(KNOWN_CODES.has(e.code) && bounded(e.message, 300), JSON.stringify(f).slice(0, 300));
            }
          }
          c.frames.splice(0);
        }),
        { seed: budget.seed, numRuns: budget.numRuns * 8, endOnFailure: true },
      );
      (client as WsClient | undefined)?.close();
      assert.equal((await call(ts.url, 'GET', '/v1/health')).status, 200);
      assert.deepEqual(crashes.list.map(String), [], 'no uncaught exception or unhandled rejection');
      assert.ok(closes < budget.numRuns * 8, 'most frames leave the socket up');
    } finally {
      crashes.stop();
    }
  });
});
