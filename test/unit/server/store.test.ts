import * as assert from 'node:assert/strict';
import { forDialect, MIGRATIONS } from '../../../src/server/db/migrations';
import { numberPlaceholders } from '../../../src/server/db/store';
import { testCluster } from '../../support/postgresHooks';
import { call, useTeamServer, type Team, type TestServer } from '../../support/server';

describe('server storage port', () => {
  let ts: TestServer;
  let team: Team;
  useTeamServer((e) => {
    ({ ts, team } = e);
  });

  it('runs on the engine the tier asks for (SQLite by default, PostgreSQL in unit-postgres)', () => {
    assert.equal(ts.server.services.ctx.db.dialect, testCluster() ? 'postgres' : 'sqlite');
  });

  it('keeps per-workspace seqs gap-free and in commit order across concurrent batches', async () => {
    const base = `/v1/workspaces/${team.wid}`;
    const before = (await call<{ headSeq: number }>(ts.url, 'GET', `${base}/events?after=0&limit=1`, { token: team.owner.token })).body.headSeq;
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(ts.url, 'POST', `${base}/tasks`, { token: team.owner.token, idem: true, body: { title: `t${i}`, prompt: 'p' } }),
      ),
    );
    assert.ok(created.every((r) => r.status === 201));
    const list = await call<{ events: Array<{ seq: number }>; headSeq: number }>(ts.url, 'GET', `${base}/events?after=${before}&limit=1000`, {
      token: team.owner.token,
    });
    assert.equal(list.body.headSeq, before + 40);
    assert.deepEqual(
      list.body.events.map((e) => e.seq),
      Array.from({ length: 40 }, (_, i) => before + 1 + i),
    );
  });

  it('writes the migrations once for both engines', () => {
    for (let v = 0; v < MIGRATIONS.length; v++) {
      const pg = forDialect(v, 'postgres');
      assert.doesNotMatch(pg, /WITHOUT ROWID|\bINTEGER\b|randomblob|RAISE\(ABORT/, `migration ${v + 1}`);
      assert.match(forDialect(v, 'sqlite'), /\S/);
    }
    assert.equal(numberPlaceholders('a = ? AND b IN (?, ?)'), 'a = $1 AND b IN ($2, $3)');
  });
});
