import * as vscode from 'vscode';
import { DEFAULT_LOCAL_API_PORT, DEFAULT_PROVIDER_SETTINGS, type AgentConfig, type GatewayConfig } from '../gateway/config';
import { parseModelPrices } from '../gateway/chat/pricing';
import type { Logger } from '../gateway/ports';
import type { ProviderId } from '../gateway/providers/types';
import { readMcpSettings } from './mcp/mcpSettings';
import { readNetworkConfig } from './network/networkSettings';

/** Setting-key segment of each provider (`multiclaw.providers.<segment>.*`). */
const SEGMENT: Record<ProviderId, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gemini',
  'openai-compatible': 'openaiCompatible',
};

/** Reads a string setting; a non-string or invalid URL falls back to the default with a log line. */
function readUrl(cfg: vscode.WorkspaceConfiguration, key: string, fallback: string, logger: Logger, allowEmpty: boolean): string {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'string') {
    const s = v.trim().replace(/\/+$/, '');
    if (s === '' && allowEmpty) return '';
    try {
      const u = new URL(s);
      if (u.protocol === 'https:' || u.protocol === 'http:') return s;
    } catch {
      // fall through
    }
  }
  logger.warn(`setting multiclaw.${key} is not an http(s) URL; using the default ${fallback || '(empty)'}`);
  return fallback;
}

function readNumber(cfg: vscode.WorkspaceConfiguration, key: string, fallback: number, min: number, max: number, logger: Logger): number {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
  logger.warn(`setting multiclaw.${key} must be a number from ${min} to ${max}; using the default ${fallback}`);
  return fallback;
}

function readBoolean(cfg: vscode.WorkspaceConfiguration, key: string, fallback: boolean, logger: Logger): boolean {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  logger.warn(`setting multiclaw.${key} must be true or false; using the default ${fallback}`);
  return fallback;
}

/** A TCP port: 0 (any free port) or 1024–65535. */
function readPort(cfg: vscode.WorkspaceConfiguration, key: string, fallback: number, logger: Logger): number {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && (v === 0 || (v >= 1024 && v <= 65535))) return v;
  logger.warn(`setting multiclaw.${key} must be 0 (any free port) or a port from 1024 to 65535; using the default ${fallback}`);
  return fallback;
}

function readString(cfg: vscode.WorkspaceConfiguration, key: string, fallback: string, logger: Logger): string {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'string' && v.trim()) return v.trim();
  logger.warn(`setting multiclaw.${key} must be a non-empty string; using the default ${fallback}`);
  return fallback;
}

/** A list of non-empty strings (trimmed, at most `max`); anything else falls back to the default with a log line. */
function readStringList(cfg: vscode.WorkspaceConfiguration, key: string, logger: Logger, max = 500): string[] {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return [];
  if (Array.isArray(v) && v.length <= max && v.every((x) => typeof x === 'string')) return [...new Set(v.map((x: string) => x.trim()).filter(Boolean))];
  logger.warn(`setting multiclaw.${key} must be a list of at most ${max} strings; using the default (empty)`);
  return [];
}

/** How agents use tools (`multiclaw.agent.*`). The rule lists are `application`-scoped: a workspace cannot widen them. */
export function readAgentSettings(cfg: vscode.WorkspaceConfiguration, logger: Logger): AgentConfig {
  return {
    tools: readBoolean(cfg, 'agent.tools', true, logger),
    maxSteps: Math.round(readNumber(cfg, 'agent.maxSteps', 25, 1, 200, logger)),
    commandsAllow: readStringList(cfg, 'agent.commands.allow', logger),
    commandsDeny: readStringList(cfg, 'agent.commands.deny', logger),
    fetchAllowedDomains: readStringList(cfg, 'agent.fetch.allowedDomains', logger),
    autoApproveEdits: readBoolean(cfg, 'agent.autoApproveEdits', true, logger),
  };
}

/**
 * One typed snapshot of every MultiClaw setting the gateway uses. Invalid values fall back to
 * defaults with a log line. Async: the agents' zod schema loads on first use, not at activation.
 */
export async function readGatewayConfig(logger: Logger): Promise<GatewayConfig> {
  const { parseAgents } = await import('../gateway/agentsSchema');
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  const { agents, problems } = parseAgents(cfg.get<unknown>('agents'));
  for (const p of problems) logger.warn(p);
  reportAgentProblems(problems);
  const providers = {} as GatewayConfig['providers'];
  for (const [id, seg] of Object.entries(SEGMENT) as Array<[ProviderId, string]>) {
    const d = DEFAULT_PROVIDER_SETTINGS[id];
    providers[id] = {
      baseUrl: readUrl(cfg, `providers.${seg}.baseUrl`, d.baseUrl, logger, id === 'openai-compatible'),
      defaultModel: readString(cfg, `providers.${seg}.model`, d.defaultModel, logger),
    };
  }
  return {
    agents,
    providers,
    idleTimeoutMs: readNumber(cfg, 'chat.idleTimeoutSeconds', 60, 1, 600, logger) * 1000,
    maxAttempts: Math.round(readNumber(cfg, 'chat.maxAttempts', 3, 1, 8, logger)),
    localApi: {
      enabled: readBoolean(cfg, 'gateway.localApi', true, logger),
      port: readPort(cfg, 'gateway.port', DEFAULT_LOCAL_API_PORT, logger),
      openAiCompatibleApi: readBoolean(cfg, 'gateway.openAiCompatibleApi', false, logger),
    },
    network: readNetworkConfig(logger),
    workspace: { url: readUrl(cfg, 'workspace.url', '', logger, true) },
    agent: readAgentSettings(cfg, logger),
    modelPrices: parseModelPrices(cfg.get<unknown>('chat.modelPrices'), (m) => logger.warn(m)),
    mcp: await readMcpSettings(logger),
  };
}

let shownAgentProblems = '';

/**
 * Skipped `multiclaw.agents` entries, shown once per distinct set (not again on unrelated setting
 * changes): the entry and field named, the valid agents loaded anyway, and Open Settings.
 */
function reportAgentProblems(problems: readonly string[]): void {
  const key = problems.join('\n');
  if (key === shownAgentProblems) return;
  shownAgentProblems = key;
  if (!problems.length) return;
  const n = problems.length;
  const text = `MultiClaw: ${n === 1 ? 'an entry' : `${n} entries`} of the setting multiclaw.agents ${n === 1 ? 'was' : 'were'} skipped; the other agents are loaded. ${problems.join(' · ')}`;
  void vscode.window.showWarningMessage(text, 'Open Settings').then((b) => {
    if (b) void vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'multiclaw.agents' } });
  });
}

/** Whether the chat attaches the active editor's file or selection on its own (`multiclaw.chat.attachActiveEditor`). */
export function readAttachActiveEditor(logger: Logger): boolean {
  return readBoolean(vscode.workspace.getConfiguration('multiclaw'), 'chat.attachActiveEditor', true, logger);
}

export function readAutoStart(): boolean {
  return vscode.workspace.getConfiguration('multiclaw').get<boolean>('gateway.autoStart') !== false;
}
