/**
 * server-throughput: the reference workspace server (dist/server.js, a child process) under load.
 *  1. Sustained task status updates over WSS with persistence (each acknowledged only after COMMIT,
 *     synchronous=FULL), group commit — then the same load with one transaction per update (baseline),
 *     and over REST (keep-alive, same server).
 *  2. Fan-out: 500 connected clients (on receiver threads); 20 updates/s (--fanout-hz), i.e. 10,000
 *     deliveries/s; latency from sending the update (commit + fsync included) to each client receiving its
 *     event, and the server's CPU time per delivered event. Rounds (--rounds) alternate with the floor, a
 *     bare ws broadcast server with the same receivers (bench/fanoutFloor.ts), so both see the same load.
 * Prints one JSON line per phase; the last line is
 * {updatesPerSec, fanoutClients, fanoutP50Ms, fanoutP99Ms, fanoutCpuUsPerDelivery, rssMB}.
 * Usage: npm run bench -- server-throughput [--seconds 5] [--clients 500] [--fanout-hz 20] [--sync full|normal]
 *        [--phases wss,rest,fanout,baseline] [--rounds 2]
 * Env: SERVER_BENCH_NODE_ARGS (e.g. "--cpu-prof" for the server), SERVER_BENCH_LOG_LEVEL, SERVER_BENCH_RECEIVER_THREADS (2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { freePort } from '../test/support/net';
import { Admin } from '../src/server/admin';
import { startFloor } from './fanoutFloor';

const root = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '500' },
    'fanout-hz': { type: 'string', default: '20' },
    sync: { type: 'string', default: 'full' },
    phases: { type: 'string', default: 'wss,rest,fanout,baseline' },
    rounds: { type: 'string', default: '2' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const FANOUT_HZ = Number(values['fanout-hz']);
const SYNC = values.sync === 'normal' ? 'normal' : 'full';
const PHASES = new Set(values.phases.split(','));
const ROUNDS = Math.max(1, Number(values.rounds));

async function startServer(dataDir: string, commitMode: 'batched' | 'per-op'): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const port = await freePort();
  const nodeArgs = (process.env.SERVER_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(root, 'dist/server.js'),
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--commit-mode',
      commitMode,
      '--sync',
      SYNC,
      '--log-level',
      process.env.SERVER_BENCH_LOG_LEVEL ?? 'warn',
      '--ws-frames-per-second',
      '1000000',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
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
  const reg = await rest<{ workspaceToken: string }>(url, 'POST', `/v1/workspaces/${wid}/instances`, account, {
    name: 'bench',
    platform: os.platform(),
    version: '1',
    kind: 'gateway',
  });
  const daemon = await rest<{ token: string }>(url, 'POST', '/v1/session-tokens', reg.workspaceToken, { scope: 'daemon' });
  const user = await rest<{ token: string }>(url, 'POST', '/v1/session-tokens', account, { workspaceId: wid });
  const tasks: string[] = [];
  for (let i = 0; i < taskCount; i += 32) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(32, taskCount - i) }, (_, k) =>
        rest<{ task: { id: string } }>(url, 'POST', `/v1/workspaces/${wid}/tasks`, reg.workspaceToken, { title: `bench ${i + k}`, prompt: 'benchmark task' }),
      ),
    );
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
  await Promise.all(
    Array.from({ length: sockets }, async (_, si) => {
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
          ws.send(
            `{"type":"req","id":"${n}","method":"task.update","idempotencyKey":"${randomUUID()}","params":{"taskId":"${taskId}","status":"running","note":"progress ${n}","progress":0.5}}`,
          );
        }
        if (inFlight === 0 && Date.now() >= deadline) finish();
      };
      pump();
      await finished;
      ws.close();
    }),
  );
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
async function restUpdates(
  s: Session,
  seconds: number,
  concurrency = 32,
): Promise<{ updates: number; perSec: number; p50Ms: number; p99Ms: number; non2xx: number }> {
  const r = await autocannon({
    url: `${s.url}/v1/workspaces/${s.wid}/tasks/${s.tasks[0]}/status`,
    connections: concurrency,
    duration: seconds,
    method: 'POST',
    idReplacement: true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.workspaceToken}`, 'idempotency-key': 'bench-[<id>]' },
    body: JSON.stringify({ status: 'running', note: 'rest' }),
  });
  return { updates: r.requests.total, perSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx + r.errors };
}

const now = (): number => performance.timeOrigin + performance.now(); // comparable across threads

interface ReceiverResult {
  latencies: number[];
  worst: Array<[number, number]>;
}

/**
 * A receiver thread: `sockets` clients; each `fan <i> <sentAtMs>` event yields one latency sample.
 * Posts 'ready' once every socket completed its hello, and its results when all events arrived (or on 'flush').
 */
