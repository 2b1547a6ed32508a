/**
 * Task updates survive everything: the outbox file (order, keys, torn last line, compaction), an
 * extension host restart with queued updates (a fresh Gateway over the same storage dir), a crash
 * (kill -9 of a process mid-stream, requests in flight), and the server killed with kill -9 and
 * restarted (the gateway resumes from its last seq and misses no assignment).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Admin } from '../../../../src/server/admin';
import { Outbox } from '../../../../src/gateway/workspace/outbox';
import { MemorySink, RedactingLogger } from '../../../../src/gateway/log/logger';
import { Redactor } from '../../../../src/gateway/log/redact';
import { FileSecrets } from '../../../fixtures/fileSecrets';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { FAST_SCRYPT, startTestServer } from '../../../support/server';
import { call, makeTeam, MapSecrets, signInAs, startChildServer, startGateway, untilTask, waitFor, type Team, type TestServer } from './helpers';

const logger = (): RedactingLogger => new RedactingLogger(new MemorySink(), new Redactor());

async function notes(url: string, token: string, wid: string, taskId: string, prefix: string): Promise<string[]> {
  const r = await call<{ progress: Array<{ note: string | null }> }>(url, 'GET', `/v1/workspaces/${wid}/tasks/${taskId}`, { token });
  return r.body.progress.map((p) => p.note).filter((n): n is string => !!n && n.startsWith(prefix));
}

async function instanceTask(url: string, team: Team, instanceId: string, title: string): Promise<string> {
  const r = await call<{ task: { id: string } }>(url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
    token: team.owner.token,
    idem: true,
    body: { title, prompt: title, assignee: { type: 'instance', instanceId } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.task.id;
}

describe('workspace link: the outbox', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-outbox-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('keeps queued updates in order with their keys across a reopen; 0600; settled ones are gone', async () => {
    const file = path.join(tmp, 'outbox.jsonl');
    const a = await Outbox.open(file, logger());
    const items: Array<Awaited<ReturnType<Outbox['enqueue']>>> = [];
    for (let i = 0; i < 5; i++) items.push(await a.enqueue(`t${i % 2}`, 'task.update', { status: 'running', note: `n${i}` }));
    a.settle(items[1].id);
    await a.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const b = await Outbox.open(file, logger());
    assert.deepEqual(
      b.pending().map((i) => [i.id, i.key, i.params.note]),
      [0, 2, 3, 4].map((k) => [items[k].id, items[k].key, `n${k}`]),
    );
    const next = await b.enqueue('t9', 'task.update', { status: 'running' });
    assert.ok(next.id > items[4].id, 'ids keep growing');
    await b.close();
  });

  it('drops a torn last record (a crash mid-append) and skips an unreadable one', async () => {
    const file = path.join(tmp, 'outbox.jsonl');
    const a = await Outbox.open(file, logger());
    await a.enqueue('t', 'task.update', { status: 'running', note: 'kept' });
    await a.close();
    fs.appendFileSync(file, 'garbage that is not json\n{"t":"add","id":7,"key":"mco-torn","taskId":"t","meth');
    const b = await Outbox.open(file, logger());
    assert.deepEqual(
      b.pending().map((i) => i.params.note),
      ['kept'],
    );
    await b.close();
    assert.ok(!fs.readFileSync(file, 'utf8').includes('torn'), 'compacted on open');
  });

  it('compacts the file once most of it is delivered', async () => {
    const file = path.join(tmp, 'outbox.jsonl');
    const o = await Outbox.open(file, logger());
    for (let i = 0; i < 1200; i++) o.settle((await o.enqueue('t', 'task.update', { status: 'running', note: `n${i}` })).id);
    await o.enqueue('t', 'task.update', { status: 'running', note: 'last' });
    await o.flush();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.ok(lines.length < 1100, `${lines.length} lines after compaction (2,401 without)`);
    await o.close();
    const again = await Outbox.open(file, logger());
    assert.deepEqual(
      again.pending().map((i) => i.params.note),
      ['last'],
    );
    await again.close();
  });
});

describe('workspace link: updates across restarts and crashes', function () {
  this.timeout(90_000);
  let providers: ProviderServer;
  let tmp: string;

  before(async () => {
    providers = await startProviderServer();
  });
  after(async () => {
    await providers?.close();
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-restart-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('delivers updates queued while offline after an extension host restart (fresh Gateway, same storage)', async () => {
    const dataDir = path.join(tmp, 'cloud');
    fs.mkdirSync(dataDir);
    let ts: TestServer = await startTestServer({ dataDir, heartbeatIntervalMs: 200 });
    const team = await makeTeam(ts);
    const secrets = new MapSecrets();
    const dir = path.join(tmp, 'gw');
    const a = await startGateway(providers, { dir, secrets });
    await signInAs(a, ts, team.people.member, team.wid);
    const taskId = await instanceTask(ts.url, team, a.gateway.link.instance!.id, 'offline work');
    await untilTask(a.gateway.link, taskId, () => true);
    const port = ts.server.port;
    await ts.close();
    await a.status((s) => s.phase === 'reconnecting' || s.phase === 'offline');
    for (let i = 1; i <= 50; i++) await a.gateway.link.runner!.update(taskId, { status: 'running', note: `queued ${i}` });
    assert.equal(a.gateway.link.outbox!.size, 50);
    await a.status((s) => s.queued === 50, 2_000, 'the status bar count');
    await a.stop(); // the extension host goes away with 50 updates queued
    ts = await startTestServer({ dataDir, port, heartbeatIntervalMs: 200 });
    try {
      const b = await startGateway(providers, { dir, secrets });
      await b.status((s) => s.phase === 'connected');
      if (b.gateway.link.outbox!.size) await waitFor(b.gateway.link.outbox!.onDidChange, (n) => n === 0, 20_000, 'delivery');
      const got = await notes(ts.url, team.owner.token, team.wid, taskId, 'queued ');
      assert.deepEqual(
        got,
        Array.from({ length: 50 }, (_, i) => `queued ${i + 1}`),
      );
      await b.stop();
    } finally {
      await ts.close();
    }
  });

  it('a process killed with kill -9 mid-stream: the next one delivers every update exactly once, in order', async () => {
    const dataDir = path.join(tmp, 'cloud');
    fs.mkdirSync(dataDir);
    const ts = await startTestServer({ dataDir, heartbeatIntervalMs: 200 });
    try {
      const team = await makeTeam(ts);
      const secretsFile = path.join(tmp, 'secrets.json');
      const dir = path.join(tmp, 'gw');
      const a = await startGateway(providers, { dir, secrets: new FileSecrets(secretsFile) as unknown as MapSecrets });
      await signInAs(a, ts, team.people.member, team.wid);
      const taskId = await instanceTask(ts.url, team, a.gateway.link.instance!.id, 'crashing work');
      await a.stop();
      const child = spawn(process.execPath, [path.resolve(__dirname, '../../../fixtures/outboxCrashChild.js'), dir, secretsFile, taskId], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      let enqueued = 0;
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the child exited on its own (${code})`)));
        readline.createInterface({ input: child.stdout! }).on('line', (l) => {
          enqueued = Number(/^enqueued (\d+)$/.exec(l)?.[1] ?? enqueued);
          if (enqueued === 400) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await exited;
      const before = (await notes(ts.url, team.owner.token, team.wid, taskId, 'crash ')).length;
      const b = await startGateway(providers, { dir, secrets: new FileSecrets(secretsFile) as unknown as MapSecrets });
      await b.status((s) => s.phase === 'connected');
      if (b.gateway.link.outbox!.size) await waitFor(b.gateway.link.outbox!.onDidChange, (n) => n === 0, 30_000, 'delivery');
      const got = await notes(ts.url, team.owner.token, team.wid, taskId, 'crash ');
      assert.ok(got.length >= 400, `every acknowledged enqueue is delivered (${before} before the restart, ${got.length} after)`);
      assert.deepEqual(
        got,
        Array.from({ length: got.length }, (_, i) => `crash ${i + 1}`),
        'exactly once, in order, no gap',
      );
      await b.stop();
    } finally {
      await ts.close();
    }
  });

  it('the server killed with kill -9 and restarted: the gateway resumes and misses no assignment', async () => {
    const dataDir = path.join(tmp, 'cloud');
    fs.mkdirSync(dataDir);
    const admin = new Admin(dataDir, undefined, FAST_SCRYPT);
    await admin.createUser('owner@kill.test', 'Owner', 'owner-password-1');
    await admin.createUser('member@kill.test', 'Member', 'member-password-1');
    await admin.createWorkspace('kill', 'Kill', 'owner@kill.test');
    await admin.addMember('kill', 'member@kill.test', 'member');
    await admin.close();
    let server = await startChildServer(dataDir);
    const h = await startGateway(providers, { tuning: { backoff: { baseMs: 20, capMs: 200 } } });
    try {
      await signInAs(h, server, { email: 'member@kill.test', password: 'owner-password-1'.replace('owner', 'member') });
      const link = h.gateway.link;
      const ids: string[] = [];
      const create = async (title: string): Promise<string> => {
        const a = new Admin(dataDir, undefined, FAST_SCRYPT);
        try {
          return (await a.createTask('kill', title, title, 'member@kill.test')).id;
        } finally {
          await a.close();
        }
      };
      for (let i = 0; i < 3; i++) ids.push(await create(`before ${i}`));
      const phases: string[] = [];
      h.gateway.linkStatus.onDidChange((s) => phases.push(s.phase));
      await server.kill9();
      for (let i = 0; i < 5; i++) ids.push(await create(`while down ${i}`)); // written to the database while no server runs
      server = await startChildServer(dataDir, server.port);
      await h.status((s) => s.phase === 'connected', 20_000, 'connected again');
      for (const id of ids) await untilTask(link, id, () => true, 10_000);
      const after = await create('after');
      await untilTask(link, after, () => true, 10_000);
      assert.ok(
        phases.some((p) => p === 'reconnecting' || p === 'offline'),
        `went through reconnecting: ${[...new Set(phases)].join(',')}`,
      );
      assert.equal(link.workspaceTasks!.list().filter((t) => t.title.startsWith('while down')).length, 5);
    } finally {
      await h.stop();
      await server.stop();
    }
  });
});
