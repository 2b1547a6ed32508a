import { createAnthropicClient } from './anthropic';
import { createGeminiClient } from './gemini';
import { createOpenAiClient } from './openai';
import type { ProviderDeps } from './adapter';
import type { ProviderClient, ProviderEndpoint, ProviderId } from './types';

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

export type { ProviderDeps } from './adapter';
export type { RetryPolicy } from './retry';
export { DEFAULT_IDLE_TIMEOUT_MS } from './providerStream';
export { ProviderError, type ProviderErrorKind } from './errors';
