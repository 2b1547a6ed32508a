import { ProviderError, toProviderError } from './errors';
import type { ProviderId, StreamEvent } from './types';

export interface RetryPolicy {
  /** Attempts in total before the first token (1 = no retry). */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt (full jitter: a uniform pick in [0, ceiling]). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server asking to wait longer than this is not retried; its error is surfaced at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/**
 * The wait before retry number `attempt` (1-based: the wait after the first failure is attempt 1).
 * A server's Retry-After wins over the backoff; undefined means "do not retry".
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number, random: () => number = Math.random): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs > policy.maxRetryAfterMs ? undefined : Math.max(0, retryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Waits `ms`, or rejects with a `cancelled` ProviderError as soon as `signal` aborts. */
export function sleep(ms: number, provider: ProviderId, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProviderError({ kind: 'cancelled', provider, cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ProviderError({ kind: 'cancelled', provider, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  provider: ProviderId;
  policy: RetryPolicy;
  signal?: AbortSignal;
  onRetry?: (attempt: number, delayMs: number, error: Error) => void;
  random?: () => number;
}

/**
 * Runs `attempt(n)` and re-runs it after a backoff when it fails with a retryable error before its
 * first delta. Once a delta has been yielded the error is surfaced, never retried (the caller has
 * shown text that a second attempt would not reproduce).
 */
export async function* retryStream(
  attempt: (n: number) => AsyncIterable<StreamEvent>,
  options: RetryOptions,
): AsyncGenerator<StreamEvent, void, undefined> {
  const { policy, provider, signal } = options;
  for (let n = 1; ; n++) {
    let started = false;
    try {
      for await (const event of attempt(n)) {
        started = true;
        yield event;
      }
      return;
    } catch (err) {
      const error = toProviderError(err, provider);
      if (started || !error.retryable || n >= policy.maxAttempts || signal?.aborted) throw error;
      const delay = backoffDelay(n, policy, error.retryAfterMs, options.random);
      if (delay === undefined) throw error;
      options.onRetry?.(n, delay, error);
      await sleep(delay, provider, signal);
    }
  }
}
