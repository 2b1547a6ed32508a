/**
 * cloud-throughput: the reference workspace server (dist/cloud.js, a child process) under load.
 *  1. Sustained task status updates over WSS with persistence (each acknowledged only after COMMIT,
 *     synchronous=FULL), group commit — then the same load with one transaction per update (baseline),
 *     and over REST (keep-alive, same server).
 *  2. Fan-out: 500 connected clients; 50 updates/s (--fanout-hz); latency from sending the update to
 *     each client receiving its event.
 * Prints one JSON line per phase; the last line is {updatesPerSec, fanoutClients, fanoutP50Ms, fanoutP99Ms, rssMB}.
 * Usage: npm run bench -- cloud-throughput [--seconds 5] [--clients 500] [--fanout-hz 50]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Admin } from '../src/cloud/admin';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, clients: { type: 'string', default: '500' }, 'fanout-hz': { type: 'string', default: '50' } } });
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const FANOUT_HZ = Number(values['fanout-hz']);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startServer(dataDir: string, commitMode: 'batched' | 'per-op'): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const port = await freePort();
  const nodeArgs = (process.env.CLOUD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/cloud.js'), '--port', String(port), '--data-dir', dataDir, '--commit-mode', commitMode,
    '--log-level', process.env.CLOUD_BENCH_LOG_LEVEL ?? 'warn', '--ws-frames-per-second', '1000000'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return { child, url, wsUrl: `ws://127.0.0.1:${port}/v1/ws` };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux); -1 elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return -1;
  }
}

function peakRssMB(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : -1;
  } catch {
    return -1;
  }
}

async function rest<T>(url: string, method: string, p: string, token: string | undefined, body?: unknown): Promise<T> {
  const res = await fetch(url + p, {
    method,
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function openSocket(wsUrl: string, token: string, onMessage: (data: Buffer) => void): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.on('message', (d: Buffer) => onMessage(d));
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: { name: 'bench', version: '1' } }));
      resolve();
    });
  });
  return ws;
}

interface Session {
  url: string;
  wsUrl: string;
  wid: string;
  daemonToken: string;
  workspaceToken: string;
  userToken: string;
  tasks: string[];
}

async function prepare(url: string, wsUrl: string, email: string, password: string, wid: string, taskCount: number): Promise<Session> {
  const login = await rest<{ session: { token: string } }>(url, 'POST', '/v1/auth/login', undefined, { email, password });
  const account = login.session.token;
  const reg = await rest<{ workspaceToken: string }>(url, 'POST', `/v1/workspaces/${wid}/instances`, account, { name: 'bench', platform: os.platform(), version: '1', kind: 'gateway' });
  const daemon = await rest<{ token: string }>(url, 'POST', '/v1/session-tokens', reg.workspaceToken, { scope: 'daemon' });
  const user = await rest<{ token: string }>(url, 'POST', '/v1/session-tokens', account, { workspaceId: wid });
  const tasks: string[] = [];
  for (let i = 0; i < taskCount; i += 32) {
    const batch = await Promise.all(Array.from({ length: Math.min(32, taskCount - i) }, (_, k) =>
      rest<{ task: { id: string } }>(url, 'POST', `/v1/workspaces/${wid}/tasks`, reg.workspaceToken, { title: `bench ${i + k}`, prompt: 'benchmark task' })));
    tasks.push(...batch.map((b) => b.task.id));
  }
  return { url, wsUrl, wid, daemonToken: daemon.token, workspaceToken: reg.workspaceToken, userToken: user.token, tasks };
}

/** Pipelined task.update over `sockets` WSS connections (window `window` each) for `seconds`. */
async function wssUpdates(s: Session, seconds: number, sockets = 2, window = 256): Promise<{ updates: number; perSec: number; errors: number }> {
  let updates = 0;
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: sockets }, async (_, si) => {
    const mine = s.tasks.filter((_t, i) => i % sockets === si);
    let inFlight = 0;
    let n = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((r) => (finish = r));
    const onMessage = (d: Buffer) => {
      if (d[9] !== 0x72 || !d.subarray(0, 16).toString().startsWith('{"type":"res"')) return; // events, welcome, …
      inFlight--;
      if (d.includes('"ok":true')) updates++;
      else errors++;
      pump();
    };
    const ws = await openSocket(s.wsUrl, s.daemonToken, (d) => onMessage(d));
    const pump = () => {
      while (inFlight < window && Date.now() < deadline) {
        const taskId = mine[n++ % mine.length];
        inFlight++;
        ws.send(`{"type":"req","id":"${n}","method":"task.update","idempotencyKey":"${randomUUID()}","params":{"taskId":"${taskId}","status":"running","note":"progress ${n}","progress":0.5}}`);
      }
      if (inFlight === 0 && Date.now() >= deadline) finish();
    };
    pump();
    await finished;
    ws.close();
  }));
  const elapsed = (Date.now() - started) / 1000;
  return { updates, perSec: Math.round(updates / elapsed), errors };
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(__filename)('autocannon') as Autocannon;

