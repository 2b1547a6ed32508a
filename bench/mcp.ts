/**
 * `npm run bench -- mcp [--calls 1000]`
 *
 * `callTool` round trips (`echo`, a short text) to the SDK-built test server over stdio (a child
 * process) and over Streamable HTTP (in this process, 127.0.0.1), through our layer (McpManager.call:
 * our client, our stdio transport, NetService for HTTP) and through the SDK used bare (Client +
 * StdioClientTransport / StreamableHTTPClientTransport with Node's fetch), in the same run, ours and
 * bare alternating call by call so machine load and GC hit them alike. `ratioVsBare` = bare p50 / our p50
 * (the worse of the two transports; ≥ 0.9 means our layer costs under 10 %).
 * The last line is one JSON object: {"bench":"mcp", stdioP50Ms, httpP50Ms, ratioVsBare, …}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpManager } from '../src/gateway/mcp/mcpManager';
import { MCP_DEFAULTS, type McpServerConfig } from '../src/gateway/mcp/mcpConfig';
import { NetService } from '../src/gateway/net/net';
import { MemoryLogger } from '../test/support/logger';
import { MapSecrets } from '../test/support/secrets';
import { startMcpHttpServer } from '../test/fixtures/mcp/httpServer';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg('calls', 1000);
const BLOCK = 100;
const WARMUP = 50;
const SERVER = path.resolve(__dirname, '../test/fixtures/mcp/stdioServer.js');

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (n: number, d = 3): number => Math.round(n * 10 ** d) / 10 ** d;

type Call = () => Promise<unknown>;

async function bare(transport: StdioClientTransport | StreamableHTTPClientTransport): Promise<{ call: Call; close(): Promise<void> }> {
  const client = new Client({ name: 'bench-bare', version: '1.0.0' });
  await client.connect(transport);
  return {
    call: async () => {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'ping' } });
      if (r.isError) throw new Error('bare call failed');
    },
    close: () => client.close(),
  };
}

async function main(): Promise<void> {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-mcp-'));
  const logger = new MemoryLogger();
  const net = new NetService({ logger });
  const http = await startMcpHttpServer();
  const servers: McpServerConfig[] = [
    { name: 'stdio', enabled: true, transport: 'stdio', command: process.execPath, args: [SERVER] },
    { name: 'http', enabled: true, transport: 'http', url: http.url },
  ];
  const manager = new McpManager({
    settings: { ...MCP_DEFAULTS, servers },
    storageDir,
    logger,
    secrets: new MapSecrets(),
    redactor: logger.redactor,
    net,
    askConsent: async () => true,
  });
  await manager.load();
  await manager.startEnabled();
  for (const s of manager.states()) if (s.state.status !== 'running') throw new Error(`${s.name}: ${JSON.stringify(s.state)}`);
  const ours =
    (name: string): Call =>
    async () => {
      const r = await manager.call(name, { text: 'ping' });
      if (r.isError) throw new Error(r.content);
    };
  const bareStdio = await bare(new StdioClientTransport({ command: process.execPath, args: [SERVER], stderr: 'pipe' }));
  const bareHttp = await bare(new StreamableHTTPClientTransport(new URL(http.url)));
  const series: Record<string, { call: Call; ms: number[] }> = {
    oursStdio: { call: ours('stdio__echo'), ms: [] },
    bareStdio: { call: bareStdio.call, ms: [] },
    oursHttp: { call: ours('http__echo'), ms: [] },
    bareHttp: { call: bareHttp.call, ms: [] },
  };
  try {
    for (const s of Object.values(series)) for (let i = 0; i < WARMUP; i++) await s.call();
    // Ours and bare alternate call by call (per transport), so GC debt and machine load fall on both alike.
    for (let done = 0; done < CALLS; done += BLOCK) {
      for (const [a, b] of [
        ['oursStdio', 'bareStdio'],
        ['oursHttp', 'bareHttp'],
      ] as const) {
        for (let i = 0; i < Math.min(BLOCK, CALLS - done); i++) {
          for (const k of i % 2 ? [b, a] : [a, b]) {
            const s = series[k]!;
            const t = performance.now();
            await s.call();
            s.ms.push(performance.now() - t);
          }
        }
      }
    }
  } finally {
    await bareStdio.close();
    await bareHttp.close();
    await manager.shutdown();
    manager.dispose();
    net.dispose();
    await http.close();
    fs.rmSync(storageDir, { recursive: true, force: true });
  }
  const p50 = (k: string): number => percentile(series[k]!.ms, 50);
  const p99 = (k: string): number => percentile(series[k]!.ms, 99);
  const stdioRatio = p50('bareStdio') / p50('oursStdio');
  const httpRatio = p50('bareHttp') / p50('oursHttp');
  console.log(JSON.stringify({ calls: CALLS, p99Ms: Object.fromEntries(Object.keys(series).map((k) => [k, round(p99(k))])) }));
  console.log(
    JSON.stringify({
      bench: 'mcp',
      calls: CALLS,
      stdioP50Ms: round(p50('oursStdio')),
      httpP50Ms: round(p50('oursHttp')),
      bareStdioP50Ms: round(p50('bareStdio')),
      bareHttpP50Ms: round(p50('bareHttp')),
      stdioRatio: round(stdioRatio),
      httpRatio: round(httpRatio),
      ratioVsBare: round(Math.min(stdioRatio, httpRatio)),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
