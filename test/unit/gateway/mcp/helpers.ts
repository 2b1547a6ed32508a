/** Building blocks of the MCP tests: a manager on real parts (temp storage, product logger, a NetService) and the fixture servers' configs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { McpManager, type McpManagerOptions } from '../../../../src/gateway/mcp/mcpManager';
import { MCP_DEFAULTS, type McpServerConfig, type McpSettings } from '../../../../src/gateway/mcp/mcpConfig';
import { NetService } from '../../../../src/gateway/net/net';
import { MemoryLogger } from '../../../support/logger';
import { MapSecrets } from '../../../support/secrets';

/** The compiled stdio fixture (out/test/fixtures/mcp/stdioServer.js). */
export const STDIO_SERVER = path.resolve(__dirname, '../../../fixtures/mcp/stdioServer.js');

/** A package's installed entry point (the reference servers run with process.execPath, never npx). */
export function packageBin(pkg: string): string {
  const dir = path.dirname(require.resolve(`${pkg}/package.json`));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  const bin = typeof json.bin === 'string' ? json.bin : Object.values(json.bin)[0]!;
  return path.join(dir, bin);
}

export function stdioServer(name: string, mode = 'tools', extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { name, enabled: true, transport: 'stdio', command: process.execPath, args: [STDIO_SERVER, mode], ...extra };
}

export interface Harness {
  manager: McpManager;
  logger: MemoryLogger;
  secrets: MapSecrets;
  net: NetService;
  storageDir: string;
  consentAsked: string[];
  /** A second manager on the same storage (the next gateway run). */
  again(servers?: McpServerConfig[]): Promise<McpManager>;
  dispose(): Promise<void>;
}

export async function harness(
  servers: McpServerConfig[],
  options: { settings?: Partial<McpSettings>; consent?: boolean; net?: NetService; storageDir?: string; extra?: Partial<McpManagerOptions> } = {},
): Promise<Harness> {
  const storageDir = options.storageDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mc-mcp-'));
  const logger = new MemoryLogger();
  const secrets = new MapSecrets();
  const net = options.net ?? new NetService({ logger });
  const consentAsked: string[] = [];
  const managers: McpManager[] = [];
  const make = async (list: McpServerConfig[]): Promise<McpManager> => {
    const m = new McpManager({
      settings: { ...MCP_DEFAULTS, ...options.settings, servers: list },
      storageDir,
      logger,
      secrets,
      redactor: logger.redactor,
      net,
      askConsent: async (c) => {
        consentAsked.push(c.name);
        return options.consent ?? true;
      },
      ...options.extra,
    });
    await m.load();
    managers.push(m);
    return m;
  };
  const manager = await make(servers);
  return {
    manager,
    logger,
    secrets,
    net,
    storageDir,
    consentAsked,
    again: (list = servers) => make(list),
    dispose: async () => {
      for (const m of managers) await m.shutdown();
      for (const m of managers) m.dispose();
      if (!options.net) net.dispose();
      if (!options.storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

/** Live child processes of this test process whose command line contains `marker`. */
export function childProcessesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
