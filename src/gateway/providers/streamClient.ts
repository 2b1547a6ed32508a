/**
 * What every provider shares: event validation helpers and the client that runs a ProviderStream (request through NetService,
 * idle watchdog, cancellation, SSE parsing, retry before the first token) for any adapter.
 */
import type { z } from 'zod';
import type { ProviderAdapter, ProviderDeps, WireRequest } from './adapter';
import type { Logger } from '../ports';
import { ProviderError } from './errors';
import { ProviderStream } from './providerStream';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
import { PROVIDER_LABELS, type ChatRequest, type ProviderClient, type ProviderEndpoint, type ProviderId, type StreamEvent, type StreamOptions } from './types';
import { errorMessage } from '../errors';

/** Parses one event's JSON; invalid JSON is a `malformed` error, never a crash. */
export function parseEventJson(provider: ProviderId, data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw malformed(provider, `invalid JSON in a stream event: ${data.slice(0, 80)}`);
  }
}

/** A stream event we cannot read. */
export function malformed(provider: ProviderId, detail: string, cause?: unknown): ProviderError {
  return new ProviderError({ kind: 'malformed', provider, detail, cause });
}

/** A zod failure on a stream event, as a `malformed` error naming the first bad field. */
export function malformedEvent(provider: ProviderId, what: string, error: z.ZodError): ProviderError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'event';
  return malformed(provider, `unexpected ${what}: ${where}: ${issue?.message ?? 'invalid'}`, error);
}

/** A ProviderClient for any SSE-streaming provider, given its adapter. */
export class SseProviderClient implements ProviderClient {
  readonly id: ProviderId;
  private readonly log: Logger;
  private readonly label: string;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly endpoint: ProviderEndpoint,
    private readonly deps: ProviderDeps,
  ) {
    this.id = adapter.id;
    this.label = PROVIDER_LABELS[adapter.id];
    this.log = deps.logger.child(`provider:${adapter.id}`);
  }

  stream(request: ChatRequest, options: StreamOptions = {}): AsyncIterable<StreamEvent> {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...this.deps.retry };
    if (options.maxAttempts !== undefined) policy.maxAttempts = Math.max(1, options.maxAttempts);
    if (!this.endpoint.apiKey && this.id !== 'openai-compatible') {
      return failing(new ProviderError({ kind: 'auth', provider: this.id, message: `No ${this.label} API key is set. Add one to use ${this.label}.` }));
    }
    let wire: WireRequest;
    try {
      wire = this.adapter.buildRequest(request, this.endpoint);
      const url = new URL(wire.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`unsupported protocol ${url.protocol}`);
    } catch (err) {
      const detail = errorMessage(err);
      const message = `The ${this.label} base URL is not usable (${detail}). Check the base URL setting.`;
      return failing(new ProviderError({ kind: 'bad_request', provider: this.id, detail, cause: err, message }));
    }
    return new ProviderStream({
      provider: this.id,
      net: this.deps.net,
      log: this.log,
      wire,
      model: request.model,
      createDecoder: () => this.adapter.createDecoder(wire),
      policy,
      options,
    });
  }
}

function failing(error: ProviderError): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(error),
    }),
  };
}

/** A stream that ended while a tool call's arguments were still arriving (never retried once the call was announced). */
export function truncatedToolCall(provider: ProviderId, name: string, argumentChars: number): ProviderError {
  return new ProviderError({
    kind: 'truncated',
    provider,
    detail: `the stream ended inside a call to ${name || 'a tool'} (${argumentChars} characters of arguments received)`,
    message: `The ${PROVIDER_LABELS[provider]} reply ended in the middle of a tool call${name ? ` (${name})` : ''}. Retry.`,
  });
}

/** Joins a base URL and a path without doubling slashes. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}
