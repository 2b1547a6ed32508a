import * as assert from 'node:assert/strict';
import { CLOSE_CODES, SESSION_TTL_MS } from '../../../src/protocol/workspace/common';
import {
  call,
  idemKey,
  makeTeam,
  registerInstance,
  sessionToken,
  startTestServer,
  WsClient,
  type Team,
  type TestServer,
  useTeamServer,
} from '../../support/server';

const code = (r: { body: Record<string, unknown> }): string => (r.body.error as { code: string }).code;

describe('server auth: lockout, rate limits, session tokens, revocation', () => {
  let ts: TestServer;
  let team: Team;

  useTeamServer((e) => void ({ ts, team } = e), { server: { maxFailedLogins: 3, lockoutMs: 60_000, heartbeatIntervalMs: 200 } });

  it('locks an account after repeated failures, even for the right password, until the lockout passes', async () => {
    const viewer = team.people.viewer;
    for (let i = 0; i < 3; i++) {
      const r = await call(ts.url, 'POST', '/v1/auth/login', { body: { email: viewer.email, password: 'wrong-password' } });
      assert.equal(code(r), 'invalid_credentials');
    }
    const locked = await call(ts.url, 'POST', '/v1/auth/login', { body: { email: viewer.email, password: viewer.password } });
    assert.equal(locked.status, 423);
    assert.equal(code(locked), 'account_locked');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    ts.advance(61_000);
    const ok = await call(ts.url, 'POST', '/v1/auth/login', { body: { email: viewer.email, password: viewer.password } });
    assert.equal(ok.status, 200);
  });

  it('rate limits sign-in attempts per client address', async () => {
    const limited = await startTestServer({ authRateLimit: { burst: 3, perMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await call(limited.url, 'POST', '/v1/auth/login', { body: { email: 'x@example.test', password: 'whatever-1' } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      const r = await call(limited.url, 'POST', '/v1/auth/login', { body: { email: 'x@example.test', password: 'whatever-1' } });
      assert.equal(code(r), 'rate_limited');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    } finally {
      await limited.close();
    }
  });

  it('accepts a session token in the Authorization header or the Sec-WebSocket-Protocol header', async () => {
    const token = await sessionToken(ts, team.people.member.token, team.wid);
    for (const how of ['header', 'protocol'] as const) {
      const c = await WsClient.connect(ts.wsUrl, token, how);
      if (how === 'protocol') assert.equal(c.ws.protocol, 'multiclaw.v1');
      c.send({ type: 'hello', protocol: 1, client: { name: 't', version: '1' } });
      const w = await c.next((f) => f.type === 'welcome');
      assert.equal((w.principal as { memberId: string }).memberId, team.people.member.memberId);
      c.close();
    }
  });

  it('closes 4401 for a missing, tampered or expired token', async () => {
    const token = await sessionToken(ts, team.people.member.token, team.wid);
    const [head, claims, sig] = token.split('.');
    const forged = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { mid: string };
    forged.mid = team.owner.memberId;
    const tampered = [head, Buffer.from(JSON.stringify(forged)).toString('base64url'), sig].join('.');
    const badSig = `${head}.${claims}.${Buffer.from('nope').toString('base64url')}`;
    for (const [t, reason] of [
      [undefined, 'missing session token'],
      [tampered, 'invalid token'],
      [badSig, 'invalid token'],
      ['garbage', 'invalid token'],
    ] as const) {
      const c = await WsClient.connect(ts.wsUrl, t);
      assert.deepEqual(await c.closed, { code: CLOSE_CODES.unauthorized.code, reason });
    }
    ts.advance(SESSION_TTL_MS.user + 1000);
    try {
      const c = await WsClient.connect(ts.wsUrl, token);
      assert.deepEqual(await c.closed, { code: 4401, reason: 'token expired' });
    } finally {
      ts.advance(-(SESSION_TTL_MS.user + 1000));
    }
  });

  it('closes a live socket 4401 when its token expires mid-session', async () => {
    const token = await sessionToken(ts, team.people.member.token, team.wid);
    const { client } = await WsClient.ready(ts.wsUrl, token);
    ts.advance(SESSION_TTL_MS.user + 1);
    try {
      assert.deepEqual(await client.closed, { code: 4401, reason: 'token expired' });
    } finally {
      ts.advance(-(SESSION_TTL_MS.user + 1));
    }
  });

  it('gives daemon tokens 24 h and user tokens 4 h; daemon needs a workspace token', async () => {
    const reg = await registerInstance(team, team.people.member);
    const now = Date.now();
    const d = await call<{ expiresAt: string; scope: string }>(ts.url, 'POST', '/v1/session-tokens', { token: reg.workspaceToken, body: { scope: 'daemon' } });
    assert.equal(d.status, 200);
    assert.ok(Math.abs(Date.parse(d.body.expiresAt) - now - SESSION_TTL_MS.daemon) < 5 * 60_000);
    const u = await call<{ expiresAt: string }>(ts.url, 'POST', '/v1/session-tokens', { token: team.people.member.token, body: { workspaceId: team.wid } });
    assert.ok(Math.abs(Date.parse(u.body.expiresAt) - now - SESSION_TTL_MS.user) < 5 * 60_000);
    assert.ok(Math.abs(Date.parse(d.body.expiresAt) - Date.parse(u.body.expiresAt) - (SESSION_TTL_MS.daemon - SESSION_TTL_MS.user)) < 10_000);
    const refused = await call(ts.url, 'POST', '/v1/session-tokens', { token: team.people.member.token, body: { workspaceId: team.wid, scope: 'daemon' } });
    assert.equal(refused.status, 403);
  });

  it('refuses a workspace token and session tokens for another workspace', async () => {
    const other = await makeTeam(ts, ['member']);
    const reg = await registerInstance(team, team.people.member);
    const r = await call(ts.url, 'GET', `/v1/workspaces/${other.wid}/tasks`, { token: reg.workspaceToken });
    assert.equal(r.status, 403);
    assert.equal(code(r), 'wrong_workspace');
    const mint = await call(ts.url, 'POST', '/v1/session-tokens', { token: reg.workspaceToken, body: { workspaceId: other.wid } });
    assert.equal(code(mint), 'wrong_workspace');
    const notMember = await call(ts.url, 'POST', '/v1/session-tokens', { token: team.people.member.token, body: { workspaceId: other.wid } });
    assert.equal(notMember.status, 404);
  });

  it('removing a member revokes every token of theirs at once and closes their sockets 4403', async () => {
    const t = await makeTeam(ts, ['admin', 'member']);
    const victim = t.people.member;
    const reg1 = await registerInstance(t, victim);
    const reg2 = await registerInstance(t, victim, 'desktop');
    const userSock = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, victim.token, t.wid))).client;
    const daemonSock = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg1.workspaceToken, undefined, 'daemon'))).client;
    const spareDaemonToken = await sessionToken(ts, reg2.workspaceToken, undefined, 'daemon');
    const bystander = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, t.people.admin.token, t.wid))).client;

    const rm = await call(ts.url, 'DELETE', `/v1/workspaces/${t.wid}/members/${victim.memberId}`, { token: t.people.admin.token, idem: true });
    assert.equal(rm.status, 200);
    assert.deepEqual(await userSock.closed, { code: CLOSE_CODES.forbidden.code, reason: 'membership revoked' });
    assert.deepEqual(await daemonSock.closed, { code: 4403, reason: 'membership revoked' });
    for (const wt of [reg1.workspaceToken, reg2.workspaceToken]) {
      const r = await call(ts.url, 'GET', `/v1/workspaces/${t.wid}/tasks`, { token: wt });
      assert.equal(r.status, 401);
    }
    const late = await WsClient.connect(ts.wsUrl, spareDaemonToken);
    assert.deepEqual(await late.closed, { code: 4403, reason: 'membership revoked' });
    assert.equal((await call(ts.url, 'GET', `/v1/workspaces/${t.wid}/tasks`, { token: victim.token })).status, 404);
    const ev = await bystander.next((f) => f.type === 'event' && f.name === 'member.removed');
    assert.deepEqual(ev.data, { memberId: victim.memberId });
    bystander.close();
  });

  it('replays an idempotent mutation: same answer, no second change; a different body with the key conflicts', async () => {
    const key = idemKey();
    const body = { title: 'once', prompt: 'exactly once' };
    const path = `/v1/workspaces/${team.wid}/tasks`;
    const a = await call<{ task: { id: string } }>(ts.url, 'POST', path, { token: team.people.member.token, idem: key, body });
    const b = await call<{ task: { id: string } }>(ts.url, 'POST', path, { token: team.people.member.token, idem: key, body });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body);
    assert.equal(b.headers.get('idempotency-replayed'), 'true');
    assert.equal(a.headers.get('idempotency-replayed'), null);
    const list = await call<{ tasks: Array<{ title: string }> }>(ts.url, 'GET', path, { token: team.owner.token });
    assert.equal(list.body.tasks.filter((x) => x.title === 'once').length, 1);
    const c = await call(ts.url, 'POST', path, { token: team.people.member.token, idem: key, body: { ...body, prompt: 'different' } });
    assert.equal(c.status, 422);
    assert.equal(code(c), 'idempotency_conflict');
    // Keys are per caller: another member may use the same key for their own request.
    const d = await call<{ task: { id: string } }>(ts.url, 'POST', path, { token: team.people.admin.token, idem: key, body });
    assert.equal(d.status, 201);
    assert.notEqual(d.body.task.id, a.body.task.id);
  });

  it('replays a stored domain error the same way', async () => {
    const t = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'e', prompt: 'p' },
    });
    const key = idemKey();
    const path = `/v1/workspaces/${team.wid}/tasks/${t.body.task.id}/status`;
    const first = await call(ts.url, 'POST', path, { token: team.owner.token, idem: key, body: { status: 'completed' } });
    assert.equal(code(first), 'invalid_transition');
    const again = await call(ts.url, 'POST', path, { token: team.owner.token, idem: key, body: { status: 'completed' } });
    assert.equal(again.status, first.status);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get('idempotency-replayed'), 'true');
  });
});
