import * as assert from 'node:assert/strict';
import { testCluster } from '../../support/postgresHooks';
import { call, makeTeam, type Team, type TestServer, useTeamServer } from '../../support/server';

describe('server REST: accounts, workspaces, hardening', () => {
  let ts: TestServer;
  let team: Team;

  useTeamServer((e) => void ({ ts, team } = e));

  it('answers health without credentials and with no CORS headers, even to a preflight', async () => {
    const h = await call(ts.url, 'GET', '/v1/health');
    assert.equal(h.status, 200);
    const pg = testCluster() !== undefined;
    assert.deepEqual(h.body, {
      ok: true,
      protocol: 1,
      version: h.body.version,
      node: pg ? ts.server.cluster?.nodeId : null,
      database: pg ? 'postgres' : 'sqlite',
      listening: pg ? true : null,
    });
    const pre = await call(ts.url, 'OPTIONS', '/v1/health', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(pre.status, 405);
    for (const r of [h, pre]) {
      for (const name of r.headers.keys()) assert.ok(!name.startsWith('access-control-'), `unexpected ${name}`);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  });

  it('answers readiness with the status of its database and of its LISTEN connection', async () => {
    const r = await call<{ ready: boolean; database: { engine: string; ok: boolean; ms: number }; listen: unknown; node: unknown; draining: boolean }>(
      ts.url,
      'GET',
      '/v1/ready',
    );
    assert.equal(r.status, 200);
    const pg = testCluster() !== undefined;
    assert.deepEqual(r.body, {
      ready: true,
      draining: false,
      node: pg ? ts.server.cluster?.nodeId : null,
      database: { engine: pg ? 'postgres' : 'sqlite', ok: true, ms: r.body.database.ms },
      listen: pg ? { ok: true, hintsReceived: 0 } : null,
    });
    assert.ok(r.body.database.ms >= 0 && r.body.database.ms < 2000);
  });

  it('signs in, returns the user with their workspaces, and logs out (token revoked)', async () => {
    const me = await call<{ user: { email: string }; workspaces: Array<{ id: string; role: string }> }>(ts.url, 'GET', '/v1/me', { token: team.owner.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, team.owner.email);
    assert.deepEqual(
      me.body.workspaces.map((w) => [w.id, w.role]),
      [[team.wid, 'owner']],
    );
    const login = await call<{ session: { token: string } }>(ts.url, 'POST', '/v1/auth/login', {
      body: { email: team.owner.email, password: team.owner.password },
    });
    const out = await call(ts.url, 'POST', '/v1/auth/logout', { token: login.body.session.token });
    assert.equal(out.status, 200);
    const after = await call(ts.url, 'GET', '/v1/me', { token: login.body.session.token });
    assert.equal(after.status, 401);
    assert.equal((after.body.error as { code: string }).code, 'unauthorized');
  });

  it('rejects wrong passwords with one generic code', async () => {
    const wrong = await call(ts.url, 'POST', '/v1/auth/login', { body: { email: team.owner.email, password: 'not-it-at-all' } });
    const nobody = await call(ts.url, 'POST', '/v1/auth/login', { body: { email: 'nobody@example.test', password: 'whatever-123' } });
    assert.equal(wrong.status, 401);
    assert.equal(nobody.status, 401);
    assert.deepEqual(wrong.body, nobody.body);
    assert.equal((wrong.body.error as { code: string }).code, 'invalid_credentials');
  });

  it('creates workspaces with unique slugs (the creator is Owner)', async () => {
    const body = { slug: `uniq-${Date.now()}`, name: 'Unique' };
    const a = await call<{ workspace: { id: string; role: string; slug: string } }>(ts.url, 'POST', '/v1/workspaces', {
      token: team.people.member.token,
      idem: true,
      body,
    });
    assert.equal(a.status, 201);
    assert.equal(a.body.workspace.role, 'owner');
    const b = await call(ts.url, 'POST', '/v1/workspaces', { token: team.owner.token, idem: true, body });
    assert.equal(b.status, 409);
    assert.equal((b.body.error as { code: string }).code, 'conflict');
    const bad = await call(ts.url, 'POST', '/v1/workspaces', { token: team.owner.token, idem: true, body: { slug: 'Not A Slug', name: 'x' } });
    assert.equal(bad.status, 400);
    const issues = (bad.body.error as { details: { issues: Array<{ path: string }> } }).details.issues;
    assert.deepEqual(
      issues.map((i) => i.path),
      ['slug'],
    );
  });

  it('maps malformed requests to the documented codes', async () => {
    const base = `/v1/workspaces/${team.wid}/tasks`;
    const cases: Array<[Parameters<typeof call>[3], number, string]> = [
      [{ token: team.owner.token, idem: true, raw: '{not json', headers: { 'content-type': 'application/json' } }, 400, 'bad_request'],
      [{ token: team.owner.token, idem: true, raw: '{"title":"x","prompt":"y"}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
      [{ token: team.owner.token, body: { title: 'x', prompt: 'y' } }, 400, 'idempotency_key_required'],
      [
        {
          token: team.owner.token,
          idem: true,
          raw: JSON.stringify({ title: 'x', prompt: 'y'.repeat(1024 * 1024) }),
          headers: { 'content-type': 'application/json' },
        },
        413,
        'payload_too_large',
      ],
      [{ idem: true, body: { title: 'x', prompt: 'y' } }, 401, 'unauthorized'],
      [{ token: 'mca_forged-token-value-123456', idem: true, body: { title: 'x', prompt: 'y' } }, 401, 'unauthorized'],
    ];
    for (const [o, status, code] of cases) {
      const r = await call(ts.url, 'POST', base, o);
      assert.equal(r.status, status, `${code}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body.error as { code: string }).code, code);
    }
    const nf = await call(ts.url, 'GET', '/v1/nowhere', { token: team.owner.token });
    assert.equal(nf.status, 404);
    const mna = await call(ts.url, 'PUT', '/v1/health');
    assert.equal(mna.status, 405);
    assert.equal(mna.headers.get('allow'), 'GET');
  });

  it('hides workspaces the caller is not a member of', async () => {
    const other = await makeTeam(ts, []);
    const r = await call(ts.url, 'GET', `/v1/workspaces/${other.wid}/tasks`, { token: team.owner.token });
    assert.equal(r.status, 404);
    assert.equal((r.body.error as { code: string }).code, 'not_found');
  });
});
