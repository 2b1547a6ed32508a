import * as assert from 'node:assert/strict';
import { ROLE_PERMISSIONS, type Role } from '../../../src/protocol/workspace/common';
import { call, makeTeam, startTestServer, type TestServer } from '../../support/server';

const code = (r: { body: Record<string, unknown> }): string => (r.body.error as { code: string }).code;

describe('server roles (B.15), members and invites', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer();
  });
  after(async () => ts.close());

  it('grants each role exactly the permissions of the B.15 table', async () => {
    const team = await makeTeam(ts);
    const base = `/v1/workspaces/${team.wid}`;
    const actions: Record<string, (token: string) => Promise<number>> = {
      'workspace.read': async (t) => (await call(ts.url, 'GET', `${base}/tasks`, { token: t })).status,
      'agents.use': async (t) => (await call(ts.url, 'POST', `${base}/tasks`, { token: t, idem: true, body: { title: 'x', prompt: 'y' } })).status,
      'settings.manage': async (t) =>
        (await call(ts.url, 'POST', `${base}/agents`, { token: t, idem: true, body: { name: 'A', provider: 'openai', model: 'gpt-4.1' } })).status,
      'members.manage': async (t) => (await call(ts.url, 'POST', `${base}/invites`, { token: t, idem: true, body: { role: 'viewer' } })).status,
    };
    const people: Record<Role, string> = {
      owner: team.owner.token,
      admin: team.people.admin.token,
      member: team.people.member.token,
      viewer: team.people.viewer.token,
    };
    for (const role of Object.keys(people) as Role[]) {
      for (const [perm, act] of Object.entries(actions)) {
        const status = await act(people[role]);
        const allowed = (ROLE_PERMISSIONS[role] as readonly string[]).includes(perm);
        assert.equal(status < 300, allowed, `${role} ${perm} → ${status}`);
        if (!allowed) assert.equal(status, 403);
      }
    }
    // Only the Owner deletes the workspace.
    for (const role of ['admin', 'member', 'viewer'] as const) {
      assert.equal((await call(ts.url, 'DELETE', base, { token: people[role], idem: true })).status, 403, role);
    }
    assert.equal((await call(ts.url, 'DELETE', base, { token: team.owner.token, idem: true })).status, 200);
    assert.equal((await call(ts.url, 'GET', base, { token: team.owner.token })).status, 404);
  });

  it('keeps Owner rules: only an Owner grants or removes Owner, and the last Owner stays', async () => {
    const team = await makeTeam(ts);
    const base = `/v1/workspaces/${team.wid}`;
    const promote = await call(ts.url, 'PATCH', `${base}/members/${team.people.member.memberId}`, {
      token: team.people.admin.token,
      idem: true,
      body: { role: 'owner' },
    });
    assert.equal(promote.status, 403);
    const removeOwner = await call(ts.url, 'DELETE', `${base}/members/${team.owner.memberId}`, { token: team.people.admin.token, idem: true });
    assert.equal(removeOwner.status, 403);
    const demoteSelf = await call(ts.url, 'PATCH', `${base}/members/${team.owner.memberId}`, { token: team.owner.token, idem: true, body: { role: 'admin' } });
    assert.equal(code(demoteSelf), 'conflict');
    const ok = await call<{ member: { role: string } }>(ts.url, 'PATCH', `${base}/members/${team.people.member.memberId}`, {
      token: team.people.admin.token,
      idem: true,
      body: { role: 'viewer' },
    });
    assert.equal(ok.body.member.role, 'viewer');
    // The role change applies at once.
    const denied = await call(ts.url, 'POST', `${base}/tasks`, { token: team.people.member.token, idem: true, body: { title: 'x', prompt: 'y' } });
    assert.equal(denied.status, 403);
    const list = await call<{ members: Array<{ email?: string }> }>(ts.url, 'GET', `${base}/members`, { token: team.people.viewer.token });
    assert.ok(list.body.members.length === 4 && list.body.members.every((m) => m.email === undefined), 'emails only for Owner/Admin');
    const adminList = await call<{ members: Array<{ email?: string }> }>(ts.url, 'GET', `${base}/members`, { token: team.people.admin.token });
    assert.ok(adminList.body.members.every((m) => typeof m.email === 'string'));
  });

  it('invites: a new account joins and is signed in; the token works once; email-bound invites check the email', async () => {
    const team = await makeTeam(ts, ['admin']);
    const base = `/v1/workspaces/${team.wid}`;
    const inv = await call<{ token: string; invite: { id: string; role: string } }>(ts.url, 'POST', `${base}/invites`, {
      token: team.people.admin.token,
      idem: true,
      body: { role: 'member' },
    });
    assert.equal(inv.status, 201);
    assert.match(inv.body.token, /^mcinv_/);
    const ownerInvite = await call(ts.url, 'POST', `${base}/invites`, { token: team.people.admin.token, idem: true, body: { role: 'owner' } });
    assert.equal(ownerInvite.status, 403);
    const joined = await call<{ member: { role: string }; session: { token: string }; workspace: { id: string } }>(ts.url, 'POST', '/v1/invites/accept', {
      body: { token: inv.body.token, email: 'newbie@example.test', name: 'Newbie', password: 'a-long-password' },
    });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.member.role, 'member');
    assert.equal(joined.body.workspace.id, team.wid);
    const me = await call<{ workspaces: Array<{ id: string }> }>(ts.url, 'GET', '/v1/me', { token: joined.body.session.token });
    assert.deepEqual(
      me.body.workspaces.map((w) => w.id),
      [team.wid],
    );
    const reuse = await call(ts.url, 'POST', '/v1/invites/accept', {
      body: { token: inv.body.token, email: 'other@example.test', name: 'O', password: 'a-long-password' },
    });
    assert.equal(reuse.status, 404);

    const bound = await call<{ token: string }>(ts.url, 'POST', `${base}/invites`, {
      token: team.owner.token,
      idem: true,
      body: { role: 'viewer', email: 'bound@example.test' },
    });
    const stranger = await makeTeam(ts, []);
    const wrong = await call(ts.url, 'POST', '/v1/invites/accept', { token: stranger.owner.token, body: { token: bound.body.token } });
    assert.equal(wrong.status, 403);
    const revoke = await call<{ invites: Array<{ id: string; email: string | null; revokedAt: string | null }> }>(ts.url, 'GET', `${base}/invites`, {
      token: team.owner.token,
    });
    const boundRow = revoke.body.invites.find((i) => i.email === 'bound@example.test');
    assert.ok(boundRow);
    assert.equal((await call(ts.url, 'DELETE', `${base}/invites/${boundRow.id}`, { token: team.owner.token, idem: true })).status, 200);
    const afterRevoke = await call(ts.url, 'POST', '/v1/invites/accept', {
      body: { token: bound.body.token, email: 'bound@example.test', name: 'B', password: 'a-long-password' },
    });
    assert.equal(afterRevoke.status, 404);
  });

  it('lets an existing user accept while signed in, and expires invites after 7 days', async () => {
    const team = await makeTeam(ts, []);
    const other = await makeTeam(ts, []);
    const base = `/v1/workspaces/${team.wid}`;
    const inv = await call<{ token: string }>(ts.url, 'POST', `${base}/invites`, { token: team.owner.token, idem: true, body: { role: 'admin' } });
    const r = await call<{ member: { role: string } }>(ts.url, 'POST', '/v1/invites/accept', { token: other.owner.token, body: { token: inv.body.token } });
    assert.equal(r.body.member.role, 'admin');
    const again = await call(ts.url, 'POST', `${base}/invites`, { token: team.owner.token, idem: true, body: { role: 'member' } });
    ts.advance(8 * 24 * 3600_000);
    try {
      const late = await call(ts.url, 'POST', '/v1/invites/accept', {
        body: { token: (again.body as { token: string }).token, email: 'late@example.test', name: 'L', password: 'a-long-password' },
      });
      assert.equal(late.status, 404);
    } finally {
      ts.advance(-8 * 24 * 3600_000);
    }
  });
});
