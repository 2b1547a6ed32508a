/**
 * Permissions are decided at each use, from current state (issue 11, items 4–7): a demoted member's
 * instance loses the provider keys at once (re-pushed) and gets none added later; reassignment follows
 * the documented rules and every one is audited; logout ends every session of that sign-in; sign-in
 * answers do not tell which emails exist; session-token signatures are canonical.
 */
import * as assert from 'node:assert/strict';
import { CLOSE_CODES } from '../../../src/protocol/workspace/common';
import { call, makeTeam, registerInstance, sessionToken, startTestServer, WsClient, type Registered, type Team, type TestServer } from '../../support/server';

type Body = Record<string, unknown>;
const code = (r: { body: Body }): string => (r.body.error as { code: string }).code;
const keysOf = (cfg: unknown): string[] => Object.keys((cfg as { providerKeys: Record<string, string> }).providerKeys).sort();

describe('server permissions: a demoted member keeps no keys', () => {
  let ts: TestServer;
  let team: Team;
  let base: string;
  let member: { memberId: string };
  let reg: Registered;

  before(async () => {
    ts = await startTestServer();
    team = await makeTeam(ts, ['member']);
    base = `/v1/workspaces/${team.wid}`;
    member = team.people.member;
    reg = await registerInstance(team, team.people.member);
    await setKey('openai', 'sk-before-demotion-0000');
  });
  after(async () => ts.close());

  const setRole = (memberId: string, role: string) =>
    call(ts.url, 'PATCH', `${base}/members/${memberId}`, { token: team.owner.token, idem: true, body: { role } });
  const setKey = (provider: string, apiKey: string) =>
    call(ts.url, 'PUT', `${base}/provider-keys/${provider}`, { token: team.owner.token, idem: true, body: { apiKey } });

  it('re-pushes config on a role change; config.get then carries no key, also for keys added or rotated later', async () => {
    const daemon = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    assert.deepEqual(keysOf((await daemon.rpc('config.get', {})).result), ['openai']);
    assert.equal((await setRole(member.memberId, 'viewer')).status, 200);
    const pushed = await daemon.next((f) => f.type === 'event' && f.name === 'config.changed');
    assert.equal((pushed.data as { reason: string }).reason, 'member_role');
    assert.deepEqual(keysOf((await daemon.rpc('config.get', {})).result), [], 'no key over WSS after the demotion');
    const rest = await call(ts.url, 'GET', `${base}/config`, { token: reg.workspaceToken });
    assert.equal(rest.status, 200);
    assert.deepEqual(keysOf(rest.body), [], 'no key over REST');
    await setKey('openai', 'sk-rotated-after-demotion-1111');
    await setKey('anthropic', 'sk-ant-added-after-demotion-2222');
    await daemon.next((f) => f.type === 'event' && f.name === 'config.changed');
    assert.deepEqual(keysOf((await daemon.rpc('config.get', {})).result), [], 'rotated and added keys are not delivered either');
    // The agents and guardrails are still readable: a Viewer reads.
    assert.ok(Array.isArray((rest.body as { agents: unknown[] }).agents));
    assert.equal((await setRole(member.memberId, 'member')).status, 200);
    await daemon.next((f) => f.type === 'event' && f.name === 'config.changed' && (f.data as { reason: string }).reason === 'member_role');
    assert.deepEqual(keysOf((await daemon.rpc('config.get', {})).result), ['anthropic', 'openai'], 'promoted again: the keys are back');
    daemon.close();
  });

  it('decides from the database, not from the role the socket started with', async () => {
    const daemon = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    // A change made by another process (the admin CLI, another server node) is not announced to this one.
    await ts.server.services.ctx.db.run("UPDATE members SET role = 'viewer' WHERE id = ?", member.memberId);
    assert.deepEqual(keysOf((await daemon.rpc('config.get', {})).result), []);
    const denied = await daemon.rpc('task.update', { taskId: 'tsk_x', status: 'running' }, `k-${Date.now()}`);
    assert.equal((denied.error as { code: string }).code, 'forbidden');
    await ts.server.services.ctx.db.run("UPDATE members SET role = 'member' WHERE id = ?", member.memberId);
    daemon.close();
  });
});

