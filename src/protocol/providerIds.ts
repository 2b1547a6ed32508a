/**
 * The provider ids, spelled once for every layer (settings, the chat webview, the workspace
 * protocol, the gateway's clients). No zod here, so the activation path can import it.
 */
export const PROVIDER_IDS = ['openai', 'anthropic', 'gemini', 'openai-compatible'] as const;

export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(v: unknown): v is ProviderId {
  return typeof v === 'string' && (PROVIDER_IDS as readonly string[]).includes(v);
}
