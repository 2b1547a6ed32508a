/**
 * cloud-scale: the workspace server on SQLite (one node) and on PostgreSQL with 1, 2 and 3 nodes, in
 * one run. Per configuration: durable task updates per second (pipelined `task.update` over WSS, one
 * writer socket per node, every update acknowledged after COMMIT), and cross-node delivery latency
 * (updates sent on the first node at a steady rate, their `task.updated` events timed on the last).
 * On 2 cores more nodes add no capacity (they share the CPUs with Postgres and the load generator):
 * the run shows the cost of scaling out and proves it works, it promises no speed-up.
 * Prints one JSON line per configuration; the last line is
 * {sqliteUpdatesPerSec, pgUpdatesPerSec, nodes, crossNodeP50Ms, crossNodeP99Ms}.
 * Usage: npm run bench -- cloud-scale [--seconds 4] [--nodes 3] [--rate 50]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Admin } from '../src/server/admin';
import { startCluster } from '../test/support/cluster';
import { startPostgres } from '../test/support/postgres';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    nodes: { type: 'string', default: '3' },
    rate: { type: 'string', default: '50' },
  },
});
const SECONDS = Number(values.seconds);
const MAX_NODES = Number(values.nodes);
const RATE = Number(values.rate);
const CHEAP = { log2N: 10, r: 8, p: 1 };
const SERVER_MAIN = path.resolve(__dirname, '..', '..', 'dist', 'server.js');

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
    ws.on('message', (d: Buffer) => {
      if (d.includes('"type":"resumed"')) resolve();
      onMessage(d);
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: { name: 'bench', version: '1' } })));
  });
  return ws;
}

interface Session {
  wid: string;
  daemonToken: string;
  tasks: string[];
}

async function prepare(url: string, wid: string, taskCount: number): Promise<Session> {
  const login = await rest<{ session: { token: string } }>(url, 'POST', '/v1/auth/login', undefined, {
    email: 'bench@scale.test',
    password: 'bench-password-1',
  });
  const reg = await rest<{ workspaceToken: string }>(url, 'POST', `/v1/workspaces/${wid}/instances`, login.session.token, {
    name: 'bench',
    platform: os.platform(),
    version: '1',
    kind: 'gateway',
  });
  const daemon = await rest<{ token: string }>(url, 'POST', '/v1/session-tokens', reg.workspaceToken, { scope: 'daemon' });
  const tasks: string[] = [];
  for (let i = 0; i < taskCount; i += 32) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(32, taskCount - i) }, (_, k) =>
        rest<{ task: { id: string } }>(url, 'POST', `/v1/workspaces/${wid}/tasks`, reg.workspaceToken, { title: `bench ${i + k}`, prompt: 'p' }),
      ),
    );
    tasks.push(...batch.map((b) => b.task.id));
  }
  return { wid, daemonToken: daemon.token, tasks };
}

/** Pipelined task.update (window 256) on one socket per node for `seconds`. */
async function updates(wsUrls: string[], s: Session, seconds: number): Promise<number> {
  let done = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    wsUrls.map(async (wsUrl, si) => {
      const mine = s.tasks.filter((_t, i) => i % wsUrls.length === si);
      let inFlight = 0;
      let n = 0;
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((r) => (finish = r));
      const ref: { ws?: WebSocket } = {};
      const pump = () => {
        const ws = ref.ws;
        while (ws && inFlight < 256 && Date.now() < deadline) {
          inFlight++;
          ws.send(
            `{"type":"req","id":"${++n}","method":"task.update","idempotencyKey":"${randomUUID()}","params":{"taskId":"${mine[n % mine.length]}","status":"running","note":"u"}}`,
          );
        }
        if (inFlight === 0 && Date.now() >= deadline) finish();
      };
      const ws = await openSocket(wsUrl, s.daemonToken, (d) => {
        if (!d.subarray(0, 16).toString().startsWith('{"type":"res"')) return;
        inFlight--;
        if (d.includes('"ok":true')) done++;
        pump();
      });
      ref.ws = ws;
      pump();
      await finished;
      ws.close();
    }),
  );
  return Math.round(done / ((Date.now() - started) / 1000));
}

