/**
 * The headless gateway's configuration: `$MULTICLAW_HOME/config.json` (refused unless only its owner
 * can read it: it may hold keys) overlaid by environment variables. Produces the same GatewayConfig
 * the extension builds from settings, the provider keys and an optional fixed local API token.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseAgents } from '../agentsSchema';
import { DEFAULT_LOCAL_API_PORT, defaultGatewayConfig, type GatewayConfig } from '../config';
import { multiclawHome } from '../localApi/discoveryPath';
import { isAcceptableToken } from '../localApi/guard';
import { PROVIDER_IDS, type ProviderId } from '../providers/types';
import { CliError, EXIT } from './usage';
import { errorMessage } from '../errors';

export { multiclawHome };

export interface HeadlessConfig {
  home: string;
  config: GatewayConfig;
  keys: Partial<Record<ProviderId, string>>;
  token?: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Where each value came from, for one start-up log line (never values). */
  sources: string[];
}

/** Config-file and environment-variable segment of each provider. */
const SEGMENT: Record<ProviderId, { file: string; env: string }> = {
  openai: { file: 'openai', env: 'OPENAI' },
  anthropic: { file: 'anthropic', env: 'ANTHROPIC' },
  gemini: { file: 'gemini', env: 'GEMINI' },
  'openai-compatible': { file: 'openaiCompatible', env: 'OPENAI_COMPATIBLE' },
};

const urlSchema = z.string().refine((s) => s === '' || /^https?:\/\/[^\s]+$/.test(s), 'an http(s) URL');
const providerSchema = z.strictObject({ apiKey: z.string().min(1).optional(), baseUrl: urlSchema.optional(), model: z.string().min(1).optional() });
const portSchema = z
  .number()
  .int()
  .refine((p) => p === 0 || (p >= 1024 && p <= 65535), '0 or 1024–65535');

export const configFileSchema = z.strictObject({
  providers: z.strictObject(Object.fromEntries(Object.values(SEGMENT).map((s) => [s.file, providerSchema.optional()]))).optional(),
  agents: z.array(z.unknown()).optional(),
  gateway: z.strictObject({ port: portSchema.optional(), openAiCompatibleApi: z.boolean().optional(), token: z.string().optional() }).optional(),
  chat: z.strictObject({ idleTimeoutSeconds: z.number().min(1).max(600).optional(), maxAttempts: z.number().int().min(1).max(8).optional() }).optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).optional(),
});
type ConfigFile = z.infer<typeof configFileSchema>;

/** Reads config.json; refuses a file that others can read or that another user owns. */
async function readConfigFile(file: string): Promise<ConfigFile> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (process.platform !== 'win32') {
    if ((stat.mode & 0o077) !== 0) {
      throw new CliError(
        EXIT.config,
        `${file} is readable or writable by other users (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); it may hold API keys, so the gateway refuses it. Run: chmod 600 ${JSON.stringify(file)}`,
      );
    }
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new CliError(EXIT.config, `${file} belongs to another user (uid ${stat.uid}); the gateway reads only a config file you own.`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(EXIT.config, `${file} is not valid JSON: ${errorMessage(err)}`);
  }
  const r = configFileSchema.safeParse(raw);
  if (!r.success) throw new CliError(EXIT.config, `${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function envFlag(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new CliError(EXIT.config, `expected 1/0 or true/false, got ${JSON.stringify(v)}`);
}

export async function loadHeadlessConfig(env: NodeJS.ProcessEnv = process.env, portFlag?: number): Promise<HeadlessConfig> {
  const home = multiclawHome(env);
  const configPath = path.join(home, 'config.json');
  const file = await readConfigFile(configPath);
  const sources: string[] = [];
  const config = defaultGatewayConfig();
  const keys: Partial<Record<ProviderId, string>> = {};
  const fileProviders = (file.providers ?? {}) as Record<string, z.infer<typeof providerSchema> | undefined>;
  for (const p of PROVIDER_IDS) {
    const seg = SEGMENT[p];
    const fp = fileProviders[seg.file] ?? {};
    const key = env[`MULTICLAW_${seg.env}_API_KEY`] || fp.apiKey;
    if (key) {
      keys[p] = key.trim();
      sources.push(`${p} key from ${env[`MULTICLAW_${seg.env}_API_KEY`] ? 'environment' : 'config.json'}`);
    }
    const baseUrl = env[`MULTICLAW_${seg.env}_BASE_URL`] ?? fp.baseUrl;
    if (baseUrl !== undefined) {
      if (!urlSchema.safeParse(baseUrl).success) throw new CliError(EXIT.config, `MULTICLAW_${seg.env}_BASE_URL must be an http(s) URL`);
      config.providers[p].baseUrl = baseUrl.replace(/\/+$/, '');
    }
    const model = env[`MULTICLAW_${seg.env}_MODEL`] || fp.model;
    if (model) config.providers[p].defaultModel = model;
  }
  let agentsRaw: unknown = file.agents;
  if (env.MULTICLAW_AGENTS) {
    try {
      agentsRaw = JSON.parse(env.MULTICLAW_AGENTS);
    } catch {
      throw new CliError(EXIT.config, 'MULTICLAW_AGENTS is not valid JSON');
    }
  }
  const { agents, problems } = parseAgents(agentsRaw);
  if (problems.length) throw new CliError(EXIT.config, problems.join('\n'));
  config.agents = agents;
  if (file.chat?.idleTimeoutSeconds) config.idleTimeoutMs = file.chat.idleTimeoutSeconds * 1000;
  if (file.chat?.maxAttempts) config.maxAttempts = file.chat.maxAttempts;

  const portText = portFlag !== undefined ? String(portFlag) : env.MULTICLAW_GATEWAY_PORT;
  const port = portText !== undefined && portText !== '' ? Number(portText) : (file.gateway?.port ?? DEFAULT_LOCAL_API_PORT);
  if (!portSchema.safeParse(port).success) throw new CliError(EXIT.config, `the port must be 0 (any free port) or 1024–65535, not ${portText}`);
  const openAi = envFlag(env.MULTICLAW_OPENAI_COMPATIBLE_API) ?? file.gateway?.openAiCompatibleApi ?? false;
  config.localApi = { enabled: true, port, openAiCompatibleApi: openAi };

  const token = env.MULTICLAW_LOCAL_API_TOKEN || file.gateway?.token;
  if (token !== undefined && !isAcceptableToken(token)) {
    throw new CliError(EXIT.config, 'the local API token must be at least 32 characters of [A-Za-z0-9._~+/=-] (use a random one: openssl rand -base64 32)');
  }
  if (token) sources.push(`local API token from ${env.MULTICLAW_LOCAL_API_TOKEN ? 'environment' : 'config.json'}`);
  const logLevel = (env.MULTICLAW_LOG_LEVEL || file.logLevel || 'info') as HeadlessConfig['logLevel'];
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel))
    throw new CliError(EXIT.config, `MULTICLAW_LOG_LEVEL must be trace, debug, info, warn or error`);
  return { home, config, keys, token: token || undefined, logLevel, sources };
}
