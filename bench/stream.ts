/**
 * `npm run bench -- stream [--deltas 20000] [--rounds 7] [--paced 2000]`
 *
 * Streams deltas from the local provider server (a child process, so it does not share our event
 * loop) in OpenAI's Chat Completions format through three clients:
 *   ours — createProviderClient('openai') over NetService (fetch, SSE parser, zod, retry, watchdog)
 *   raw  — undici request() + the same SSE parser + JSON.parse (the floor: no validation, no iterators)
 *   sdk  — the official `openai` SDK (v6) streaming iterator
 * Throughput: `--deltas` deltas as fast as the socket takes them. Latency: `--paced` deltas at a few
 * per millisecond (no backlog), each carrying its send time (performance.timeOrigin + now); every
 * client records receive − send. Rounds rotate the client order; medians are reported.
 * The last line is one JSON object: oursPerSec, rawPerSec, sdkPerSec, ratioVsRaw, ratioVsSdk,
 * addedP50Ms, addedP99Ms (added latency per delta = ours − raw percentiles).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { OpenAI } from 'openai';
import { Agent, request } from 'undici';
import { MemorySink, RedactingLogger } from '../src/gateway/log/logger';
import { Redactor } from '../src/gateway/log/redact';
import { NetService } from '../src/gateway/net/net';
import { createProviderClient } from '../src/gateway/providers/index';
import { SseParser } from '../src/gateway/providers/sse';

type ClientName = 'ours' | 'raw' | 'sdk';

interface RunResult {
  deltas: number;
  ms: number;
  /** CPU time (user + system) this process spent on the run. */
  cpuMs: number;
  latencies: Float64Array;
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const DELTAS = arg('deltas', 20_000);
const ROUNDS = arg('rounds', 7);
const PACED = arg('paced', 2_000);
const PER_TICK = arg('per-tick', 2);
const KEY = 'sk-test-openai-fixture-0000000000000000';
const MODEL = 'gpt-4o-mini';

const now = (): number => performance.timeOrigin + performance.now();

async function startServer(): Promise<{ child: ChildProcess; baseUrl: string }> {
  const main = path.join(__dirname, '..', 'test', 'fixtures', 'providerServerMain.js');
  const child = spawn(process.execPath, [main, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`provider server exited with ${code}`)));
  });
  lines.close();
  const info = JSON.parse(first) as { baseUrls: { openai: string } };
  return { child, baseUrl: info.baseUrls.openai };
}

function body(scenario: string): string {
  return JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: `#scenario:${scenario}` }],
    stream: true,
    stream_options: { include_usage: true },
  });
}

/** What every client does per delta: read the send time and record the latency. */
function recorder(capacity: number): { add(text: string): void; result(ms: number): RunResult } {
  const latencies = new Float64Array(capacity);
  const cpu0 = process.cpuUsage();
  let n = 0;
  return {
    add(text: string) {
      const sent = Number(text);
      if (n < capacity) latencies[n] = now() - sent;
      n++;
    },
    result: (ms) => {
      const cpu = process.cpuUsage(cpu0);
      return { deltas: n, ms, cpuMs: (cpu.user + cpu.system) / 1000, latencies: latencies.subarray(0, Math.min(n, capacity)) };
    },
  };
}

