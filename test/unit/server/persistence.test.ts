import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Admin } from '../../../src/server/admin';
import { call, FAST_SCRYPT, WsClient } from '../../support/server';

const MAIN = path.resolve(__dirname, '../../../src/server/main.js');

/** Starts the compiled server as a child process and resolves with its URL once it logs `listening`. */
function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--data-dir', dataDir, '--log-level', 'info', '--ws-frames-per-second', '5000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const onExit = (code: number | null) => reject(new Error(`server exited early (${code})`));
    child.once('exit', onExit);
    rl.on('line', (line) => {
      const rec = JSON.parse(line) as { msg: string; url?: string };
      if (rec.msg === 'listening' && rec.url) {
        child.off('exit', onExit);
        resolve({ child, url: rec.url, wsUrl: `${rec.url.replace(/^http/, 'ws')}/v1/ws` });
      }
    });
  });
}

describe('server persistence across kill -9', function () {
  this.timeout(30_000);
  let dataDir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-kill-'));
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write when the server is killed mid-write', async () => {
    const admin = new Admin(dataDir, undefined, FAST_SCRYPT);
    await admin.createUser('kill@example.test', 'Kill', 'kill-password-1');
    const wid = (await admin.createWorkspace('kill', 'Kill', 'kill@example.test')).id;
    await admin.close();

    const first = await startChild(dataDir);
    children.push(first.child);
    const login = await call<{ session: { token: string } }>(first.url, 'POST', '/v1/auth/login', {
      body: { email: 'kill@example.test', password: 'kill-password-1' },
    });
    const token = login.body.session.token;
    const task = await call<{ task: { id: string } }>(first.url, 'POST', `/v1/workspaces/${wid}/tasks`, {
      token,
      idem: true,
      body: { title: 'survive', prompt: 'p' },
    });
    const taskId = task.body.task.id;
    const mint = await call<{ token: string }>(first.url, 'POST', '/v1/session-tokens', { token, body: { workspaceId: wid } });
    const sockets = await Promise.all([0, 1].map(async () => (await WsClient.ready(first.wsUrl, mint.body.token)).client));

    // Two sockets keep 64 updates each in flight (every ack sends the next) until the server is killed
    // after 300 acknowledgements; every acknowledged note is recorded.
    const acked = new Map<string, string>(); // note → idempotency key
    const sentNotes: string[] = [];
    let killed = false;
    const exited = new Promise((r) => first.child.once('exit', r));
    const sendOne = (ws: WsClient) => {
      const note = `n-${randomUUID()}`;
      const key = `k-${randomUUID()}`;
      sentNotes.push(note);
      ws.send({ type: 'req', id: `${note}|${key}`, method: 'task.update', idempotencyKey: key, params: { taskId, status: 'running', note } });
    };
    await new Promise<void>((resolve) => {
      for (const ws of sockets) {
        ws.ws.on('message', (data) => {
          const f = JSON.parse(data.toString()) as { type: string; id?: string; ok?: boolean };
          if (f.type !== 'res' || !f.ok || !f.id) return;
          const [note, key] = f.id.split('|');
          acked.set(note, key);
          if (!killed) sendOne(ws);
          if (acked.size >= 300 && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
            resolve();
          }
        });
        for (let i = 0; i < 64; i++) sendOne(ws);
      }
    });
    await exited;
    assert.ok(acked.size >= 300 && acked.size < sentNotes.length, `killed mid-stream (${acked.size} of ${sentNotes.length} acknowledged)`);

    const second = await startChild(dataDir);
    children.push(second.child);
    const detail = await call<{ progress: Array<{ note: string }> }>(second.url, 'GET', `/v1/workspaces/${wid}/tasks/${taskId}`, { token });
    assert.equal(detail.status, 200, 'the account token survived the restart');
    const stored = new Set(detail.body.progress.map((p) => p.note));
    const lost = [...acked.keys()].filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], 'acknowledged updates lost');
    assert.equal(stored.size, detail.body.progress.length, 'no duplicates');
    // A replayed acknowledged request is answered from the store, changing nothing.
    const [someNote, someKey] = [...acked.entries()][0];
    const replay = await call(second.url, 'POST', `/v1/workspaces/${wid}/tasks/${taskId}/status`, {
      token,
      idem: someKey,
      body: { status: 'running', note: someNote },
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotency-replayed'), 'true');
    // Events were persisted with the writes: one task.updated per stored note, consecutive seqs.
    const ev = await call<{ events: Array<{ seq: number; name: string }> }>(second.url, 'GET', `/v1/workspaces/${wid}/events?after=0&limit=1000`, { token });
    const updates = ev.body.events.filter((e) => e.name === 'task.updated');
    assert.equal(updates.length, stored.size);
    assert.deepEqual(
      ev.body.events.map((e) => e.seq),
      ev.body.events.map((_e, i) => i + 1),
    );
    // Session tokens minted before the restart still verify (same master key in the data dir).
    const back = await WsClient.connect(second.wsUrl, mint.body.token);
    back.send({ type: 'hello', protocol: 1, client: { name: 'after', version: '1' } });
    assert.equal((await back.next((f) => f.type === 'welcome')).workspaceId, wid);
    back.close();
    const stopped = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGTERM');
    await stopped;
    assert.equal(second.child.exitCode, 0, 'graceful shutdown on SIGTERM');
    assert.equal(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dataDir, 'server.db')).mode & 0o777, 0o600);
  });
});
