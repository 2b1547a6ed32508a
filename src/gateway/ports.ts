/**
 * The small ports the gateway receives from its host (the VS Code extension, the headless CLI or a
 * test). Their methods mirror the VS Code API so the extension passes thin adapters.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Mirrors vscode.LogOutputChannel's level methods. Implementations redact secrets before writing. */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
  /** A sub-logger whose lines carry `[topic]`, e.g. `[provider:openai]`. */
  child(topic: string): Logger;
}

/** Mirrors vscode.SecretStorage. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { dispose(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return { dispose: () => clearTimeout(t) };
  },
};