/** Updates sent on `from` at `RATE`/s; each one's event timed on `to`. */
async function crossNode(fromWs: string, toWs: string, s: Session, seconds: number): Promise<{ p50: number; p99: number; samples: number }> {
  const latencies: number[] = [];
  const listener = await openSocket(toWs, s.daemonToken, (d) => {
    const m = /"note":\{[^}]*"note":"x(\d+)"/.exec(d.toString());
    if (m) latencies.push(Date.now() - Number(m[1]));
  });
  const writer = await openSocket(fromWs, s.daemonToken, () => undefined);
  const total = Math.max(1, Math.round(RATE * seconds));
  for (let i = 0; i < total; i++) {
    writer.send(
      `{"type":"req","id":"c${i}","method":"task.update","idempotencyKey":"${randomUUID()}","params":{"taskId":"${s.tasks[i % s.tasks.length]}","status":"running","note":"x${Date.now()}"}}`,
    );
    await new Promise((r) => setTimeout(r, 1000 / RATE));
  }
  const waitUntil = Date.now() + 10_000;
  while (latencies.length < total && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
  writer.close();
  listener.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? -1;
  return { p50: at(0.5), p99: at(0.99), samples: latencies.length };
}

function startSqliteNode(dataDir: string): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const child = spawn(process.execPath, [SERVER_MAIN, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--ws-frames-per-second', '100000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`server exited (${c})`)));
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:[^"]+)"/.exec(buf);
      if (m) resolve({ child, url: m[1], wsUrl: `${m[1].replace(/^http/, 'ws')}/v1/ws` });
    });
  });
}

async function seed(admin: Admin): Promise<string> {
  await admin.createUser('bench@scale.test', 'Bench', 'bench-password-1');
  const wid = (await admin.createWorkspace('bench', 'Bench', 'bench@scale.test')).id;
  await admin.close();
  return wid;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-scale-'));
  const out: Record<string, unknown> = {};
  try {
    // SQLite, one node (the embedded default).
    const dir = path.join(tmp, 'sqlite');
    const wid = await seed(new Admin(dir, undefined, CHEAP));
    const node = await startSqliteNode(dir);
    try {
      const s = await prepare(node.url, wid, 256);
      const perSec = await updates([node.wsUrl], s, SECONDS);
      console.log(JSON.stringify({ engine: 'sqlite', nodes: 1, updatesPerSec: perSec }));
      out.sqliteUpdatesPerSec = perSec;
    } finally {
      node.child.kill('SIGTERM');
    }
    // PostgreSQL, 1..N nodes on one database each time.
    const pg = await startPostgres();
    try {
      for (let n = 1; n <= MAX_NODES; n++) {
        const url = await pg.createDatabase(`bench${n}`);
        const wid2 = await seed(await Admin.openPostgres(path.join(tmp, `pg${n}`), url, CHEAP));
        const cluster = await startCluster(url, n, 15_000, 100_000);
        try {
          const s = await prepare(cluster.nodes[0].url, wid2, 256);
          const perSec = await updates(
            cluster.nodes.map((x) => x.wsUrl),
            s,
            SECONDS,
          );
          const lat = await crossNode(cluster.nodes[0].wsUrl, cluster.nodes[n - 1].wsUrl, s, Math.min(SECONDS, 4));
          console.log(
            JSON.stringify({ engine: 'postgres', nodes: n, updatesPerSec: perSec, crossNodeP50Ms: lat.p50, crossNodeP99Ms: lat.p99, samples: lat.samples }),
          );
          if (n === 1) out.pgUpdatesPerSec = perSec;
          out.nodes = n;
          out.crossNodeP50Ms = lat.p50;
          out.crossNodeP99Ms = lat.p99;
          out[`pgUpdatesPerSec${n}Nodes`] = perSec;
        } finally {
          await cluster.close();
        }
      }
    } finally {
      await pg.stop();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      sqliteUpdatesPerSec: out.sqliteUpdatesPerSec,
      pgUpdatesPerSec: out.pgUpdatesPerSec,
      nodes: out.nodes,
      crossNodeP50Ms: out.crossNodeP50Ms,
      crossNodeP99Ms: out.crossNodeP99Ms,
      ...Object.fromEntries(Object.entries(out).filter(([k]) => /Nodes$/.test(k))),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
