/**
 * MCP server configuration: the shape (`multiclaw.mcp.servers` entries and `.vscode/mcp.json`
 * imports), a validating reader, the hash consent is bound to, and `${secret:NAME}` references in env
 * and header values, resolved through the SecretStore and registered with the redactor.
 */
import { createHash } from 'node:crypto';
import type { Redactor } from '../log/redact';
import type { SecretStore } from '../ports';
import type { McpTransportSpec } from './mcpClient';

export interface McpServerConfig {
  /** Unique; the tool prefix (`<name>__<tool>`, sanitised). */
  name: string;
  /** A disabled server is never started or contacted. */
  enabled: boolean;
  transport: 'stdio' | 'http';
  command?: string;
  args?: string[];
  /** Values may be `${secret:NAME}`. */
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  /** Values may be `${secret:NAME}`. */
  headers?: Record<string, string>;
  /** Where it came from: settings, or a workspace's `.vscode/mcp.json` (read-only). */
  source?: 'settings' | 'workspace';
  /** http: skip Streamable HTTP and speak HTTP+SSE (mcp.json `type: "sse"`). */
  sseOnly?: boolean;
}

export interface McpSettings {
  servers: McpServerConfig[];
  /** Each request's timeout (a progress notification resets it). */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** Tools sent to the model at most (the enabled ones, in server order). */
  maxTools: number;
  maxResultChars: number;
}

export const MCP_DEFAULTS: Omit<McpSettings, 'servers'> = {
  requestTimeoutMs: 60_000,
  connectTimeoutMs: 30_000,
  maxTools: 64,
  maxResultChars: 1024 * 1024,
};

const SECRET_REF = /\$\{secret:([A-Za-z0-9_.-]+)\}/g;

/** The SecretStore key a `${secret:NAME}` reference reads. */
export const mcpSecretKey = (name: string): string => `multiclaw.mcpSecret.${name}`;

const isRecordOfStrings = (v: unknown): v is Record<string, string> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/**
 * Validates a list of server entries (e.g. the `multiclaw.mcp.servers` setting): bad entries are left
 * out with a problem each, the rest are returned. Names must be unique (the first wins).
 */
export function readServerConfigs(raw: unknown, source: McpServerConfig['source'] = 'settings'): { servers: McpServerConfig[]; problems: string[] } {
  const servers: McpServerConfig[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { servers, problems };
  if (!Array.isArray(raw)) return { servers, problems: ['MCP servers: expected a list of servers'] };
  const names = new Set<string>();
  raw.forEach((e: unknown, i) => {
    const where = `MCP server #${i + 1}`;
    if (!e || typeof e !== 'object') return problems.push(`${where}: not an object`);
    const o = e as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    if (!name) return problems.push(`${where}: "name" is required`);
    if (names.has(name)) return problems.push(`MCP server "${name}": the name is used twice; the first one is kept`);
    const transport = o.transport ?? (typeof o.url === 'string' ? 'http' : 'stdio');
    if (transport !== 'stdio' && transport !== 'http') return problems.push(`MCP server "${name}": "transport" must be "stdio" or "http"`);
    const c: McpServerConfig = { name, enabled: o.enabled !== false, transport, source };
    if (transport === 'stdio') {
      if (typeof o.command !== 'string' || !o.command.trim()) return problems.push(`MCP server "${name}": a stdio server needs a "command"`);
      c.command = o.command.trim();
      if (o.args !== undefined) {
        if (!Array.isArray(o.args) || !o.args.every((a) => typeof a === 'string'))
          return problems.push(`MCP server "${name}": "args" must be a list of strings`);
        c.args = o.args as string[];
      }
      if (o.cwd !== undefined) {
        if (typeof o.cwd !== 'string') return problems.push(`MCP server "${name}": "cwd" must be a string`);
        c.cwd = o.cwd;
      }
    } else {
      if (typeof o.url !== 'string' || !/^https?:\/\//i.test(o.url)) return problems.push(`MCP server "${name}": an http server needs an http(s) "url"`);
      c.url = o.url;
      if (o.sseOnly === true) c.sseOnly = true;
    }
    for (const k of ['env', 'headers'] as const) {
      if (o[k] === undefined) continue;
      if (!isRecordOfStrings(o[k])) return problems.push(`MCP server "${name}": "${k}" must map names to strings`);
      c[k] = { ...o[k] };
    }
    names.add(name);
    servers.push(c);
  });
  return { servers, problems };
}

/** A stable hash of everything that decides what runs or is contacted (consent is bound to it, not to the name). */
export function configHash(c: McpServerConfig): string {
  const sorted = (r: Record<string, string> | undefined): Array<[string, string]> => Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const basis = {
    name: c.name,
    transport: c.transport,
    command: c.command ?? null,
    args: c.args ?? [],
    cwd: c.cwd ?? null,
    env: sorted(c.env),
    url: c.url ?? null,
    headers: sorted(c.headers),
    sseOnly: !!c.sseOnly,
  };
  return createHash('sha256').update(JSON.stringify(basis)).digest('hex');
}

/** The secret names a config references. */
export function secretRefs(c: McpServerConfig): string[] {
  const out = new Set<string>();
  for (const v of [...Object.values(c.env ?? {}), ...Object.values(c.headers ?? {})]) for (const m of v.matchAll(SECRET_REF)) out.add(m[1]!);
  return [...out];
}

/**
 * The transport to open for a config, with `${secret:NAME}` resolved. Each resolved value is
 * registered with the redactor first. A missing secret throws (the server goes to Error with it).
 */
export async function resolveTransport(c: McpServerConfig, secrets: SecretStore, redactor: Redactor): Promise<McpTransportSpec> {
  const values = new Map<string, string>();
  for (const name of secretRefs(c)) {
    const v = await secrets.get(mcpSecretKey(name));
    if (v === undefined || v === '')
      throw new Error(`the secret "${name}" (referenced as \${secret:${name}}) is not set: store it in MultiClaw's secret storage under ${mcpSecretKey(name)}`);
    redactor.add(v);
    values.set(name, v);
  }
  const subst = (r: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, v.replace(SECRET_REF, (_, n: string) => values.get(n) ?? '')]));
  if (c.transport === 'stdio') return { kind: 'stdio', command: c.command ?? '', args: c.args ?? [], env: subst(c.env), cwd: c.cwd };
  return { kind: 'http', url: c.url ?? '', headers: subst(c.headers), sseOnly: c.sseOnly };
}
