/**
 * Signing in and out against the real reference server: email + password and token, the workspace
 * pick, credentials in the secret store only, instance reuse, Sign Out revoking on the server, a
 * session that expires or is revoked mid-session (Signed out), and the WSS session token renewed
 * before it expires (no reconnect, no missed event).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { probeServer, signIn, signOut, SignInCancelled } from '../../../../src/gateway/workspace/signIn';
import { freePort } from '../../../support/net';
import { type ProviderServer } from '../../../fixtures/providerServer';
import { call, filesContaining, makeTeam, startGateway, signInAs, waitFor, type GatewayHarness, type Team, type TestServer, useLinkEnv } from './helpers';

describe('workspace link: sign in and out', function () {
  this.timeout(30_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let team: Team;
  let h: GatewayHarness;

  useLinkEnv((e) => void ({ providers, ts, team } = e));
  beforeEach(async () => {
    h = await startGateway(providers, { workspaceUrl: ts.url });
  });
  afterEach(async () => {
    await h.stop();
    fs.rmSync(h.dir, { recursive: true, force: true });
  });

  it('starts Signed out when a workspace URL is set, Local when not', async () => {
    assert.equal(h.gateway.linkStatus.current.phase, 'signedOut');
    h.gateway.setConfig({ ...h.gateway.config, workspace: { url: '' } });
    assert.equal(h.gateway.linkStatus.current.phase, 'local');
  });

  it('probes a server URL before any credentials: a closed port and a server that is not MultiClaw are named; a good one answers', async () => {
    const port = await freePort();
    const closed = `http://127.0.0.1:${port}`;
    await assert.rejects(probeServer(h.gateway.link, closed), (err: Error) => {
      assert.match(err.message, new RegExp(`^Nothing answers at ${closed.replace(/\./g, '\\.')}: .*refused the connection`));
      return true;
    });
    await assert.rejects(probeServer(h.gateway.link, providers.baseUrls.openai), /answered, but not as a MultiClaw workspace server/);
    const ok = await probeServer(h.gateway.link, `${ts.url}/`);
    assert.equal(ok.baseUrl, ts.url);
    assert.ok(ok.version);
    assert.equal(h.gateway.linkStatus.current.phase, 'signedOut', 'probing signs nothing in or out');
    assert.ok(
      h.gateway.ledger.list().some((e) => e.purpose === 'workspace:api' && e.port === port),
      'the probe went through NetService (listed in the connection ledger)',
    );
  });

  it('signs in with email and password: connected, instance registered, secrets only in the secret store', async () => {
    const phases: string[] = [];
    h.gateway.linkStatus.onDidChange((s) => phases.push(s.phase));
    await signInAs(h, ts, team.people.member, team.wid);
    const s = h.gateway.linkStatus.current;
    assert.deepEqual(phases.filter((p, i) => p !== phases[i - 1]).slice(0, 2), ['connecting', 'connected']);
    assert.equal(s.workspace?.id, team.wid);
    assert.equal(s.workspace?.role, 'member');
    assert.equal(s.user?.email, team.people.member.email);
    assert.ok(s.instance?.id);
    const link = h.gateway.link;
    const inst = link.instance!;
    assert.match(inst.workspaceToken, /^mcw_/);
    assert.match(inst.secret, /^mcis_/);
    // The server lists the instance as online.
    const r = await call<{ instances: Array<{ id: string; online: boolean }> }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/instances`, {
      token: team.owner.token,
    });
    assert.ok(r.body.instances.some((i) => i.id === inst.id));
    // Tokens live in the secret store, nowhere on disk, never in the log.
    assert.ok([...h.secrets.map.keys()].includes('multiclaw.workspace.account'));
    for (const secret of [inst.workspaceToken, inst.secret, link.account!.token]) {
      assert.deepEqual(filesContaining(h.dir, secret), [], 'not written to the storage dir');
      assert.ok(!h.sink.lines.some((l) => l.includes(secret)), 'not logged');
    }
  });

  it('asks which workspace when there are several, and signs in with a pasted token', async () => {
    const slug = `second-${Date.now() % 100000}`;
    const second = await makeTeam(ts, ['member'], slug);
    await ts.admin.addMember(slug, team.people.member.email, 'member'); // the member is in two workspaces now
    const offered: string[] = [];
    await signIn(h.gateway.link, { serverUrl: ts.url, token: team.people.member.token }, async (list) => {
      offered.push(...list.map((w) => w.id));
      return list.find((w) => w.id === second.wid);
    });
    await h.status((s) => s.phase === 'connected');
    assert.deepEqual(offered.sort(), [team.wid, second.wid].sort());
    assert.equal(h.gateway.linkStatus.current.workspace?.id, second.wid);
    // Cancelling the pick signs nothing in.
    await signOut(h.gateway.link);
    const login = await call<{ session: { token: string } }>(ts.url, 'POST', '/v1/auth/login', {
      body: { email: team.people.member.email, password: team.people.member.password },
    });
    await assert.rejects(
      signIn(h.gateway.link, { serverUrl: ts.url, token: login.body.session.token }, async () => undefined),
      SignInCancelled,
    );
    assert.equal(h.gateway.linkStatus.current.phase, 'signedOut');
  });

  it("refuses a wrong password with the server's message and stays signed out", async () => {
    await assert.rejects(
      signIn(h.gateway.link, { serverUrl: ts.url, email: team.people.member.email, password: 'wrong-password' }, async () => undefined),
      /email or password|invalid/i,
    );
    assert.equal(h.gateway.linkStatus.current.phase, 'signedOut');
    assert.equal(h.secrets.map.size, 0);
  });

  it('Sign Out revokes both tokens on the server and clears them here', async () => {
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const { workspaceToken, id } = link.instance!;
    const accountToken = link.account!.token;
    const { revoked } = await signOut(link);
    assert.equal(revoked, true);
    assert.equal(h.gateway.linkStatus.current.phase, 'signedOut');
    assert.equal(h.gateway.linkStatus.current.signedOutReason, 'signedOut');
    assert.equal(h.secrets.map.size, 0);
    assert.equal((await call(ts.url, 'GET', '/v1/me', { token: accountToken })).status, 401);
    assert.equal((await call(ts.url, 'POST', '/v1/session-tokens', { token: workspaceToken, body: { scope: 'daemon' } })).status, 401);
    const r = await call<{ instances: Array<{ id: string }> }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/instances`, { token: team.owner.token });
    assert.ok(!r.body.instances.some((i) => i.id === id));
  });

  it("reuses this machine's instance when signing in again to the same workspace", async () => {
    await signInAs(h, ts, team.people.member, team.wid);
    const first = h.gateway.link.instance!.id;
    await h.gateway.link.endSession('expired', 'test: sign-in expired');
    assert.equal(h.gateway.linkStatus.current.signedOutReason, 'expired');
    await signInAs(h, ts, team.people.member, team.wid);
    assert.equal(h.gateway.link.instance!.id, first);
  });

  it('a sign-in that expires mid-session shows Signed out (expired)', async () => {
    await signInAs(h, ts, team.people.member, team.wid);
    const ended = h.status((s) => s.phase === 'signedOut', 10_000, 'signed out');
    ts.advance(31 * 24 * 3600_000); // past the 30-day account token (and the 24 h session token)
    try {
      const s = await ended;
      assert.equal(s.signedOutReason, 'expired');
      assert.match(s.message ?? '', /expired/);
      assert.equal(h.secrets.map.has('multiclaw.workspace.account'), false);
      assert.equal(h.secrets.map.has('multiclaw.workspace.instance'), true, 'the instance is kept for the next sign-in');
    } finally {
      ts.advance(-31 * 24 * 3600_000);
    }
  });

  it('renews the WSS session token before it expires: no reconnect, no missed event', async () => {
    await h.stop();
    h = await startGateway(providers, { dir: h.dir, workspaceUrl: ts.url, tuning: { renewAfterMs: 300, backoff: { baseMs: 20, capMs: 200 } } });
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const phases: string[] = [];
    h.gateway.linkStatus.onDidChange((s) => phases.push(s.phase));
    const firstConn = link.session!.connectionId;
    // Renewed at least twice while tasks are created for this member: every one arrives.
    const created: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
        token: team.owner.token,
        idem: true,
        body: { title: `renewal ${i}`, prompt: 'p', assignee: { type: 'member', memberId: team.people.member.memberId } },
      });
      created.push(r.body.task.id);
      if (i % 2 === 1) await waitFor(link.session!.onDidWelcome, () => true, 5_000, 'a renewal');
    }
    if (!created.every((id) => link.workspaceTasks!.get(id)))
      await waitFor(link.workspaceTasks!.onDidChange, () => created.every((id) => link.workspaceTasks!.get(id)), 5_000, 'every task');
    for (const id of created) assert.ok(link.workspaceTasks!.get(id), `task ${id} arrived`);
    assert.notEqual(link.session!.connectionId, firstConn, 'a new socket');
    assert.ok(!phases.includes('reconnecting') && !phases.includes('connecting'), `stayed connected: ${phases.join(',')}`);
  });

  it('a session token that expires mid-session (server clock) is replaced at once', async () => {
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const before = link.session!.connectionId;
    const welcomed = waitFor(link.session!.onDidWelcome, () => true, 10_000, 'a new welcome');
    ts.advance(25 * 3600_000); // past the 24 h daemon token; the server closes the socket 4401 at its next tick
    try {
      await welcomed;
      await h.status((s) => s.phase === 'connected');
      assert.notEqual(link.session!.connectionId, before);
      assert.equal(link.session!.lastCloseCode, 4401);
      assert.equal(h.gateway.linkStatus.current.phase, 'connected', 'the account token (30 days) is still valid');
    } finally {
      ts.advance(-25 * 3600_000);
    }
  });
});
