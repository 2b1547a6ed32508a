import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { apiErrorSchema, CLOSE_CODES, ERROR_CODES } from '../../../src/protocol/workspace/common';
import { protocolJsonSchema, protocolMarkdown } from '../../../src/protocol/workspace/docs';
import { eventSchema } from '../../../src/protocol/workspace/events';
import { clientFrameSchema, RPC_METHODS, serverFrameSchema, type RpcMethod } from '../../../src/protocol/workspace/frames';
import { formatKeyBlob, keyBlobSchema, parseKeyBlob } from '../../../src/protocol/workspace/keyBlob';
import { ROUTES, type RouteId, type RouteSpec } from '../../../src/protocol/workspace/routes';
import { call, makeTeam, registerInstance, sessionToken, startTestServer, WsClient, type Frame, type TestServer } from '../../support/server';

const ROOT = path.resolve(__dirname, '../../../..');

/** parse(x) must give back exactly x: nothing dropped (unknown to the schema), nothing added. */
function roundTrip(schema: z.ZodType, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  assert.ok(r.success, `${what}: ${r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))}`);
  assert.deepEqual(r.data, value, `${what} does not round-trip`);
  assert.deepEqual(JSON.parse(JSON.stringify(r.data)), value);
}

const compiled = (Object.keys(ROUTES) as RouteId[]).map((id) => ({
  id,
  re: new RegExp(`^${ROUTES[id].path.replace(/\{\w+\}/g, '[^/]+')}$`),
  method: ROUTES[id].method,
}));
const routeOf = (method: string, p: string): RouteId | undefined => compiled.find((r) => r.method === method && r.re.test(p.split('?')[0]))?.id;

