/**
 * Faults under three server nodes on one PostgreSQL database (test/support/cluster.ts), in the
 * unit-postgres tier: the database crashing under write load (`pg_ctl -m immediate`), the same
 * idempotency key sent to every node at once, and a node killed in the middle of a `task.update` whose
 * key is then retried on another node.
 * Nothing acknowledged may be lost, no key may apply twice, and the nodes recover by themselves.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Admin } from '../../../src/server/admin';
import { startCluster, type Cluster } from '../../support/cluster';
import { Follower, readiness, rest, retried } from '../../support/clusterClients';
import type { PgCluster } from '../../support/postgres';
import { testCluster } from '../../support/postgresHooks';
import { FAST_SCRYPT, WsClient, type Frame } from '../../support/server';
import { poll, until } from '../../support/wait';

/** A TCP relay to one node that can stop passing the node's bytes to the client (its answers are lost, as when the node dies). */
async function holdingRelay(port: number): Promise<{ wsUrl: string; hold(): void; close(): Promise<void> }> {
  let holding = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(port, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(up);
    up.on('data', (d: Buffer) => void (holding || client.write(d)));
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    wsUrl: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1/ws`,
    hold: () => void (holding = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const noteOf = (f: Frame): string | undefined => ((f.data as { note?: { note?: string } } | undefined)?.note ?? undefined)?.note;

describe('server cluster: a database crash, and a node killed mid-update', function () {
  this.timeout(180_000);
  let pg: PgCluster;
  let cluster: Cluster;
  let admin: Admin;
  let wid: string;
  let token: string;
  let session: string;
  const followers: Follower[] = [];
  const dirs: string[] = [];
  const base = () => `/v1/workspaces/${wid}`;
  const head = async () => (await rest(cluster.url, 'GET', `${base()}/events?after=0&limit=1`, token)).body.headSeq as number;
  const mint = async (t: string, workspaceId?: string, scope = 'user') =>
    (await rest(cluster.url, 'POST', '/v1/session-tokens', t, { workspaceId, scope })).body.token as string;
  const notes = async (tid: string) =>
    ((await rest(cluster.url, 'GET', `${base()}/tasks/${tid}`, token)).body.progress as Array<{ note: string | null }>).map((p) => p.note);
  const everyNode = <T>(check: (r: Awaited<ReturnType<typeof readiness>>) => T) => Promise.all(cluster.nodes.map(async (n) => check(await readiness(n.url))));

  before(async function () {
    const c = testCluster();
    if (!c) return this.skip();
    pg = c;
    const url = await pg.createDatabase('faults');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-faults-admin-'));
    dirs.push(dir);
    admin = await Admin.openPostgres(dir, url, FAST_SCRYPT);
    await admin.createUser('owner@faults.test', 'Owner', 'owner-password-1');
    wid = (await admin.createWorkspace('faults', 'Faults', 'owner@faults.test')).id;
    cluster = await startCluster(url, 3, 1000);
    const login = await rest(cluster.url, 'POST', '/v1/auth/login', undefined, { email: 'owner@faults.test', password: 'owner-password-1' });
    token = (login.body.session as { token: string }).token;
    session = await mint(token, wid);
  });

  after(async () => {
    for (const f of followers) f.stop();
    await cluster?.close();
    await admin?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loses nothing acknowledged when PostgreSQL crashes under write load, and every node recovers by itself', async () => {
    const from = await head();
    const list = Array.from({ length: 9 }, () => new Follower(cluster.wsUrl, session, from));
    await Promise.all(list.map((f) => f.connect()));
    followers.push(...list);
    const task = await rest(cluster.url, 'POST', `${base()}/tasks`, token, { title: 'crash', prompt: 'p' }, 'crash-task-key');
    const tid = (task.body.task as { id: string }).id;
    // A gateway connected to node 0 through the outage: it must still be online afterwards (a node that
    // comes back judges the others only after their heartbeats had time to go through again).
    const reg = await rest(
      cluster.url,
      'POST',
      `${base()}/instances`,
      token,
      { name: 'gw', platform: 'linux', version: '0.1.0', kind: 'gateway' },
      'crash-reg-key',
    );
    const instanceId = (reg.body.instance as { id: string }).id;
    const watcher = (await WsClient.ready(cluster.nodes[2].wsUrl, session)).client;
    const gateway = (await WsClient.ready(cluster.nodes[0].wsUrl, await mint(reg.body.workspaceToken as string, undefined, 'daemon'))).client;
    await watcher.next((f) => f.type === 'event' && f.name === 'instance.presence' && (f.data as { instanceId: string }).instanceId === instanceId, 20_000);
    watcher.close();
    const failedBeats = cluster.nodes.map(() => 0);
    const beatLogs = cluster.nodes.map((n, i) => n.onLog((rec) => void (rec.msg === 'cluster heartbeat failed' && failedBeats[i]++)));
    const someNodeReady = () => poll(async () => (await everyNode((r) => r?.status === 200)).some(Boolean), 60_000, 'a node ready again');
    const acked: string[] = [];
    let retriedWrites = 0;
    let tenAcked: () => void = () => undefined;
    const ten = new Promise<void>((r) => (tenAcked = r));
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        const note = `pg${i}`;
        const r = await retried(cluster.url, 'POST', `${base()}/tasks/${tid}/status`, token, { status: 'running', note }, `crash-${i}-key`, someNodeReady);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        if (r.tries > 1) retriedWrites++;
        acked.push(note);
        if (acked.length === 10) tenAcked();
      }
    })();
    await ten;
    await pg.crash();
    // Every node notices by itself: not ready, database down, LISTEN connection down.
    await poll(
      async () => (await everyNode((r) => r?.status === 503 && !r.ready && !r.database.ok && r.listen?.ok === false)).every(Boolean),
      30_000,
      'every node unready',
    );
    // Longer down than a node takes to count as dead (two intervals): six failed heartbeats, half an interval apart, on every node.
    await until(
      cluster.nodes.map((n) => n.onLog),
      () => failedBeats.every((n) => n >= 6),
      60_000,
      'six failed heartbeats on every node',
    );
    for (const d of beatLogs) d.dispose();
    const refused = await rest(cluster.url, 'POST', `${base()}/tasks/${tid}/status`, token, { status: 'running', note: 'refused' }, 'crash-refused-key');
    assert.ok(refused.status >= 500, `a write without a database is not acknowledged (${refused.status})`);
    await pg.start();
    await poll(async () => (await everyNode((r) => r?.status === 200 && r.ready && r.listen?.ok)).every(Boolean), 60_000, 'every node ready again');
    await writer;
    assert.ok(retriedWrites > 0, 'the crash hit the writer');
    const to = await head();
    await Promise.all(list.map((f) => f.reached(to)));
    for (const f of list) assert.deepEqual(f.check(from, to), { lost: 0, duplicated: 0, outOfOrder: 0 });
    assert.deepEqual(
      (await notes(tid)).filter((n) => n?.startsWith('pg')),
      Array.from({ length: 40 }, (_, i) => `pg${i}`),
      'every acknowledged write once, in order',
    );
    assert.ok(!(await notes(tid)).includes('refused'));
    // LISTEN works again (not only the head poll): a write on one node reaches the others as a hint.
    const hints = await everyNode((r) => r?.listen?.hintsReceived ?? 0);
    assert.equal((await rest(cluster.nodes[0].url, 'POST', `${base()}/tasks`, token, { title: 'after', prompt: 'p' }, 'crash-after-key')).status, 201);
    await poll(
      async () => (await everyNode((r) => r?.listen?.hintsReceived ?? 0)).every((n, i) => i === 0 || n > hints[i]),
      20_000,
      'hints on the other nodes',
    );
    const since = (await rest(cluster.url, 'GET', `${base()}/events?after=${from}&limit=1000`, token)).body.events as Frame[];
    assert.deepEqual(
      since
        .filter(
          (e) => e.name === 'instance.presence' && (e.data as { instanceId: string }).instanceId === instanceId && !(e.data as { online: boolean }).online,
        )
        .map((e) => e.data),
      [],
      'no node declared the others dead when the database came back',
    );
    const instances = (await rest(cluster.nodes[0].url, 'GET', `${base()}/instances`, token)).body.instances as Array<{ id: string; online: boolean }>;
    assert.equal(instances.find((x) => x.id === instanceId)?.online, true);
    gateway.close();
    for (const f of list) f.stop();
  });

  it('applies each idempotency key once when the same request reaches every node at the same time', async () => {
    const task = await rest(cluster.url, 'POST', `${base()}/tasks`, token, { title: 'dup', prompt: 'p' }, 'dup-task-key');
    const tid = (task.body.task as { id: string }).id;
    const keys = 20;
    const replies = await Promise.all(
      Array.from({ length: keys }, (_, i) =>
        Promise.all(
          cluster.nodes.map((n) => rest(n.url, 'POST', `${base()}/tasks/${tid}/status`, token, { status: 'running', note: `dup${i}` }, `dup-key-${i}`)),
        ),
      ),
    );
    replies.forEach((perNode, i) => {
      assert.deepEqual(
        perNode.map((r) => r.status),
        [200, 200, 200],
        `key ${i}: ${JSON.stringify(perNode.map((r) => r.body))}`,
      );
      assert.equal(perNode.filter((r) => r.headers['idempotency-replayed'] !== 'true').length, 1, `key ${i} applied by one node, replayed by the others`);
      const versions = new Set(perNode.map((r) => (r.body.task as { version: number }).version));
      assert.equal(versions.size, 1, `key ${i}: one answer`);
    });
    const applied = (await notes(tid)).filter((n) => n?.startsWith('dup')).sort();
    assert.deepEqual(applied, Array.from({ length: keys }, (_, i) => `dup${i}`).sort(), 'each key applied exactly once');
  });

  it('applies a task.update once when its node dies before answering and the key is retried on another node', async () => {
    const reg = await rest(
      cluster.url,
      'POST',
      `${base()}/instances`,
      token,
      { name: 'gw', platform: 'linux', version: '0.1.0', kind: 'gateway' },
      'mid-reg-key',
    );
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const instanceId = (reg.body.instance as { id: string }).id;
    const workspaceToken = reg.body.workspaceToken as string;
    const daemonToken = await mint(workspaceToken, undefined, 'daemon');
    const created = await rest(
      cluster.url,
      'POST',
      `${base()}/tasks`,
      token,
      { title: 'mid', prompt: 'p', assignee: { type: 'instance', instanceId } },
      'mid-task-key',
    );
    const tid = (created.body.task as { id: string }).id;
    const watcher = (await WsClient.ready(cluster.nodes[2].wsUrl, session)).client;
    const retryOnC = (note: string, key: string) =>
      rest(cluster.nodes[2].url, 'POST', `${base()}/tasks/${tid}/status`, workspaceToken, { status: 'running', note }, key);

    // 1. Node B commits the update, and dies before its answer reaches the client (a relay holds it back).
    const relay = await holdingRelay(cluster.nodes[1].port);
    const daemon = (await WsClient.ready(relay.wsUrl, daemonToken)).client;
    relay.hold();
    daemon.send({ type: 'req', id: 'r1', method: 'task.update', params: { taskId: tid, status: 'running', note: 'committed' }, idempotencyKey: 'mid-key-1' });
    const applied = await watcher.next((f) => f.type === 'event' && f.name === 'task.updated' && noteOf(f) === 'committed', 20_000);
    await cluster.kill9(1);
    await daemon.closed;
    assert.ok(!daemon.frames.some((f) => f.type === 'res'), 'the answer never reached the client');
    const replay = await retryOnC('committed', 'mid-key-1');
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.headers['idempotency-replayed'], 'true', 'the stored answer, not a second update');
    assert.equal((replay.body.task as { version: number }).version, (applied.data as { task: { version: number } }).task.version);
    await relay.close();

    // 2. Node B is paused with the update unread in its socket, then killed: the retry on C applies it, once.
    const b = await cluster.restart(1);
    const daemon2 = (await WsClient.ready(b.wsUrl, daemonToken)).client;
    b.child.kill('SIGSTOP');
    await new Promise<void>((resolve, reject) =>
      daemon2.ws.send(
        JSON.stringify({
          type: 'req',
          id: 'r2',
          method: 'task.update',
          params: { taskId: tid, status: 'running', note: 'unread' },
          idempotencyKey: 'mid-key-2',
        }),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    await cluster.kill9(1);
    const fresh = await retryOnC('unread', 'mid-key-2');
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.equal(fresh.headers['idempotency-replayed'], undefined, 'applied now: the dead node never did');
    const again = await retryOnC('unread', 'mid-key-2');
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.deepEqual(
      (await notes(tid)).filter((n) => n === 'committed' || n === 'unread'),
      ['committed', 'unread'],
      'each key applied exactly once',
    );
    watcher.close();
    daemon2.close();
    await cluster.restart(1);
  });
});
