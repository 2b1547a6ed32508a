import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDatabase } from '../../../src/server/db/database';
import { SqliteStore } from '../../../src/server/db/sqliteStore';
import { WalSync } from '../../../src/server/db/walSync';
import { WriteQueue, type Durability, type StoredEvent } from '../../../src/server/db/writeQueue';

/** A durability step the test completes by hand. */
class ManualSync implements Durability {
  readonly waiting: Array<(err: Error | null) => void> = [];
  request(done: (err: Error | null) => void): void {
    this.waiting.push(done);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('server write queue (group commit)', () => {
  let dir: string;
  let db: SqliteStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-wq-'));
    db = new SqliteStore(openDatabase(dir, 'NORMAL'));
    db.db.prepare("INSERT INTO workspaces (id, slug, name, timezone, guardrails, created_at) VALUES ('w1', 'w1', 'W', 'UTC', '{}', 0)").run();
  });
  afterEach(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const insert = (name: string) => async (tx: Parameters<Parameters<WriteQueue['run']>[0]>[0]) => {
    await tx.db.run("INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, 'h', 0)", name, `${name}@x`, name);
    tx.emit('w1', 'member.removed', { memberId: name });
    return name;
  };
  const users = () => (db.db.prepare('SELECT id FROM users ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  const seqs = (events: StoredEvent[]) => events.map((e) => `${(JSON.parse(e.data) as { memberId: string }).memberId}:${e.seq}`);

  it('answers and publishes only after the commit is durable, in commit order', async () => {
    const sync = new ManualSync();
    const published: StoredEvent[] = [];
    const q = new WriteQueue(db, Date.now, (e) => published.push(...e), 'batched', sync);
    const a = q.run(insert('a'));
    const b = q.run(insert('b'));
    assert.equal(await settled(a), false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(users(), ['a', 'b'], 'committed');
    assert.equal(published.length, 0, 'not published before it is durable');
    assert.equal(sync.waiting.length, 1, 'one sync for the batch');
    const c = q.run(insert('c'));
    await new Promise((r) => setImmediate(r));
    assert.equal(sync.waiting.length, 2);
    sync.waiting[0](null);
    assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
    assert.equal(await settled(c), false);
    sync.waiting[1](null);
    assert.equal(await c, 'c');
    assert.deepEqual(seqs(published), ['a:1', 'b:2', 'c:3']);
    assert.equal(q.batches, 2);
  });

  it('rejects (and does not publish) when the sync fails', async () => {
    const sync = new ManualSync();
    const published: StoredEvent[] = [];
    const q = new WriteQueue(db, Date.now, (e) => published.push(...e), 'batched', sync);
    const a = q.run(insert('a'));
    await new Promise((r) => setImmediate(r));
    sync.waiting[0](new Error('EIO'));
    await assert.rejects(a, /EIO/);
    assert.equal(published.length, 0);
  });

  it('rolls back only the mutation that throws; the rest of the batch commits', async () => {
    const published: StoredEvent[] = [];
    const q = new WriteQueue(db, Date.now, (e) => published.push(...e));
    const ok1 = q.run(insert('a'));
    const bad = q.run(async (tx) => {
      await insert('b')(tx);
      throw new Error('nope');
    });
    const ok2 = q.run(insert('c'));
    assert.deepEqual(await Promise.all([ok1, ok2]), ['a', 'c']);
    assert.deepEqual(seqs(published), ['a:1', 'c:2'], 'the failed mutation took no seq');
    await assert.rejects(bad, /nope/);
    assert.deepEqual(users(), ['a', 'c']);
    assert.equal(q.batches, 1);
  });

  it('commits one transaction per mutation in per-op mode', async () => {
    const q = new WriteQueue(db, Date.now, () => undefined, 'per-op');
    await Promise.all([q.run(insert('a')), q.run(insert('b')), q.run(insert('c'))]);
    assert.deepEqual(users(), ['a', 'b', 'c']);
    assert.equal(q.ops, 3);
  });

  it('syncs the real WAL file through WalSync', async () => {
    const sync = new WalSync(path.join(dir, 'server.db'));
    const q = new WriteQueue(db, Date.now, () => undefined, 'batched', sync);
    await Promise.all([q.run(insert('a')), q.run(insert('b'))]);
    assert.ok(fs.existsSync(path.join(dir, 'server.db-wal')));
    assert.equal(sync.syncs, 1);
    await q.close();
    await assert.rejects(q.run(insert('z')), /closed/);
  });

  it('keeps the -wal file open between syncs, and follows it when SQLite replaces it', async () => {
    const wal = path.join(dir, 'server.db-wal');
    const sync = new WalSync(path.join(dir, 'server.db'));
    const q = new WriteQueue(db, Date.now, () => undefined, 'batched', sync);
    await q.run(insert('a'));
    await q.run(insert('b'));
    assert.deepEqual({ syncs: sync.syncs, opens: sync.opens }, { syncs: 2, opens: 1 });
    const before = fs.statSync(wal).ino;
    await db.close(); // the last connection: SQLite checkpoints and removes the -wal file (ours stays open)
    assert.equal(fs.existsSync(wal), false);
    db = new SqliteStore(openDatabase(dir, 'NORMAL'));
    const q2 = new WriteQueue(db, Date.now, () => undefined, 'batched', sync);
    await q2.run(insert('c'));
    assert.notEqual(fs.statSync(wal).ino, before, 'a new -wal file');
    assert.deepEqual({ syncs: sync.syncs, opens: sync.opens }, { syncs: 3, opens: 2 });
    assert.deepEqual(users(), ['a', 'b', 'c']);
    await q2.close();
  });
});