function receiver(): void {
  const { wsUrl, token, sockets, events } = workerData as { wsUrl: string; token: string; sockets: number; events: number };
  const port = parentPort;
  if (!port) return;
  const latencies: number[] = [];
  const worst = new Map<number, number>();
  const marker = Buffer.from('"note":"fan ');
  const socks: WebSocket[] = [];
  let resumed = 0;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    port.postMessage({ latencies, worst: [...worst] } satisfies ReceiverResult);
    for (const w of socks) w.close();
  };
  const onMessage = (d: Buffer) => {
    if (d[9] === 0x72 && d.subarray(0, 16).toString() === '{"type":"resumed') {
      if (++resumed === sockets) port.postMessage('ready');
      return;
    }
    if (d[9] !== 0x65) return; // {"type":"event"
    const at = d.indexOf(marker);
    if (at < 0) return;
    const [i, sent] = d
      .subarray(at + marker.length, d.indexOf(0x22, at + marker.length))
      .toString()
      .split(' ')
      .map(Number);
    const ms = now() - sent;
    latencies.push(ms);
    worst.set(i, Math.max(worst.get(i) ?? 0, ms));
    if (latencies.length === sockets * events) report();
  };
  port.on('message', (m) => m === 'flush' && report());
  void (async () => {
    for (let c = 0; c < sockets; c += 25)
      socks.push(...(await Promise.all(Array.from({ length: Math.min(25, sockets - c) }, () => openSocket(wsUrl, token, onMessage)))));
  })();
}

interface FanoutTarget {
  wsUrl: string;
  /** The publisher's token (a daemon session) and the receivers' (a user session). */
  publisherToken: string;
  receiverToken: string;
  taskId: string;
  /** The serving process, for its CPU time. */
  pid: number | undefined;
}

interface FanoutRun {
  latencies: number[];
  worst: Map<number, number>;
  events: number;
  cpuSeconds: number;
}

/** One fan-out run: `clients` sockets spread over receiver threads (so the harness is not the bottleneck), `events` updates at FANOUT_HZ. */
async function fanoutRun(t: FanoutTarget, clients: number, events: number): Promise<FanoutRun> {
  const threads = Math.max(1, Math.min(Number(process.env.SERVER_BENCH_RECEIVER_THREADS ?? 2), clients));
  const workers = Array.from(
    { length: threads },
    (_, k) =>
      new Worker(__filename, {
        workerData: {
          role: 'fanout-receiver',
          wsUrl: t.wsUrl,
          token: t.receiverToken,
          events,
          sockets: Math.floor(clients / threads) + (k < clients % threads ? 1 : 0),
        },
      }),
  );
  const results = workers.map((w) => new Promise<ReceiverResult>((resolve) => w.on('message', (m) => m !== 'ready' && resolve(m as ReceiverResult))));
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.on('message', (m) => m === 'ready' && resolve()))));
  const publisher = await openSocket(t.wsUrl, t.publisherToken, () => undefined);
  const cpu0 = cpuSeconds(t.pid);
  for (let i = 0; i < events; i++) {
    publisher.send(
      JSON.stringify({
        type: 'req',
        id: `f${i}`,
        method: 'task.update',
        idempotencyKey: randomUUID(),
        params: { taskId: t.taskId, status: 'running', note: `fan ${i} ${now()}` },
      }),
    );
    await new Promise((r) => setTimeout(r, 1000 / FANOUT_HZ));
  }
  const flush = setTimeout(() => workers.forEach((w) => w.postMessage('flush')), 10_000);
  const all = await Promise.all(results);
  const cpu = cpuSeconds(t.pid) - cpu0;
  clearTimeout(flush);
  publisher.close();
  await Promise.all(workers.map((w) => w.terminate()));
  const worst = new Map<number, number>();
  for (const r of all) for (const [i, ms] of r.worst) worst.set(i, Math.max(worst.get(i) ?? 0, ms));
  return { latencies: all.flatMap((r) => r.latencies), worst, events, cpuSeconds: cpu };
}

interface FanoutSummary {
  clients: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  missing: number;
  eventsOver50Ms: number;
  /** CPU time (user + system) of the serving process per delivered event, and per update. */
  cpuUsPerDelivery: number;
  cpuMsPerEvent: number;
}

function summarise(runs: FanoutRun[], clients: number): FanoutSummary {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const events = runs.reduce((n, r) => n + r.events, 0);
  const cpu = runs.reduce((n, r) => n + r.cpuSeconds, 0);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
  return {
    clients,
    samples: latencies.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: q(1),
    missing: clients * events - latencies.length,
    eventsOver50Ms: runs.reduce((n, r) => n + [...r.worst.values()].filter((ms) => ms > 50).length, 0),
    cpuUsPerDelivery: Math.round((cpu * 1e7) / Math.max(1, latencies.length)) / 10,
    cpuMsPerEvent: Math.round((cpu * 1e5) / Math.max(1, events)) / 100,
  };
}

/**
 * Fan-out, against its floor in the same run: rounds alternate between the workspace server and a bare
 * ws broadcast server (bench/fanoutFloor.ts: no storage, no fsync) with the same receivers, rate and
 * frame size, so both see the same machine load. Prints one line per variant and one comparison line.
 */
