/**
 * `npm run bench -- agent-loop [--trips 200]`
 *
 * The agent loop's own cost per tool round trip. A real gateway (NodeWorkspace over a temp folder,
 * conversations on disk) runs one chat turn against the provider fixture's SCRIPTED mode: `--trips`
 * responses that each call read_file on a small file, then a final text. The same provider streams
 * are then replayed without the loop: the OpenAI client streams the same turns with the same request
 * history, back to back. Each round trip is timed between consecutive request arrivals at the
 * server; the loop's added time is loop − plain, pairwise per round trip (same body size).
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

/** Arrival time of each request at the server, from the first. */
async function arrivals(server: ProviderServer, s: ReturnType<ProviderServer['script']>, count: number): Promise<number[]> {
  void server;
  const t: number[] = [];
  for (let i = 0; i < count; i++) {
    await s.waitForRequest(i);
    t.push(performance.now());
  }
  return t;
}

const gaps = (t: number[]): number[] => t.slice(1).map((x, i) => x - t[i]!);

async function loopRun(server: ProviderServer, trips: number): Promise<{ gaps: number[]; histories: ChatMessage[][] }> {
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
  const s = server.script(turns(trips));
  const times = arrivals(server, s, trips + 1);
  const { conversation, done } = await t.gateway.chat.send(null, 'default-openai', 'Read small.txt again and again');
  const stamps = await times;
  await done;
  const full = historyOf(conversation);
  // The history request i carried: the user message and i round trips (assistant + tool result).
  const histories = Array.from({ length: trips + 1 }, (_, i) => full.slice(0, 1 + 2 * i));
  await t.close();
  port.dispose();
  fs.rmSync(ws, { recursive: true, force: true });
  server.reset();
  return { gaps: gaps(stamps), histories };
}

async function plainRun(server: ProviderServer, histories: ChatMessage[][]): Promise<number[]> {
  const net = new NetService({});
  const logger = new RedactingLogger(new MemorySink(), new Redactor(), '', () => 'warn');
  const client = createProviderClient('openai', { baseUrl: server.baseUrls.openai, apiKey: server.keys.openai }, { net, logger });
  const tools = BUILTIN_TOOLS.map(toolDefinition);
  const s = server.script(turns(histories.length - 1));
  const times = arrivals(server, s, histories.length);
  for (const messages of histories) {
    for await (const ev of client.stream({ model: 'gpt-4.1', messages, tools })) void ev;
  }
  const stamps = await times;
  net.dispose();
  server.reset();
  return gaps(stamps);
}

async function main(): Promise<void> {
  const server = await startProviderServer();
  try {
    // Warm-up (JIT, sockets), then the measured runs.
    const warm = await loopRun(server, 20);
    await plainRun(server, warm.histories);
    const loop = await loopRun(server, TRIPS);
    const plain = await plainRun(server, loop.histories);
    const added = loop.gaps.map((g, i) => g - (plain[i] ?? 0));
    const result = {
      bench: 'agent-loop',
      roundTrips: loop.gaps.length,
      addedP50Ms: round(percentile(added, 50)),
      addedP99Ms: round(percentile(added, 99)),
      loopP50Ms: round(percentile(loop.gaps, 50)),
      loopP99Ms: round(percentile(loop.gaps, 99)),
      plainP50Ms: round(percentile(plain, 50)),
      plainP99Ms: round(percentile(plain, 99)),
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
