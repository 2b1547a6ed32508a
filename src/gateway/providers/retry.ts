import { ProviderError } from './errors';
import type { ProviderId } from './types';

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

/**
 * The wait before retrying after `error` on attempt `attempt`, or undefined to surface it: once a
 * delta has been handed out (`started`) nothing is retried, since the text already shown would not
 * be reproduced by a second attempt.
 */
export function retryDelayFor(error: ProviderError, attempt: number, started: boolean, policy: RetryPolicy, random?: () => number): number | undefined {
  if (started || !error.retryable || attempt >= policy.maxAttempts) return undefined;
  return backoffDelay(attempt, policy, error.retryAfterMs, random);
}