async function fanoutPhase(s: Session, serverPid: number | undefined): Promise<FanoutSummary> {
  const floor = await startFloor();
  const ours: FanoutRun[] = [];
  const base: FanoutRun[] = [];
  const events = Math.round(FANOUT_HZ * SECONDS);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      base.push(
        await fanoutRun({ wsUrl: floor.wsUrl, publisherToken: 'floor', receiverToken: 'floor', taskId: 'floor', pid: floor.child.pid }, CLIENTS, events),
      );
      ours.push(
        await fanoutRun({ wsUrl: s.wsUrl, publisherToken: s.daemonToken, receiverToken: s.userToken, taskId: s.tasks[0], pid: serverPid }, CLIENTS, events),
      );
    }
  } finally {
    await stopServer(floor.child);
  }
  const a = summarise(ours, CLIENTS);
  const b = summarise(base, CLIENTS);
  const common = { sync: SYNC, eventsPerSec: FANOUT_HZ, rounds: ROUNDS, loadavg: Math.round(os.loadavg()[0] * 100) / 100 };
  console.log(JSON.stringify({ phase: 'fanout', variant: 'server', ...a, ...common }));
  console.log(JSON.stringify({ phase: 'fanout', variant: 'floor (bare ws broadcast, no storage)', ...b, ...common }));
  console.log(
    JSON.stringify({
      phase: 'fanout-vs-floor',
      p50OverFloorMs: Math.round((a.p50 - b.p50) * 100) / 100,
      p99OverFloorMs: Math.round((a.p99 - b.p99) * 100) / 100,
      cpuPerDeliveryVsFloor: Math.round((a.cpuUsPerDelivery / Math.max(0.1, b.cpuUsPerDelivery)) * 100) / 100,
    }),
  );
  return a;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-bench-'));
  const email = 'bench@example.test';
  const password = `pw-${randomUUID()}`;
  const admin = new Admin(dataDir);
  await admin.createUser(email, 'Bench', password);
  const wid = (await admin.createWorkspace('bench', 'Bench', email)).id;
  await admin.close();
  try {
    let srv = await startServer(dataDir, 'batched');
    const s = await prepare(srv.url, srv.wsUrl, email, password, wid, 256);
    const cpuUs = (before: number, n: number) => Math.round(((cpuSeconds(srv.child.pid) - before) * 1e6) / Math.max(1, n));
    let wss = { perSec: -1 };
    let viaRest = { perSec: -1 };
    let fan = { clients: CLIENTS, p50: -1, p99: -1, max: -1, missing: -1, cpuUsPerDelivery: -1 };
    let baseline = { perSec: -1 };
    if (PHASES.has('wss')) {
      await wssUpdates(s, 1); // warm-up
      const cpu0 = cpuSeconds(srv.child.pid);
      const r = await wssUpdates(s, SECONDS);
      console.log(
        JSON.stringify({ phase: 'wss-updates', commit: 'batched', sync: SYNC, ...r, serverCpuUsPerUpdate: cpuUs(cpu0, r.updates), loadavg: os.loadavg()[0] }),
      );
      wss = r;
    }
    if (PHASES.has('rest')) {
      const cpu0 = cpuSeconds(srv.child.pid);
      const r = await restUpdates(s, Math.min(3, SECONDS));
      console.log(JSON.stringify({ phase: 'rest-updates', commit: 'batched', sync: SYNC, ...r, serverCpuUsPerUpdate: cpuUs(cpu0, r.updates) }));
      viaRest = r;
    }
    if (PHASES.has('fanout')) {
      fan = await fanoutPhase(s, srv.child.pid);
    }
    const rssMB = peakRssMB(srv.child.pid);
    await stopServer(srv.child);
    if (PHASES.has('baseline')) {
      srv = await startServer(dataDir, 'per-op');
      const cpuB = cpuSeconds(srv.child.pid);
      const r = await wssUpdates({ ...s, url: srv.url, wsUrl: srv.wsUrl }, Math.min(3, SECONDS));
      console.log(JSON.stringify({ phase: 'wss-updates', commit: 'per-op (baseline)', sync: SYNC, ...r, serverCpuUsPerUpdate: cpuUs(cpuB, r.updates) }));
      baseline = r;
      await stopServer(srv.child);
    }
    console.log(
      JSON.stringify({
        speedupVsPerOpCommit: Math.round((wss.perSec / Math.max(1, baseline.perSec)) * 10) / 10,
        restUpdatesPerSec: viaRest.perSec,
        fanoutMaxMs: fan.max,
        fanoutMissing: fan.missing,
        serverPeakRssMB: rssMB,
      }),
    );
    console.log(
      JSON.stringify({
        updatesPerSec: wss.perSec,
        fanoutClients: fan.clients,
        fanoutP50Ms: fan.p50,
        fanoutP99Ms: fan.p99,
        fanoutCpuUsPerDelivery: fan.cpuUsPerDelivery,
        rssMB,
      }),
    );
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if ((workerData as { role?: string }).role === 'fanout-receiver') {
  receiver();
}
