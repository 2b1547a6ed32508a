/**
 * Secret redaction applied to every log line before it reaches any sink.
 * Two layers: exact values the gateway knows are secret (provider keys, tokens) are registered with
 * `Redactor.add`, and generic patterns catch credentials the gateway never saw (Authorization
 * headers, `sk-…` keys, `key=` query parameters).
 */

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(bearer|basic)?\s*[^\s"',}]+/gi, '$1$2$3 [REDACTED]'],
  [/\b(x-api-key|x-goog-api-key|api[-_]?key|apikey|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',}&]+/gi, '$1$2[REDACTED]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g, 'Bearer [REDACTED]'],
  [/\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, 'sk-[REDACTED]'],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, 'AIza[REDACTED]'],
  [/([?&](?:key|api_key|token|access_token)=)[^&\s#"']+/gi, '$1[REDACTED]'],
  [/(\/\/[^/\s:@]+:)[^/\s@]+@/g, '$1[REDACTED]@'],
];

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers an exact secret value; values shorter than 6 characters are ignored (too many false hits). */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  remove(secret: string | undefined): void {
    if (secret) this.secrets.delete(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) {
      if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    }
    for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
    return out;
  }
}

/** Formats one log argument (errors with their cause chain) as text. */
export function formatArg(arg: unknown): string {
  if (arg instanceof Error) return formatError(arg);
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}

export function formatError(err: Error): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 6; depth++) {
    if (cur instanceof Error) {
      const code = (cur as Error & { code?: unknown }).code;
      parts.push(`${cur.name}: ${cur.message}${code ? ` (${String(code)})` : ''}`);
      cur = cur.cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(' ← caused by ');
}