describe('server permissions: who may reassign whom', () => {
  let ts: TestServer;
  let team: Team;
  let base: string;
  let memberReg: Registered;

  before(async () => {
    ts = await startTestServer();
    team = await makeTeam(ts, ['admin', 'member', 'member', 'viewer']);
    base = `/v1/workspaces/${team.wid}`;
    memberReg = await registerInstance(team, team.people.member);
  });
  after(async () => ts.close());

  const other = async (): Promise<{ memberId: string; token: string }> => {
    // makeTeam keys people by role: the second member replaced the first; look the other one up.
    const list = await call<{ members: Array<{ id: string; role: string }> }>(ts.url, 'GET', `${base}/members`, { token: team.owner.token });
    const id = list.body.members.find((m) => m.role === 'member' && m.id !== team.people.member.memberId)!.id;
    return { memberId: id, token: '' };
  };
  const create = async (who: { token: string }, assignee?: Body): Promise<{ id: string; version: number }> => {
    const r = await call<{ task: { id: string; version: number } }>(ts.url, 'POST', `${base}/tasks`, {
      token: who.token,
      idem: true,
      body: { title: 't', prompt: 'p', ...(assignee ? { assignee } : {}) },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.task;
  };
  const assign = (who: { token: string }, id: string, assignee: Body | null) =>
    call(ts.url, 'POST', `${base}/tasks/${id}/assign`, { token: who.token, idem: true, body: { assignee } });
  const toMember = (memberId: string): Body => ({ type: 'member', memberId });

  it("refuses a Member taking the Owner's task, and so its forged completion", async () => {
    const m = team.people.member;
    const t = await create(team.owner, toMember(team.owner.memberId));
    const steal = await assign(m, t.id, toMember(m.memberId));
    assert.equal(steal.status, 403);
    assert.equal(code(steal), 'forbidden');
    const viaInstance = await assign({ token: memberReg.workspaceToken }, t.id, { type: 'instance', instanceId: memberReg.instanceId });
    assert.equal(viaInstance.status, 403, 'nor through their instance');
    const forged = await call(ts.url, 'POST', `${base}/tasks/${t.id}/status`, {
      token: m.token,
      idem: true,
      body: { status: 'completed', result: { summary: 'forged' } },
    });
    assert.equal(forged.status, 403);
  });

  it('lets a Member take a queued task for themselves or their instance, but not give it to someone else', async () => {
    const m = team.people.member;
    const q = await create(team.owner);
    assert.equal((await assign(m, q.id, toMember((await other()).memberId))).status, 403, 'not to another member');
    assert.equal((await assign({ token: memberReg.workspaceToken }, q.id, { type: 'instance', instanceId: memberReg.instanceId })).status, 200);
    // Now theirs (through their instance): they may hand it on, or give it back.
    assert.equal((await assign(m, q.id, toMember((await other()).memberId))).status, 200, 'hand-off of their own task');
    assert.equal((await assign(m, q.id, null)).status, 403, 'no longer theirs');
  });

  it('lets the creator reassign a task that has not started, Owners/Admins any, Viewers none', async () => {
    const m = team.people.member;
    const mine = await create(m, toMember(team.people.admin.memberId));
    assert.equal((await assign(m, mine.id, toMember((await other()).memberId))).status, 200, 'the creator, before it started');
    const started = await call(ts.url, 'POST', `${base}/tasks/${mine.id}/status`, { token: team.owner.token, idem: true, body: { status: 'running' } });
    assert.equal(started.status, 200);
    assert.equal((await assign(m, mine.id, toMember(m.memberId))).status, 403, 'not once it runs');
    assert.equal((await assign(team.people.admin, mine.id, toMember(m.memberId))).status, 200, 'an Admin may');
    assert.equal((await assign(team.people.viewer, mine.id, null)).status, 403);
  });

  it('records every assignment and claim in the audit trail with from and to', async () => {
    const t = await create(team.owner);
    const claim = await call(ts.url, 'POST', `${base}/tasks/${t.id}/status`, { token: team.people.member.token, idem: true, body: { status: 'running' } });
    assert.equal(claim.status, 200);
    assert.equal((await assign(team.people.admin, t.id, toMember(team.people.admin.memberId))).status, 200);
    const audit = await call<{ entries: Array<{ action: string; resource: { id: string }; details: Body; actor: { id: string } }> }>(
      ts.url,
      'GET',
      `${base}/audit?action=task.assigned&limit=100`,
      { token: team.owner.token },
    );
    const rows = audit.body.entries.filter((e) => e.resource.id === t.id).reverse();
    assert.deepEqual(
      rows.map((e) => [e.actor.id, e.details.from, e.details.to, e.details.via]),
      [
        [team.people.member.memberId, null, toMember(team.people.member.memberId), 'claim'],
        [team.people.admin.memberId, toMember(team.people.member.memberId), toMember(team.people.admin.memberId), 'assign'],
      ],
    );
  });
});

describe('server sign-in: logout, uniform answers, canonical tokens', () => {
  let ts: TestServer;
  let team: Team;

  before(async () => {
    ts = await startTestServer({ maxFailedLogins: 3, lockoutMs: 60_000 });
    team = await makeTeam(ts, ['member']);
  });
  after(async () => ts.close());

  const login = async (email: string, password: string): Promise<string> => {
    const r = await call<{ session: { token: string } }>(ts.url, 'POST', '/v1/auth/login', { body: { email, password } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.session.token;
  };

  it('logout revokes every session token minted under that sign-in and closes its sockets, and no other', async () => {
    const m = team.people.member;
    const a = await login(m.email, m.password);
    const b = await login(m.email, m.password);
    const a1 = await sessionToken(ts, a, team.wid);
    const a2 = await sessionToken(ts, a, team.wid);
    const b1 = await sessionToken(ts, b, team.wid);
    const sa = (await WsClient.ready(ts.wsUrl, a1)).client;
    const sb = (await WsClient.ready(ts.wsUrl, b1)).client;
    assert.equal((await call(ts.url, 'POST', '/v1/auth/logout', { token: a })).status, 200);
    const closed = await sa.closed;
    assert.equal(closed.code, CLOSE_CODES.unauthorized.code);
    assert.equal(closed.reason, 'signed out');
    const late = await WsClient.connect(ts.wsUrl, a2);
    assert.deepEqual(await late.closed, { code: CLOSE_CODES.unauthorized.code, reason: 'signed out' }, 'a token minted before the logout is refused');
    assert.equal((await call(ts.url, 'GET', '/v1/me', { token: a })).status, 401);
    assert.equal((await sb.rpc('task.list', { limit: 1 })).ok, true, 'the other sign-in is untouched');
    assert.equal((await call(ts.url, 'GET', '/v1/me', { token: b })).status, 200);
    sb.close();
  });

  it('answers the same for an unknown email as for a known one, lockout included', async () => {
    const sequence = async (email: string): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await call(ts.url, 'POST', '/v1/auth/login', { body: { email, password: 'wrong-password-1' } });
        const e = r.body.error as { code: string; message: string; details?: Body };
        out.push(`${r.status} ${e.code} ${e.message} ${Object.keys(e.details ?? {}).join(',')} ${r.headers.get('retry-after') ? 'retry-after' : ''}`);
      }
      return out;
    };
    const known = await sequence(team.owner.email);
    const unknown = await sequence(`nobody-${Date.now()}@example.test`);
    assert.deepEqual(unknown, known);
    assert.match(known[4], /^423 account_locked/);
    ts.advance(61_000);
  });

  it('accepts only the canonical encoding of a session-token signature', async () => {
    const good = await sessionToken(ts, team.people.member.token, team.wid);
    const [head, claims, sig] = good.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last of 43 characters carries 4 bits of the MAC and 2 unused ones: three other characters decode the same.
    const last = alphabet.indexOf(sig.slice(-1));
    const sameBytes = [1, 2, 3].map((d) => sig.slice(0, -1) + alphabet[(last & ~3) | ((last + d) & 3)]);
    const forged = [
      `${good}!!`,
      `${good}==`,
      `${good}=`,
      ...sameBytes.map((s) => `${head}.${claims}.${s}`),
      `${head}.${claims}.${sig} `,
      `${head}.${claims}=.${sig}`,
    ];
    for (const t of forged) {
      assert.equal(ts.server.services.ctx.signer.verify(t, Date.now()).ok, false, t.slice(-6));
      const c = await WsClient.connect(ts.wsUrl, t.trim() === t ? t : good + '%20');
      assert.equal((await c.closed).code, CLOSE_CODES.unauthorized.code, t.slice(-6));
    }
    assert.equal(ts.server.services.ctx.signer.verify(good, Date.now()).ok, true);
  });
});
