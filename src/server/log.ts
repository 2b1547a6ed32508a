/**
 * Structured JSON logs (one object per line) that never hold a secret: fields whose names look like
 * credentials are replaced, and string values are scrubbed of every token shape this server issues
 * (mca_, mcw_, mcinv_, mcis_, mcs1.…, enc:…) and of provider-key shapes.
 */
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_FIELD = /(token|secret|password|passwd|apikey|api_key|authorization|cookie|credential|masterkey|key_enc|keyblob)/i;
const SECRET_VALUE: ReadonlyArray<[RegExp, string]> = [
  [/\b(mca|mcw|mcinv|mcis)_[A-Za-z0-9_-]{8,}/g, '$1_[REDACTED]'],
  [/\bmcs1\.[A-Za-z0-9_.-]+/g, 'mcs1.[REDACTED]'],
  [/\benc:v1\.[A-Za-z0-9_.-]+/g, 'enc:[REDACTED]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [REDACTED]'],
  [/\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, 'sk-[REDACTED]'],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, 'AIza[REDACTED]'],
];

export function scrubString(s: string): string {
  let out = s;
  for (const [re, rep] of SECRET_VALUE) out = out.replace(re, rep);
  return out;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value instanceof Error) return { name: value.name, message: scrubString(value.message), code: (value as Error & { code?: unknown }).code };
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[REDACTED]' : scrub(v, depth + 1);
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(sink: Writable | ((line: string) => void), level: LogLevel = 'info', base: Record<string, unknown> = {}): Logger {
  const min = LEVELS[level];
  const write = typeof sink === 'function' ? sink : (line: string) => sink.write(line);
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const rec = scrub({ ts: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, 0);
    write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(write, level, { ...base, ...fields }),
  };
}

export const nullLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => nullLogger };
