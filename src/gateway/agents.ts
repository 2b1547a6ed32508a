import type { AgentDefinition, GatewayConfig } from './config';
import { PROVIDER_IDS, PROVIDER_LABELS, type ProviderId } from './providers/types';

export interface ResolvedAgent extends AgentDefinition {
  /** The provider is configured: a key (or, for OpenAI-compatible, a base URL). */
  available: boolean;
  source: 'settings' | 'default' | 'workspace';
  /** Workspace agents on an OpenAI-compatible server of the workspace's choosing (used only with a workspace key). */
  baseUrl?: string;
  /** Output-token cap from the workspace guardrails. */
  maxTokens?: number;
  /** Why `available` is false, when it is not the usual missing key. */
  unavailableReason?: string;
}

/** Whether a provider may be contacted: never without a key (OpenAI-compatible: a base URL; key optional). */
export function isProviderConfigured(p: ProviderId, config: GatewayConfig, hasKey: (p: ProviderId) => boolean): boolean {
  if (p === 'openai-compatible') return config.providers[p].baseUrl.trim().length > 0;
  return hasKey(p);
}

/**
 * The agents a user can pick: those in settings, plus a default agent for each configured provider
 * that no settings agent already uses by default id.
 */
export function resolveAgents(config: GatewayConfig, hasKey: (p: ProviderId) => boolean): ResolvedAgent[] {
  const out: ResolvedAgent[] = config.agents.map((a) => ({
    ...a,
    available: isProviderConfigured(a.provider, config, hasKey),
    source: 'settings' as const,
  }));
  const ids = new Set(out.map((a) => a.id));
  for (const p of PROVIDER_IDS) {
    if (!isProviderConfigured(p, config, hasKey)) continue;
    const id = `default-${p}`;
    if (ids.has(id)) continue;
    const model = config.providers[p].defaultModel;
    out.push({
      id,
      name: `${PROVIDER_LABELS[p]} · ${model}`,
      provider: p,
      model,
      systemPrompt: 'You are a helpful coding assistant working inside VS Code. Answer concisely and use Markdown code blocks for code.',
      available: true,
      source: 'default',
    });
  }
  return out;
}
