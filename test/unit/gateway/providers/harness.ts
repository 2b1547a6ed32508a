/** Shared setup for the provider client tests: a real local provider server and real clients. */
import { MemorySink, RedactingLogger } from '../../../../src/gateway/log/logger';
import { Redactor } from '../../../../src/gateway/log/redact';
import { NetService } from '../../../../src/gateway/net/net';
import { ProviderError } from '../../../../src/gateway/providers/errors';
import { createProviderClient } from '../../../../src/gateway/providers/index';
import type { DoneEvent, ProviderDeps } from '../../../../src/gateway/providers/adapter';
import type { ChatRequest, ProviderClient, ProviderId, StreamEvent, StreamOptions, ToolCall } from '../../../../src/gateway/providers/types';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';

export const MODELS: Record<ProviderId, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.0-flash',
  'openai-compatible': 'llama3.2',
};

export interface Harness {
  net: NetService;
  sink: MemorySink;
  deps: ProviderDeps;
  dispose(): void;
}

/** Real NetService and a redacting logger writing to memory; backoff shortened for tests. */
export function createHarness(): Harness {
  const net = new NetService({ keepAliveTimeoutMs: 2_000 });
  const sink = new MemorySink();
  const logger = new RedactingLogger(sink, new Redactor());
  return { net, sink, deps: { net, logger, retry: { baseDelayMs: 5, maxDelayMs: 20 } }, dispose: () => net.dispose() };
}

export function clientFor(h: Harness, server: ProviderServer, id: ProviderId, key: string | null = server.keys[id]): ProviderClient {
  return createProviderClient(id, { baseUrl: server.baseUrls[id], apiKey: key ?? undefined }, h.deps);
}

export function request(text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'fixture', messages: [{ role: 'user', content: text }], ...extra };
}

export interface Outcome {
  deltas: string[];
  done?: DoneEvent;
  error?: ProviderError;
  /** Event types in the order they arrived. */
  order: string[];
  /** Every event, in order. */
  events: StreamEvent[];
  /** The complete tool calls, in order. */
  calls: ToolCall[];
  /** The announced tool calls (`toolCallStart`), in order. */
  starts: Array<{ id: string; name: string }>;
}

/** Runs a stream to its end; a thrown ProviderError is captured, anything else fails the test. */
export async function collect(
  client: ProviderClient,
  req: ChatRequest,
  options: StreamOptions = {},
  onDelta?: (text: string, index: number) => void,
): Promise<Outcome> {
  const out: Outcome = { deltas: [], order: [], events: [], calls: [], starts: [] };
  try {
    for await (const ev of client.stream(req, options)) {
      out.order.push(ev.type);
      out.events.push(ev);
      if (ev.type === 'toolCall') out.calls.push(ev.call);
      else if (ev.type === 'toolCallStart') out.starts.push({ id: ev.id, name: ev.name });
      else if (ev.type === 'delta') {
        out.deltas.push(ev.text);
        onDelta?.(ev.text, out.deltas.length - 1);
      } else if (ev.type === 'done') {
        out.done = ev;
      }
    }
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    out.error = err;
  }
  return out;
}

/** Rejects after `ms` (a bound on waits, never a synchronisation). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Mocha hooks: the provider fixture server for the suite (`options` as startProviderServer), reset
 * before each test, and a fresh harness (NetService, logs) per test; both handed to `set`.
 */
export function useProviders(set: (e: { server: ProviderServer; h: Harness }) => void, options?: Parameters<typeof startProviderServer>[0]): void {
  let server: ProviderServer | undefined;
  let h: Harness | undefined;
  before(async () => {
    server = await startProviderServer(options);
  });
  after(async () => server?.close());
  beforeEach(() => {
    server!.reset();
    h = createHarness();
    set({ server: server!, h });
  });
  afterEach(() => h?.dispose());
}