describe('server protocol v1: schemas, conformance, generated docs', () => {
  let ts: TestServer;
  const seen = new Set<RouteId>();
  const rpcSeen = new Set<RpcMethod>();
  const frames: Frame[] = [];

  before(async () => {
    ts = await startTestServer({ turn: { urls: ['turn:127.0.0.1:3478'], secret: 's3cret-turn' } });
  });
  after(async () => ts.close());

  /** A REST call whose answer must conform to the route's response schema (or the error schema). */
  async function api<T = Record<string, unknown>>(method: string, p: string, o: Parameters<typeof call>[3] = {}): Promise<T> {
    const id = routeOf(method, p);
    assert.ok(id, `no route for ${method} ${p}`);
    const r = await call(ts.url, method, p, o);
    if (r.status >= 400) {
      roundTrip(apiErrorSchema, r.body, `${id} error`);
      assert.equal(ERROR_CODES[(r.body.error as { code: keyof typeof ERROR_CODES }).code].http, r.status);
      throw new Error(`${id} → ${r.status} ${JSON.stringify(r.body)}`);
    }
    assert.equal(r.status, (ROUTES[id] as RouteSpec).status ?? 200, id);
    roundTrip(ROUTES[id].response, r.body, `${id} response`);
    seen.add(id);
    return r.body as T;
  }

  async function rpc(c: WsClient, method: RpcMethod, params: unknown, key?: string): Promise<unknown> {
    const res = await c.rpc(method, params, key);
    assert.equal(res.ok, true, JSON.stringify(res));
    roundTrip(RPC_METHODS[method].result, res.result, `${method} result`);
    rpcSeen.add(method);
    return res.result;
  }

  it('every REST route and RPC method answers exactly in its schema', async () => {
    const team = await makeTeam(ts, ['admin', 'member']);
    const w = `/v1/workspaces/${team.wid}`;
    const owner = team.owner.token;
    await api('GET', '/v1/health');
    await api('GET', '/v1/ready');
    await api('POST', '/v1/auth/login', { body: { email: team.owner.email, password: team.owner.password } });
    await api('GET', '/v1/me', { token: owner });
    const ws2 = await api<{ workspace: { id: string } }>('POST', '/v1/workspaces', {
      token: team.people.member.token,
      idem: true,
      body: { slug: `p-${Date.now()}`, name: 'P', timezone: 'Europe/Paris' },
    });
    await api('GET', '/v1/workspaces', { token: owner });
    await api('GET', w, { token: owner });
    await api('PATCH', w, { token: owner, idem: true, body: { name: 'Renamed' } });
    await api('GET', `${w}/members`, { token: owner });
    await api('PATCH', `${w}/members/${team.people.member.memberId}`, { token: owner, idem: true, body: { role: 'member' } });
    const inv = await api<{ token: string; invite: { id: string } }>('POST', `${w}/invites`, {
      token: owner,
      idem: true,
      body: { role: 'viewer', email: 'v@example.test' },
    });
    await api('GET', `${w}/invites`, { token: owner });
    await api('POST', '/v1/invites/accept', { body: { token: inv.token, email: 'v@example.test', name: 'V', password: 'viewer-password' } });
    const inv2 = await api<{ invite: { id: string } }>('POST', `${w}/invites`, { token: owner, idem: true, body: { role: 'member' } });
    await api('DELETE', `${w}/invites/${inv2.invite.id}`, { token: owner, idem: true });
    const regBody = await api<{ instance: { id: string }; instanceSecret: string; workspaceToken: string }>('POST', `${w}/instances`, {
      token: team.people.member.token,
      idem: true,
      body: { name: 'gw', platform: 'linux', version: '1', kind: 'gateway' },
    });
    const reg = { instanceId: regBody.instance.id, workspaceToken: regBody.workspaceToken };
    const desk = await registerInstance(team, team.people.member, 'desktop');
    await api('GET', `${w}/instances`, { token: owner });
    await api('POST', '/v1/instance/heartbeat', { token: reg.workspaceToken, body: { status: 'busy', activeTasks: 1 } });
    await api('POST', '/v1/session-tokens', { token: reg.workspaceToken, body: { scope: 'daemon' } });
    const agent = await api<{ agent: { id: string } }>('POST', `${w}/agents`, {
      token: owner,
      idem: true,
      body: { name: 'A', emoji: '🤖', provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1' },
    });
    await api('PATCH', `${w}/agents/${agent.agent.id}`, { token: owner, idem: true, body: { description: 'edited' } });
    await api('GET', `${w}/agents`, { token: owner });
    await api('PUT', `${w}/provider-keys/gemini`, { token: owner, idem: true, body: { apiKey: 'AIza-not-a-real-key' } });
    await api('GET', `${w}/provider-keys`, { token: owner });
    await api('GET', `${w}/config`, { token: reg.workspaceToken });
    await api('GET', `${w}/turn-credentials`, { token: owner });
    const task = await api<{ task: { id: string } }>('POST', `${w}/tasks`, {
      token: owner,
      idem: true,
      body: { title: 'T', prompt: 'P', agentId: agent.agent.id, context: { files: ['a.ts'] } },
    });
    const t = `${w}/tasks/${task.task.id}`;
    await api('POST', `${t}/assign`, { token: owner, idem: true, body: { assignee: { type: 'instance', instanceId: reg.instanceId } } });
    const plan = await api<{ plan: { id: string } }>('POST', `${t}/plans`, {
      token: reg.workspaceToken,
      idem: true,
      body: { summary: 'S', steps: [{ title: 'one', detail: 'd' }] },
    });
    await api('POST', `${t}/plans/${plan.plan.id}/decision`, { token: owner, idem: true, body: { decision: 'approved', comment: 'ok' } });
    await api('POST', `${t}/status`, {
      token: reg.workspaceToken,
      idem: true,
      body: { status: 'completed', note: 'n', result: { summary: 's', output: 'o' } },
    });
    await api('GET', `${w}/tasks?status=completed&limit=5`, { token: owner });
    await api('GET', t, { token: owner });
    const doomed = await api<{ task: { id: string } }>('POST', `${w}/tasks`, { token: owner, idem: true, body: { title: 'D', prompt: 'P' } });
    await api('DELETE', `${w}/tasks/${doomed.task.id}`, { token: owner, idem: true });
    await api('GET', `${w}/audit?limit=5`, { token: owner });
    await api('GET', `${w}/events?after=0&limit=50`, { token: owner });

    // Every frame this daemon socket receives is recorded (replay from seq 0, then live).
    const sock = await WsClient.connect(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'));
    sock.ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
    sock.send({ type: 'hello', protocol: 1, lastSeq: 0, client: { name: 'conformance', version: '1' } });
    await sock.next((f) => f.type === 'resumed');
    const t2 = await api<{ task: { id: string } }>('POST', `${w}/tasks`, {
      token: owner,
      idem: true,
      body: { title: 'T2', prompt: 'P', assignee: { type: 'instance', instanceId: reg.instanceId } },
    });
    await rpc(sock, 'task.update', { taskId: t2.task.id, status: 'running', progress: 0.5, note: 'half' }, `k-${t2.task.id}`);
    await rpc(sock, 'task.submitPlan', { taskId: t2.task.id, summary: 's', steps: [{ title: 'x' }] }, `p-${t2.task.id}`);
    await rpc(sock, 'task.get', { taskId: t2.task.id });
    await rpc(sock, 'task.list', { status: ['awaiting_approval'], limit: 3 });
    await rpc(sock, 'config.get', {});
    await rpc(sock, 'turn.credentials', {});
    await rpc(sock, 'presence.list', {});
    await rpc(sock, 'instance.report', { status: 'running', label: 'eu-west · vm-1' });
    const deskSock = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, desk.workspaceToken, undefined, 'daemon'))).client;
    deskSock.send({
      type: 'heartbeat',
      ts: Date.now(),
      metrics: { cpuPct: 5, memUsedBytes: 1, memTotalBytes: 2, diskUsedBytes: 3, diskTotalBytes: 4, at: new Date().toISOString() },
    });
    await api('POST', `${w}/instances/${desk.instanceId}/lifecycle`, { token: owner, idem: true, body: { action: 'restart' } });
    const ownerSock = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, owner, team.wid))).client;
    await rpc(ownerSock, 'instance.lifecycle', { instanceId: desk.instanceId, action: 'stop' }, `l-${desk.instanceId}`);
    ownerSock.close();
    deskSock.close();
    sock.send({ type: 'bogus' });
    await sock.next((f) => f.type === 'error');
    await api('DELETE', `${w}/provider-keys/gemini`, { token: owner, idem: true });
    await api('DELETE', `${w}/agents/${agent.agent.id}`, { token: owner, idem: true });
    await api('DELETE', `${w}/instances/${desk.instanceId}`, { token: owner, idem: true });
    await api('DELETE', `${w}/members/${team.people.admin.memberId}`, { token: owner, idem: true });
    await api('DELETE', `/v1/workspaces/${ws2.workspace.id}`, { token: team.people.member.token, idem: true });
    await api('POST', '/v1/auth/logout', { token: team.people.member.token });
    await sock.next((f) => f.type === 'event' && f.name === 'member.removed');
    sock.close();
    const last = await WsClient.connect(ts.wsUrl, await sessionToken(ts, owner, team.wid));
    last.ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
    last.send({ type: 'hello', protocol: 1, client: { name: 'shutdown', version: '1' } });
    await last.next((f) => f.type === 'resumed');
    await ts.server.close();
    assert.equal((await last.closed).code, CLOSE_CODES.shutdown.code);

    const missing = (Object.keys(ROUTES) as RouteId[]).filter((id) => !seen.has(id));
    assert.deepEqual(missing, [], 'routes not exercised');
    assert.deepEqual(
      (Object.keys(RPC_METHODS) as RpcMethod[]).filter((m) => !rpcSeen.has(m)),
      [],
      'rpc methods not exercised',
    );
  });

  it('every server frame and event sent in that session round-trips through its schema', () => {
    const types = new Set<string>();
    const events = new Set<string>();
    for (const f of frames) {
      roundTrip(serverFrameSchema, f, `frame ${f.type}`);
      types.add(f.type);
      if (f.type === 'event') {
        const { type: _t, ...ev } = f;
        roundTrip(eventSchema, ev, `event ${String(f.name)}`);
        events.add(String(f.name));
      }
    }
    for (const t of ['welcome', 'resumed', 'event', 'res', 'error', 'shutdown']) assert.ok(types.has(t), `no ${t} frame seen`);
    for (const e of [
      'task.created',
      'task.updated',
      'task.plan',
      'task.deleted',
      'config.changed',
      'workspace.updated',
      'member.joined',
      'member.updated',
      'member.removed',
      'instance.registered',
      'instance.removed',
      'instance.presence',
      'instance.updated',
      'instance.command',
    ]) {
      assert.ok(events.has(e), `no ${e} event seen`);
    }
  });

  it('round-trips every client frame and request sample', () => {
    const samples = [
      { type: 'hello', protocol: 1, lastSeq: 12, client: { name: 'multiclaw-vscode', version: '0.1.0', platform: 'linux' } },
      { type: 'hello', protocol: 1, lastSeq: null, client: { name: 'viewer', version: '1' } },
      { type: 'heartbeat', ts: 1700000000000, status: 'idle' },
      {
        type: 'heartbeat',
        ts: 1700000000000,
        metrics: { cpuPct: 42, memUsedBytes: 1, memTotalBytes: 2, diskUsedBytes: 3, diskTotalBytes: 4, at: '2026-01-01T00:00:00.000Z' },
      },
      { type: 'req', id: 'r1', method: 'task.update', params: { taskId: 'tsk_1', status: 'running' }, idempotencyKey: 'key-12345678' },
      {
        type: 'signal',
        id: 's1',
        sessionId: 'sess',
        kind: 'ice',
        to: { instanceId: 'ins_1' },
        payload: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
      },
      { type: 'signal', sessionId: 'sess', kind: 'answer', to: { connectionId: 'conn_1' }, payload: { sdp: 'v=0' } },
    ];
    for (const s of samples) roundTrip(clientFrameSchema, s, `client ${s.type}`);
    for (const [id, body] of Object.entries({
      'auth.login': { email: 'a@b.c', password: 'p' },
      'tasks.create': { title: 't', prompt: 'p', agentId: 'agt_1', assignee: { type: 'member', memberId: 'mem_1' }, context: { a: [1] } },
      'tasks.status': { status: 'failed', note: 'n', progress: 0.2, result: { summary: 's', error: 'e' }, expectedVersion: 3 },
      'tasks.assign': { assignee: null },
      'workspaces.update': {
        guardrails: { allowedDomains: ['a.com'], blockedTools: [], approvalRequired: [], maxTokenBudget: null, restrictedProviders: ['gemini'] },
      },
    } as Partial<Record<RouteId, unknown>>)) {
      const schema = (ROUTES[id as RouteId] as { body?: z.ZodType }).body;
      assert.ok(schema);
      roundTrip(schema, body, `${id} request`);
    }
    const blob = formatKeyBlob({ iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' });
    assert.deepEqual(parseKeyBlob(blob), { iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' });
    assert.ok(keyBlobSchema.safeParse(blob).success);
    assert.ok(!keyBlobSchema.safeParse('enc:v2.a.b.c').success);
    assert.ok(!clientFrameSchema.safeParse({ type: 'hello', protocol: 2, client: { name: 'x', version: '1' } }).success);
  });

  it('documents distinct close codes and error codes', () => {
    const codes = Object.values(CLOSE_CODES).map((c) => c.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of [4400, 4401, 4403, 4408, 4429]) assert.ok(codes.includes(c as never));
    const md = protocolMarkdown();
    for (const code of Object.keys(ERROR_CODES)) assert.ok(md.includes(`\`${code}\``), code);
  });

  it('keeps docs/protocol.md and docs/protocol.schema.json in step with the schemas', () => {
    const md = fs.readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8');
    const json = fs.readFileSync(path.join(ROOT, 'docs/protocol.schema.json'), 'utf8');
    const hint = 'run `npx tsc -p tsconfig.json && node scripts/genProtocolDocs.mjs` and commit docs/';
    assert.ok(md === protocolMarkdown() + '\n', `docs/protocol.md is stale: ${hint}`);
    assert.ok(json === JSON.stringify(protocolJsonSchema(), null, 2) + '\n', `docs/protocol.schema.json is stale: ${hint}`);
  });
});
