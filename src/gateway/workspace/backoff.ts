/**
 * Reconnect delays: exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
 * and Jitter"): attempt k waits a uniformly random time in [0, min(cap, base · 2^(k-1))]. With the
 * defaults, 250 ms doubling to a 30 s cap, a thousand clients dropped at once spread their retries
 * instead of storming the server.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** The ceiling of attempt `attempt` (1-based). */
export function backoffCeiling(attempt: number, p: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  return Math.min(p.capMs, p.baseMs * 2 ** exp);
}

/** A full-jitter delay for attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, p: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, p));
}
