/**
 * Three server processes on one PostgreSQL database behind a round-robin TCP proxy (test/support/
 * cluster.ts). Runs in the unit-postgres tier (it needs the test cluster). Clients count what they
 * receive, Jepsen-style: lost, duplicated and out-of-order events must all be 0.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as PgClient } from 'pg';
import { Admin } from '../../../src/server/admin';
import { startCluster, type Cluster } from '../../support/cluster';
import { Follower, rest, retried } from '../../support/clusterClients';
import { testCluster } from '../../support/postgresHooks';
import { FAST_SCRYPT, WsClient } from '../../support/server';

const HEARTBEAT_MS = 1000;

describe('server cluster: three nodes on one PostgreSQL behind a round-robin proxy', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let admin: Admin;
  let dbUrl: string;
  let wid: string;
  let token: string;
  let session: string;
  let followers: Follower[] = [];
  const dirs: string[] = [];
  const base = () => `/v1/workspaces/${wid}`;
  const head = async () => (await rest(cluster.url, 'GET', `${base()}/events?after=0&limit=1`, token)).body.headSeq as number;
  const mint = async (t: string, workspaceId?: string, scope = 'user') =>
    (await rest(cluster.url, 'POST', '/v1/session-tokens', t, { workspaceId, scope })).body.token as string;

  before(async function () {
    const pg = testCluster();
    if (!pg) return this.skip();
    const url = (dbUrl = await pg.createDatabase('cluster'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cluster-admin-'));
    dirs.push(dir);
    admin = await Admin.openPostgres(dir, url, FAST_SCRYPT);
    await admin.createUser('owner@cluster.test', 'Owner', 'owner-password-1');
    wid = (await admin.createWorkspace('cluster', 'Cluster', 'owner@cluster.test')).id;
    cluster = await startCluster(url, 3, HEARTBEAT_MS);
    const login = await rest(cluster.url, 'POST', '/v1/auth/login', undefined, { email: 'owner@cluster.test', password: 'owner-password-1' });
    token = (login.body.session as { token: string }).token;
    session = await mint(token, wid);
  });

  after(async () => {
    for (const f of followers) f.stop();
    await cluster?.close();
    await admin?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const follow = async (n: number): Promise<Follower[]> => {
    const h = await head();
    const list = Array.from({ length: n }, () => new Follower(cluster.wsUrl, session, h));
    await Promise.all(list.map((f) => f.connect()));
    followers.push(...list);
    return list;
  };

  it('delivers every event once and in order to 60 clients spread over the nodes', async () => {
    const list = await follow(60);
    const from = await head();
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => rest(cluster.url, 'POST', `${base()}/tasks`, token, { title: `t${i}`, prompt: 'p' }, `create-${i}`)),
    );
    assert.ok(created.every((r) => r.status === 201));
    const to = await head();
    assert.equal(to, from + 30);
    await Promise.all(list.map((f) => f.reached(to)));
    for (const f of list) assert.deepEqual(f.check(from, to), { lost: 0, duplicated: 0, outOfOrder: 0 });
    for (const f of list) f.stop();
    followers = [];
  });

  for (const how of ['kill -9', 'SIGTERM'] as const) {
    it(`loses, duplicates and reorders nothing when a node dies under write load (${how}), and applies each retried key once`, async () => {
      const list = await follow(30);
      const from = await head();
      const task = await rest(cluster.url, 'POST', `${base()}/tasks`, token, { title: `load ${how}`, prompt: 'p' }, `load-${how.replace(/\W/g, '')}-key`);
      const tid = (task.body.task as { id: string }).id;
      const victim = how === 'kill -9' ? 1 : 2;
      const writes = 60;
      let retriedKeys = 0;
      for (let i = 0; i < writes; i++) {
        if (i === 20) void (how === 'kill -9' ? cluster.kill9(victim) : cluster.sigterm(victim));
        const r = await retried(
          cluster.url,
          'POST',
          `${base()}/tasks/${tid}/status`,
          token,
          { status: 'running', note: `n${i}` },
          `status-${how.replace(/\W/g, '')}-${i}-key`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        if (r.tries > 1) retriedKeys++;
      }
      const to = await head();
      await Promise.all(list.map((f) => f.reached(to)));
      const totals = { lost: 0, duplicated: 0, outOfOrder: 0 };
      for (const f of list) {
        const c = f.check(from, to);
        totals.lost += c.lost;
        totals.duplicated += c.duplicated;
        totals.outOfOrder += c.outOfOrder;
        assert.equal(f.resyncs, 0);
      }
      assert.deepEqual(totals, { lost: 0, duplicated: 0, outOfOrder: 0 });
      assert.ok(
        list.some((f) => f.reconnects > 0),
        'some clients were on the node that died',
      );
      const detail = await rest(cluster.url, 'GET', `${base()}/tasks/${tid}`, token);
      const notes = (detail.body.progress as Array<{ note: string | null }>).map((p) => p.note).filter((n) => n?.startsWith('n'));
      assert.deepEqual(
        notes,
        Array.from({ length: writes }, (_, i) => `n${i}`),
        `every key applied exactly once (${retriedKeys} retried)`,
      );
      for (const f of list) f.stop();
      followers = [];
      await cluster.restart(victim);
    });
  }

  it('recovers when the LISTEN connections are terminated (pg_terminate_backend), losing nothing', async () => {
    const pg = testCluster();
    if (!pg) return;
    const list = await follow(9);
    const from = await head();
    const killed = await pg.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
    assert.ok(killed.rowCount && killed.rowCount >= 1, 'listeners found');
    for (let i = 0; i < 10; i++)
      assert.equal((await rest(cluster.url, 'POST', `${base()}/tasks`, token, { title: `after ${i}`, prompt: 'p' }, `terminate-${i}-key`)).status, 201);
    const to = await head();
    await Promise.all(list.map((f) => f.reached(to)));
    for (const f of list) assert.deepEqual(f.check(from, to), { lost: 0, duplicated: 0, outOfOrder: 0 });
    for (const f of list) f.stop();
    followers = [];
  });

  it('relays a 60 KiB offer from a viewer on node A to a desktop on node B, and marks a dead node’s desktop offline', async () => {
    const reg = await rest(
      cluster.url,
      'POST',
      `${base()}/instances`,
      token,
      { name: 'desk', platform: 'linux', version: '0.1.0', kind: 'desktop' },
      'reg-desk',
    );
    assert.equal(reg.status, 201);
    const instanceId = (reg.body.instance as { id: string }).id;
    const daemonToken = await mint(reg.body.workspaceToken as string, undefined, 'daemon');
    const [a, b, c] = cluster.nodes;
    const viewer = (await WsClient.ready(a.wsUrl, session)).client;
    const watcher = (await WsClient.ready(c.wsUrl, session)).client;
    const desktop = (await WsClient.ready(b.wsUrl, daemonToken)).client;
    // Its session on node B is committed (and so visible to node A) when the cluster says it is online.
    await viewer.next(
      (f) =>
        f.type === 'event' &&
        f.name === 'instance.presence' &&
        (f.data as { instanceId: string; online: boolean }).instanceId === instanceId &&
        (f.data as { online: boolean }).online,
      20_000,
    );
    const sdp = `v=0 ${'x'.repeat(60 * 1024)}`;
    viewer.send({ type: 'signal', sessionId: 's1', kind: 'offer', to: { instanceId }, payload: { sdp } });
    const offer = await desktop.next((f) => f.type === 'signal', 20_000);
    assert.equal((offer.payload as { sdp: string }).sdp.length, sdp.length);
    const from = offer.from as { connectionId: string };
    desktop.send({ type: 'signal', sessionId: 's1', kind: 'answer', to: { connectionId: from.connectionId }, payload: { sdp: 'v=0 answer' } });
    const answer = await viewer.next((f) => f.type === 'signal', 20_000);
    assert.deepEqual(answer.payload, { sdp: 'v=0 answer' });
    const beforeKill = await head();
    await cluster.kill9(1);
    const offline = await watcher.next(
      (f) =>
        f.type === 'event' &&
        f.name === 'instance.presence' &&
        (f.data as { instanceId: string; online: boolean }).instanceId === instanceId &&
        !(f.data as { online: boolean }).online,
      30_000,
    );
    // Within three heartbeat intervals of the dead node's last heartbeat, by the database's clocks (the
    // node row stays until long after), and said once by the cluster, not once per surviving node.
    const db = new PgClient({ connectionString: dbUrl });
    await db.connect();
    try {
      const last = (await db.query("SELECT last_seen FROM nodes WHERE id = 'n1'")).rows[0] as { last_seen: string };
      const after = Date.parse(offline.ts as string) - Number(last.last_seen);
      assert.ok(after <= 3 * HEARTBEAT_MS, `offline ${after} ms after the last heartbeat`);
      const said = await db.query("SELECT data FROM events WHERE workspace_id = $1 AND seq > $2 AND name = 'instance.presence'", [wid, beforeKill]);
      const offlines = said.rows.filter((r: { data: string }) => {
        const d = JSON.parse(r.data) as { instanceId: string; online: boolean };
        return d.instanceId === instanceId && !d.online;
      });
      assert.equal(offlines.length, 1);
    } finally {
      await db.end();
    }
    viewer.close();
    watcher.close();
    desktop.close();
    await cluster.restart(1);
  });
});
