import type { Clock } from '../../src/gateway/ports';

/** A clock the test drives: `now()` moves only with `advance()`, timers run only on `fireTimers()`. */
export class ManualClock implements Clock {
  private readonly timers = new Set<{ fn: () => void; ms: number }>();

  constructor(public time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  setTimeout(fn: () => void, ms: number): { dispose(): void } {
    const timer = { fn, ms };
    this.timers.add(timer);
    return { dispose: () => this.timers.delete(timer) };
  }

  /** Delays of the timers still pending. */
  get pending(): number[] {
    return [...this.timers].map((t) => t.ms);
  }

  fireTimers(): void {
    const due = [...this.timers];
    this.timers.clear();
    for (const t of due) t.fn();
  }
}
