/**
 * `npm run bench -- agent-loop [--trips 200]`
 *
 * The agent loop's own cost per tool round trip. A real gateway (NodeWorkspace over a temp folder,
 * conversations on disk) runs one chat turn against the provider fixture's SCRIPTED mode: `--trips`
 * responses that each call read_file on a small file, then a final text. The same provider streams
 * are then replayed without the loop: the OpenAI client streams the same turns with the same request
 * history, back to back. NetService.fetch is wrapped to mark when each provider request starts and
 * when its response body ends; the gap between a body's end and the next request's start is the
 * client's work between two streams (for the loop: the tool, the policy, the conversation file, the
 * next history). The loop's added time per round trip = its gap − the plain run's median gap.
 * The last line is one JSON object: roundTrips, addedP50Ms, addedP99Ms (goal ≤ 2 / ≤ 10 ms).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyOf } from '../src/gateway/agent/history';
import { NodeWorkspace } from '../src/gateway/agent/nodeWorkspace';
import { BUILTIN_TOOLS, toolDefinition } from '../src/gateway/agent/tools';
import { NetService } from '../src/gateway/net/net';
import { MemorySink, RedactingLogger } from '../src/gateway/log/logger';
import { Redactor } from '../src/gateway/log/redact';
import { createProviderClient } from '../src/gateway/providers/index';
import type { ChatMessage } from '../src/gateway/providers/types';
import { startProviderServer, type ProviderServer, type ScriptedTurn } from '../test/fixtures/providerServer';
import { createTestGateway } from '../test/support/gateway';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TRIPS = arg('trips', 200);

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}
const round = (n: number): number => Math.round(n * 1000) / 1000;

function turns(n: number): ScriptedTurn[] {
  const out: ScriptedTurn[] = [];
  for (let i = 0; i < n; i++) out.push({ toolCalls: [{ name: 'read_file', arguments: { path: 'small.txt' }, id: `call_${i}` }] });
  out.push({ text: 'Read it.' });
  return out;
}

/** Provider request starts and response-body ends, in order (NetService.fetch wrapped once). */
const marks = { starts: [] as number[], ends: [] as number[] };
const fetchOriginal = NetService.prototype.fetch;
type Fetch = typeof fetchOriginal;
NetService.prototype.fetch = async function (this: NetService, url: string | URL, init: Parameters<Fetch>[1], purpose: Parameters<Fetch>[2]) {
  if (!purpose.startsWith('provider:')) return fetchOriginal.call(this, url, init, purpose);
  marks.starts.push(performance.now());
  const res = await fetchOriginal.call(this, url, init, purpose);
  if (!res.body) return res;
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      flush: () => void marks.ends.push(performance.now()),
    }),
  );
  return { status: res.status, headers: res.headers, body } as unknown as Awaited<ReturnType<Fetch>>;
} as Fetch;

function resetMarks(): void {
  marks.starts = [];
  marks.ends = [];
}

/** Per round trip: from the end of response i to the start of request i + 1. */
const gaps = (): number[] => marks.starts.slice(1).map((s, i) => s - (marks.ends[i] ?? s));

async function loopRun(server: ProviderServer, trips: number): Promise<{ gaps: number[]; histories: ChatMessage[][]; cpuMsPerTrip: number }> {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-ws-'));
  fs.writeFileSync(path.join(ws, 'small.txt'), 'export const answer = 42;\n');
  const port = new NodeWorkspace({ folders: [ws] });
  const t = await createTestGateway(server, {
    workspace: port,
    config: (c) => {
      c.agent = { tools: true, maxSteps: trips + 5, commandsAllow: [], commandsDeny: [], fetchAllowedDomains: [], autoApproveEdits: true };
    },
  });
  await t.gateway.keys.set('openai', server.keys.openai);
  server.script(turns(trips));
  resetMarks();
  const cpu0 = process.cpuUsage();
  const { conversation, done } = await t.gateway.chat.send(null, 'default-openai', 'Read small.txt again and again');
  await done;
  const cpu = process.cpuUsage(cpu0);
  const measured = gaps();
  const full = historyOf(conversation);
  // The history request i carried: the user message and i round trips (assistant + tool result).
  const histories = Array.from({ length: trips + 1 }, (_, i) => full.slice(0, 1 + 2 * i));
  await t.close();
  port.dispose();
  fs.rmSync(ws, { recursive: true, force: true });
  server.reset();
  if (conversation.messages.at(-1)?.text !== 'Read it.') throw new Error(`the turn did not finish: ${conversation.messages.at(-1)?.text ?? ''}`);
  return { gaps: measured, histories, cpuMsPerTrip: (cpu.user + cpu.system) / 1000 / (trips + 1) };
}

async function plainRun(server: ProviderServer, histories: ChatMessage[][]): Promise<{ gaps: number[]; cpuMsPerTrip: number }> {
  const net = new NetService({});
  const logger = new RedactingLogger(new MemorySink(), new Redactor(), '', () => 'warn');
  const client = createProviderClient('openai', { baseUrl: server.baseUrls.openai, apiKey: server.keys.openai }, { net, logger });
  const tools = BUILTIN_TOOLS.map(toolDefinition);
  server.script(turns(histories.length - 1));
  resetMarks();
  const cpu0 = process.cpuUsage();
  for (const messages of histories) {
    for await (const ev of client.stream({ model: 'gpt-4.1', messages, tools })) void ev;
  }
  const cpu = process.cpuUsage(cpu0);
  const measured = gaps();
  net.dispose();
  server.reset();
  return { gaps: measured, cpuMsPerTrip: (cpu.user + cpu.system) / 1000 / histories.length };
}

async function main(): Promise<void> {
  const server = await startProviderServer();
  try {
    // Warm-up (JIT, sockets), then the measured runs.
    const warm = await loopRun(server, 20);
    await plainRun(server, warm.histories);
    const loop = await loopRun(server, TRIPS);
    const plainRes = await plainRun(server, loop.histories);
    const plain = plainRes.gaps;
    const base = percentile(plain, 50);
    const added = loop.gaps.map((g) => g - base);
    const result = {
      bench: 'agent-loop',
      roundTrips: loop.gaps.length,
      addedP50Ms: round(percentile(added, 50)),
      addedP99Ms: round(percentile(added, 99)),
      loopP50Ms: round(percentile(loop.gaps, 50)),
      loopP99Ms: round(percentile(loop.gaps, 99)),
      plainP50Ms: round(percentile(plain, 50)),
      plainP99Ms: round(percentile(plain, 99)),
      // CPU time of this process (server included) per round trip: less sensitive to a loaded machine than wall time.
      loopCpuMsPerTrip: round(loop.cpuMsPerTrip),
      plainCpuMsPerTrip: round(plainRes.cpuMsPerTrip),
      goal: { addedP50Ms: 2, addedP99Ms: 10 },
    };
    console.log(JSON.stringify({ loopGapsMs: loop.gaps.slice(0, 10).map(round), plainGapsMs: plain.slice(0, 10).map(round) }));
    console.log(JSON.stringify(result));
  } finally {
    await server.close();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