/** REST status updates with autocannon (keep-alive, `concurrency` connections, a fresh idempotency key each). */
async function restUpdates(s: Session, seconds: number, concurrency = 32): Promise<{ updates: number; perSec: number; p50Ms: number; p99Ms: number; non2xx: number }> {
  const r = await autocannon({
    url: `${s.url}/v1/workspaces/${s.wid}/tasks/${s.tasks[0]}/status`, connections: concurrency, duration: seconds, method: 'POST', idReplacement: true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.workspaceToken}`, 'idempotency-key': 'bench-[<id>]' },
    body: JSON.stringify({ status: 'running', note: 'rest' }),
  });
  return { updates: r.requests.total, perSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx + r.errors };
}

async function fanout(s: Session, clients: number, events: number): Promise<{ clients: number; samples: number; p50: number; p99: number; max: number; missing: number }> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const socks: WebSocket[] = [];
  const marker = Buffer.from('"note":"fan ');
  for (let i = 0; i < clients; i += 50) {
    socks.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => openSocket(s.wsUrl, s.userToken, (d) => {
      if (d[9] !== 0x65) return; // only {"type":"event"
      const at = d.indexOf(marker);
      if (at < 0) return;
      const start = at + marker.length;
      const t0 = sentAt.get(Number(d.subarray(start, d.indexOf(0x22, start)).toString()));
      if (t0 !== undefined) latencies.push(performance.now() - t0);
    })))));
  }
  const publisher = await openSocket(s.wsUrl, s.daemonToken, () => undefined);
  await new Promise((r) => setTimeout(r, 500)); // let every hello complete
  for (let i = 0; i < events; i++) {
    sentAt.set(i, performance.now());
    publisher.send(JSON.stringify({ type: 'req', id: `f${i}`, method: 'task.update', idempotencyKey: randomUUID(), params: { taskId: s.tasks[0], status: 'running', note: `fan ${i}` } }));
    await new Promise((r) => setTimeout(r, 1000 / FANOUT_HZ));
  }
  const expected = clients * events;
  for (let i = 0; i < 100 && latencies.length < expected; i++) await new Promise((r) => setTimeout(r, 50));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
  for (const w of [...socks, publisher]) w.close();
  return { clients, samples: latencies.length, p50: q(0.5), p99: q(0.99), max: q(1), missing: expected - latencies.length };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cloud-bench-'));
  const email = 'bench@example.test';
  const password = `pw-${randomUUID()}`;
  const admin = new Admin(dataDir);
  await admin.createUser(email, 'Bench', password);
  const wid = admin.createWorkspace('bench', 'Bench', email).id;
  admin.close();
  try {
    let srv = await startServer(dataDir, 'batched');
    const s = await prepare(srv.url, srv.wsUrl, email, password, wid, 256);
    const cpuUs = (before: number, n: number) => Math.round(((cpuSeconds(srv.child.pid) - before) * 1e6) / Math.max(1, n));
    await wssUpdates(s, 1); // warm-up
    let cpu0 = cpuSeconds(srv.child.pid);
    const wss = await wssUpdates(s, SECONDS);
    console.log(JSON.stringify({ phase: 'wss-updates', commit: 'batched', sync: 'FULL', ...wss, serverCpuUsPerUpdate: cpuUs(cpu0, wss.updates), loadavg: os.loadavg()[0] }));
    cpu0 = cpuSeconds(srv.child.pid);
    const viaRest = await restUpdates(s, Math.min(3, SECONDS));
    console.log(JSON.stringify({ phase: 'rest-updates', commit: 'batched', sync: 'FULL', ...viaRest, serverCpuUsPerUpdate: cpuUs(cpu0, viaRest.updates) }));
    const fan = await fanout(s, CLIENTS, Math.round(FANOUT_HZ * SECONDS));
    const rssMB = peakRssMB(srv.child.pid);
    console.log(JSON.stringify({ phase: 'fanout', ...fan, eventsPerSec: FANOUT_HZ, serverPeakRssMB: rssMB }));
    await stopServer(srv.child);

    srv = await startServer(dataDir, 'per-op');
    const cpuB = cpuSeconds(srv.child.pid);
    const baseline = await wssUpdates({ ...s, url: srv.url, wsUrl: srv.wsUrl }, Math.min(3, SECONDS));
    console.log(JSON.stringify({ phase: 'wss-updates', commit: 'per-op (baseline)', sync: 'FULL', ...baseline, serverCpuUsPerUpdate: cpuUs(cpuB, baseline.updates) }));
    await stopServer(srv.child);

    console.log(JSON.stringify({ speedupVsPerOpCommit: Math.round((wss.perSec / Math.max(1, baseline.perSec)) * 10) / 10, restUpdatesPerSec: viaRest.perSec, fanoutMaxMs: fan.max, fanoutMissing: fan.missing }));
    console.log(JSON.stringify({ updatesPerSec: wss.perSec, fanoutClients: fan.clients, fanoutP50Ms: fan.p50, fanoutP99Ms: fan.p99, rssMB }));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
