import { defaultNetConfig, type NetConfig } from './net/netConfig';
import type { PriceTable } from './chat/pricing';
import type { McpSettings } from './mcp/mcpConfig';
import type { ProviderId } from './providers/types';

/** A local agent definition (setting `multiclaw.agents`; validated by `parseAgents` in agentsSchema.ts). */
export interface AgentDefinition {
  id: string;
  name: string;
  provider: ProviderId;
  model: string;
  systemPrompt?: string;
}

export interface ProviderSettings {
  /** Base URL of the API (the public default, a corporate gateway, or a local server). */
  baseUrl: string;
  /** Model used by this provider's default agent. */
  defaultModel: string;
}

/** A snapshot of everything the gateway reads from settings; the host re-sends it on change. */
export interface GatewayConfig {
  agents: AgentDefinition[];
  providers: Record<ProviderId, ProviderSettings>;
  /** A stream with no bytes for this long fails with a retryable idle-timeout error. */
  idleTimeoutMs: number;
  /** Attempts before the first token (1 = no retry). */
  maxAttempts: number;
  /** The local API on 127.0.0.1 (settings `multiclaw.gateway.localApi|port|openAiCompatibleApi`). */
  localApi: LocalApiConfig;
  /** Proxy fallbacks, TLS trust and strictSSL, link previews and favicons (src/gateway/net/netConfig.ts). */
  network: NetConfig;
  /** Workspace mode (setting `multiclaw.workspace.url`); absent or '' = local mode. */
  workspace?: { url: string };
  /** Agents that act (settings `multiclaw.agent.*`); absent = DEFAULT_AGENT_CONFIG. */
  agent?: AgentConfig;
  /** The user's model prices (setting `multiclaw.chat.modelPrices`), over the built-in table of chat/pricing.ts. */
  modelPrices?: PriceTable;
  /** MCP servers (setting `multiclaw.mcp.servers` and `.vscode/mcp.json`, validated) and their limits; absent = none. */
  mcp?: McpSettings;
}

/** How agents use tools. Workspace guardrails are a floor none of these can lower. */
export interface AgentConfig {
  /** Offer the editor tools to agents (`multiclaw.agent.tools`). */
  tools: boolean;
  /** Model requests per turn before the loop stops with "step limit reached". */
  maxSteps: number;
  /** Command rules (`npm test *`): allowed without asking / always refused. Deny wins; unknown asks. */
  commandsAllow: string[];
  commandsDeny: string[];
  /** Domains web_fetch may reach without asking (the workspace's Allowed domains still apply). */
  fetchAllowedDomains: string[];
  /** Edits inside the workspace apply at once (reviewable, undoable) instead of asking first. */
  autoApproveEdits: boolean;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  tools: true,
  maxSteps: 25,
  commandsAllow: [],
  commandsDeny: [],
  fetchAllowedDomains: [],
  autoApproveEdits: true,
};

export interface LocalApiConfig {
  /** Start the listener with the gateway. */
  enabled: boolean;
  /** The port to try first; when taken, a free one. 0 = any free port. */
  port: number;
  /** Serve `POST /v1/chat/completions` and `GET /v1/models` (read per request). */
  openAiCompatibleApi: boolean;
}

export const DEFAULT_LOCAL_API_PORT = 18789;

export const DEFAULT_PROVIDER_SETTINGS: Record<ProviderId, ProviderSettings> = {
  openai: { baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4.1' },
  anthropic: { baseUrl: 'https://api.anthropic.com/v1', defaultModel: 'claude-sonnet-4-5' },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta', defaultModel: 'gemini-2.5-flash' },
  'openai-compatible': { baseUrl: '', defaultModel: 'llama3.1' },
};

export function defaultGatewayConfig(): GatewayConfig {
  return {
    agents: [],
    providers: structuredClone(DEFAULT_PROVIDER_SETTINGS),
    idleTimeoutMs: 60_000,
    maxAttempts: 3,
    localApi: { enabled: true, port: DEFAULT_LOCAL_API_PORT, openAiCompatibleApi: false },
    network: defaultNetConfig(),
    workspace: { url: '' },
    agent: structuredClone(DEFAULT_AGENT_CONFIG),
  };
}
