import { createAnthropicClient } from './anthropic';
import { createGeminiClient } from './gemini';
import { createOpenAiClient } from './openai';
import type { ProviderDeps } from './streamClient';
import type { ProviderClient, ProviderEndpoint, ProviderId } from './types';

export const DEFAULT_BASE_URLS: Readonly<Record<ProviderId, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
  // No public default: the user points this at Ollama, LM Studio, vLLM…
  'openai-compatible': 'http://127.0.0.1:11434/v1',
};

/** Builds the streaming client for a provider. Nothing is contacted until `stream()` is iterated. */
export function createProviderClient(id: ProviderId, endpoint: ProviderEndpoint, deps: ProviderDeps): ProviderClient {
  switch (id) {
    case 'openai':
    case 'openai-compatible':
      return createOpenAiClient(endpoint, deps, id);
    case 'anthropic':
      return createAnthropicClient(endpoint, deps);
    case 'gemini':
      return createGeminiClient(endpoint, deps);
  }
}

export type { ProviderDeps } from './streamClient';
export type { RetryPolicy } from './retry';
export { DEFAULT_IDLE_TIMEOUT_MS } from './providerStream';
export { ProviderError, type ProviderErrorKind } from './errors';
