/**
 * `npm run bench -- local-api [--seconds 3] [--rounds 3] [--connections 10]`
 *
 * Authenticated `GET /v1/status` on the headless gateway (dist/cli.js gateway, a child process with
 * its own event loop) under autocannon, against a baseline measured in the same run: a bare
 * node:http server (also a child process) answering the same JSON body, to the same headers, with no
 * guard at all. Each target gets a 1 s warm-up; then rounds alternate baseline and local API (this
 * machine is shared, so load drifts) and the medians are reported. Prints one JSON line per run; the
 * last line is {reqPerSec, p50Ms, p99Ms, baselineReqPerSec, baselineP50Ms, baselineP99Ms, ratioVsBaseline, cpuUsPerReq,
 * baselineCpuUsPerReq, cpuRatioVsBaseline, errors, non2xx}; the CPU figures are each server process's
 * user + system time (from /proc) per request.
 * Goal: ≥ 10,000 req/s and p99 ≤ 5 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;

const root = path.resolve(__dirname, '..', '..');
const autocannon = createRequire(__filename)('autocannon') as Autocannon;
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 3);
const ROUNDS = arg('rounds', 3);
const CONNECTIONS = arg('connections', 10);

/** Spawns a child and resolves with it and its first stdout line. */
function spawnWithLine(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve({ child, line }));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before printing a line`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const BASELINE = `
const http = require('node:http');
const body = process.env.BODY;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** The server process's user + system CPU in µs, from /proc (clock ticks; Linux only, else undefined). */
function cpuUs(pid: number | undefined): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime; USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

interface Measured extends AutocannonResult {
  /** Server CPU per request in µs (undefined off Linux). */
  cpuUsPerReq?: number;
}

async function measure(name: string, url: string, headers: Record<string, string>, round: number, pid?: number): Promise<Measured> {
  const before = cpuUs(pid);
  const r: Measured = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1, headers });
  const after = cpuUs(pid);
  if (before !== undefined && after !== undefined && r.requests.total > 0) r.cpuUsPerReq = Number(((after - before) / r.requests.total).toFixed(2));
  process.stdout.write(
    JSON.stringify({
      target: name,
      round,
      reqPerSec: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      total: r.requests.total,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      cpuUsPerReq: r.cpuUsPerReq,
    }) + '\n',
  );
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const cli = path.join(root, 'dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run node esbuild.js');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-api-'));
  const children: ChildProcess[] = [];
  try {
    const gw = await spawnWithLine([cli, 'gateway'], {
      PATH: process.env.PATH,
      HOME: home,
      MULTICLAW_HOME: home,
      MULTICLAW_GATEWAY_PORT: '0',
      MULTICLAW_LOG_LEVEL: 'warn',
      MULTICLAW_OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    children.push(gw.child);
    const { port, discoveryFile } = JSON.parse(gw.line) as { port: number; discoveryFile: string };
    const { token } = JSON.parse(fs.readFileSync(discoveryFile, 'utf8')) as { token: string };
    const url = `http://127.0.0.1:${port}/v1/status`;
    const headers = { authorization: `Bearer ${token}` };
    const sample = await fetch(url, { headers });
    if (sample.status !== 200) throw new Error(`GET /v1/status answered ${sample.status}`);
    const body = await sample.text();

    const base = await spawnWithLine(['-e', BASELINE], { PATH: process.env.PATH, BODY: body });
    children.push(base.child);
    const basePort = (JSON.parse(base.line) as { port: number }).port;

    const baseUrl = `http://127.0.0.1:${basePort}/v1/status`;
    for (const [u, h] of [
      [baseUrl, headers],
      [url, headers],
    ] as const)
      await autocannon({ url: u, connections: CONNECTIONS, duration: 1, pipelining: 1, headers: h });
    const b: Measured[] = [];
    const r: Measured[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // The baseline gets the same Authorization header, so header parsing costs both the same.
      b.push(await measure('baseline (bare node:http, same body and headers)', baseUrl, headers, round, base.child.pid));
      r.push(await measure('local API (Host/Origin guard, token check, route, live status)', url, headers, round, gw.child.pid));
    }
    const m = (xs: Measured[], f: (x: Measured) => number): number => median(xs.map(f));
    const cpu = (xs: Measured[]): number | undefined => (xs.every((x) => x.cpuUsPerReq !== undefined) ? m(xs, (x) => x.cpuUsPerReq ?? 0) : undefined);
    const cpuUsPerReq = cpu(r);
    const baselineCpuUsPerReq = cpu(b);
    const reqPerSec = Math.round(m(r, (x) => x.requests.average));
    const baselineReqPerSec = Math.round(m(b, (x) => x.requests.average));
    process.stdout.write(
      JSON.stringify({
        reqPerSec,
        p50Ms: m(r, (x) => x.latency.p50),
        p99Ms: m(r, (x) => x.latency.p99),
        baselineReqPerSec,
        baselineP50Ms: m(b, (x) => x.latency.p50),
        baselineP99Ms: m(b, (x) => x.latency.p99),
        ratioVsBaseline: Number((reqPerSec / baselineReqPerSec).toFixed(3)),
        cpuUsPerReq,
        baselineCpuUsPerReq,
        // Baseline CPU ÷ ours: 1 means our guard, auth and routing cost nothing per request.
        cpuRatioVsBaseline: cpuUsPerReq && baselineCpuUsPerReq ? Number((baselineCpuUsPerReq / cpuUsPerReq).toFixed(3)) : undefined,
        errors: r.reduce((n, x) => n + x.errors + x.timeouts, 0),
        non2xx: r.reduce((n, x) => n + x.non2xx, 0),
        connections: CONNECTIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        loadAvg1m: Number(os.loadavg()[0].toFixed(2)),
        cpus: os.cpus().length,
      }) + '\n',
    );
  } finally {
    for (const c of children) await stop(c);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
