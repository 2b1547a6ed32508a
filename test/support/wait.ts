/**
 * Waiting in tests: on events and states, never on time. Each wait has a deadline that only turns a
 * hang into a clear failure (what was awaited, and what was seen).
 */

/** Anything with `event(listener) → disposable`: our Event<T>, vscode.Event<T>. */
export type Subscribe<T> = (listener: (e: T) => void) => { dispose(): void };

/** Resolves with the first event that matches, or rejects after `ms` with what was seen. */
export function waitFor<T>(event: Subscribe<T>, pred: (e: T) => boolean = () => true, ms = 10_000, what = 'event'): Promise<T> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${what} within ${ms} ms; last seen: ${JSON.stringify(seen.slice(-3))?.slice(0, 600)}`));
    }, ms);
    const sub = event((e) => {
      seen.push(e);
      if (!pred(e)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

/**
 * Resolves with `check()`'s value once it is truthy: checked now, then again after each event of
 * `changes` (one event or several). Rejects after `ms`.
 */
export function until<T>(
  changes: Subscribe<unknown> | Array<Subscribe<unknown>>,
  check: () => T | undefined | null | false,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const now = check();
  if (now) return Promise.resolve(now);
  const events = Array.isArray(changes) ? changes : [changes];
  return new Promise((resolve, reject) => {
    const subs: Array<{ dispose(): void }> = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    for (const e of events) {
      subs.push(
        e(() => {
          const v = check();
          if (!v) return;
          done();
          resolve(v);
        }),
      );
    }
  });
}

/**
 * For state outside this process that announces nothing (a child's log file, an X server's pointer):
 * resolves once `check()` is truthy, looking again every `everyMs`. Rejects after `ms`.
 */
export async function poll<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 10_000,
  what = 'condition',
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