function makeClients(baseUrl: string): Record<ClientName, (scenario: string, expected: number) => Promise<RunResult>> {
  const net = new NetService();
  const logger = new RedactingLogger(new MemorySink(), new Redactor(), '', () => 'info');
  const ours = createProviderClient('openai', { baseUrl, apiKey: KEY }, { net, logger });
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const sdk = new OpenAI({ apiKey: KEY, baseURL: baseUrl, maxRetries: 0 });

  return {
    async ours(scenario, expected) {
      const rec = recorder(expected);
      const t0 = performance.now();
      for await (const ev of ours.stream({ model: MODEL, messages: [{ role: 'user', content: `#scenario:${scenario}` }] })) {
        if (ev.type === 'delta') rec.add(ev.text);
      }
      return rec.result(performance.now() - t0);
    },
    async raw(scenario, expected) {
      const rec = recorder(expected);
      const t0 = performance.now();
      const res = await request(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: body(scenario),
        dispatcher: agent,
      });
      const parser = new SseParser();
      read: for await (const chunk of res.body) {
        parser.push(chunk as Uint8Array);
        for (let e = parser.next(); e !== undefined; e = parser.next()) {
          if (e.data === '[DONE]') break read;
          const j = JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: string | null } }> };
          const text = j.choices?.[0]?.delta?.content;
          if (text) rec.add(text);
        }
      }
      return rec.result(performance.now() - t0);
    },
    async sdk(scenario, expected) {
      const rec = recorder(expected);
      const t0 = performance.now();
      const stream = await sdk.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: `#scenario:${scenario}` }],
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content;
        if (text) rec.add(text);
      }
      return rec.result(performance.now() - t0);
    },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  const { child, baseUrl } = await startServer();
  try {
    const clients = makeClients(baseUrl);
    const order: ClientName[] = ['raw', 'ours', 'sdk'];
    const perSec: Record<ClientName, number[]> = { ours: [], raw: [], sdk: [] };
    const perCpuSec: Record<ClientName, number[]> = { ours: [], raw: [], sdk: [] };
    const p50: Record<ClientName, number[]> = { ours: [], raw: [], sdk: [] };
    const p99: Record<ClientName, number[]> = { ours: [], raw: [], sdk: [] };

    // Warm-up (JIT, connections), not counted.
    for (const name of order) {
      await clients[name](`bench:${Math.min(DELTAS, 5_000)}`, DELTAS);
      await clients[name](`bench:200:${PER_TICK}`, 200);
    }

    for (let round = 0; round < ROUNDS; round++) {
      const rotated = order.map((_, i) => order[(i + round) % order.length]!);
      const line: Record<string, unknown> = { phase: 'round', round: round + 1 };
      for (const name of rotated) {
        const t = await clients[name](`bench:${DELTAS}`, DELTAS);
        if (t.deltas !== DELTAS) throw new Error(`${name} received ${t.deltas} of ${DELTAS} deltas`);
        const rate = (t.deltas / t.ms) * 1000;
        perSec[name].push(rate);
        perCpuSec[name].push((t.deltas / t.cpuMs) * 1000);

        const l = await clients[name](`bench:${PACED}:${PER_TICK}`, PACED);
        if (l.deltas !== PACED) throw new Error(`${name} received ${l.deltas} of ${PACED} paced deltas`);
        const sorted = Float64Array.from(l.latencies).sort();
        p50[name].push(percentile(sorted, 50));
        p99[name].push(percentile(sorted, 99));
        line[name] = {
          perSec: Math.round(rate),
          perCpuSec: Math.round((t.deltas / t.cpuMs) * 1000),
          p50Ms: round3(percentile(sorted, 50)),
          p99Ms: round3(percentile(sorted, 99)),
        };
      }
      console.log(JSON.stringify(line));
    }

    const med = (r: Record<ClientName, number[]>, n: ClientName): number => median(r[n]);
    const summary = {
      oursPerSec: Math.round(med(perSec, 'ours')),
      rawPerSec: Math.round(med(perSec, 'raw')),
      sdkPerSec: Math.round(med(perSec, 'sdk')),
      ratioVsRaw: round3(med(perSec, 'ours') / med(perSec, 'raw')),
      ratioVsSdk: round3(med(perSec, 'ours') / med(perSec, 'sdk')),
      addedP50Ms: round3(med(p50, 'ours') - med(p50, 'raw')),
      addedP99Ms: round3(med(p99, 'ours') - med(p99, 'raw')),
    };
    console.log(
      JSON.stringify({
        phase: 'detail',
        deltas: DELTAS,
        paced: PACED,
        perTick: PER_TICK,
        rounds: ROUNDS,
        perCpuSec: Object.fromEntries((['raw', 'ours', 'sdk'] as const).map((n) => [n, Math.round(med(perCpuSec, n))])),
        cpuRatioVsRaw: round3(med(perCpuSec, 'ours') / med(perCpuSec, 'raw')),
        cpuRatioVsSdk: round3(med(perCpuSec, 'ours') / med(perCpuSec, 'sdk')),
        latencyMs: Object.fromEntries((['raw', 'ours', 'sdk'] as const).map((n) => [n, { p50: round3(med(p50, n)), p99: round3(med(p99, n)) }])),
      }),
    );
    console.log(JSON.stringify(summary));
  } finally {
    child.kill('SIGTERM');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
