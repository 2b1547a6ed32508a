import { z } from 'zod';
import type { ProviderId } from './providers/types';

/** A local agent definition (setting `multiclaw.agents`). */
export const agentDefinitionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id: 1–64 letters, digits, dot, dash or underscore'),
  name: z.string().min(1).max(100),
  provider: z.enum(['openai', 'anthropic', 'gemini', 'openai-compatible']),
  model: z.string().min(1).max(200),
  systemPrompt: z.string().max(50_000).optional(),
});
export type AgentDefinition = z.infer<typeof agentDefinitionSchema>;

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
}

export const DEFAULT_PROVIDER_SETTINGS: Record<ProviderId, ProviderSettings> = {
  openai: { baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4.1' },
  anthropic: { baseUrl: 'https://api.anthropic.com/v1', defaultModel: 'claude-sonnet-4-5' },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta', defaultModel: 'gemini-2.5-flash' },
  'openai-compatible': { baseUrl: '', defaultModel: 'llama3.1' },
};

export function defaultGatewayConfig(): GatewayConfig {
  return { agents: [], providers: structuredClone(DEFAULT_PROVIDER_SETTINGS), idleTimeoutMs: 60_000, maxAttempts: 3 };
}

/**
 * Validates raw agent entries one by one: a bad entry is skipped with a reason, the others are kept.
 * Duplicate ids keep the first.
 */
export function parseAgents(raw: unknown): { agents: AgentDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const agents: AgentDefinition[] = [];
  if (raw === undefined || raw === null) return { agents, problems };
  if (!Array.isArray(raw)) return { agents, problems: ['multiclaw.agents must be an array; ignoring it'] };
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const r = agentDefinitionSchema.safeParse(entry);
    if (!r.success) {
      problems.push(`multiclaw.agents[${i}] ignored: ${r.error.issues.map((x) => `${x.path.join('.') || 'entry'}: ${x.message}`).join('; ')}`);
    } else if (seen.has(r.data.id)) {
      problems.push(`multiclaw.agents[${i}] ignored: duplicate id "${r.data.id}"`);
    } else {
      seen.add(r.data.id);
      agents.push(r.data);
    }
  });
  return { agents, problems };
}
