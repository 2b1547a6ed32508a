/**
 * The local API's front door, applied to every HTTP request and every WebSocket upgrade before any
 * routing (the OpenClaw CVE-2026-25253 class: a web page driving a localhost agent; weak tokens brute
 * forced; a rate-limit bypass):
 *   1. `Host` must be 127.0.0.1, localhost or [::1] with our port (DNS rebinding);
 *   2. any `Origin` (and any browser `Sec-Fetch-Site` other than `none`) is refused: no web page, no CORS;
 *   2b. so is a `Referer` (a browser sends one; a local program does not);
 *   3. a token-like query parameter is refused (URLs end up in logs and shell history);
 *   4. `Authorization: Bearer <token>` is checked by comparing salted SHA-256 digests in constant time;
 *      a connection that keeps failing waits longer and longer for its 401 (AuthDelay) — only that
 *      connection: no global lockout that any local process could hold for everyone. Refusals for
 *      Host, Origin, Referer or a token in the query never count.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LocalApiErrorCode } from '../../protocol/localApi';
import type { LocalApiLimits } from './types';

/** A refusal: HTTP status, error code, message and extra headers (and how long to hold it back). */
export interface Refusal {
  status: number;
  code: LocalApiErrorCode;
  message: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

const TOKEN_PREFIX = 'mcl_';

/** A new session token: `mcl_` + 256 random bits, base64url. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** A host-supplied token must be long and plain enough to be a real secret. */
export function isAcceptableToken(token: string): boolean {
  return token.length >= 32 && token.length <= 512 && /^[A-Za-z0-9._~+/=-]+$/.test(token);
}

/**
 * Verifies bearer tokens without ever comparing the secret itself: both sides are SHA-256 digests of
 * a per-start random salt + the token, so the comparison is constant time whatever the input's length.
 * A salted one-shot `crypto.hash` instead of an HMAC: the token is 256 random bits, so there is no
 * length-extension or key-recovery concern an HMAC would guard against, and the one-shot call costs a
 * fraction of building an Hmac object per request (the HMAC was 11.6 % of the gateway's CPU under load).
 */
export class TokenVerifier {
  private readonly salt = randomBytes(32).toString('base64url') + ':';
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = this.digest(token);
  }

  private digest(value: string): Buffer {
    // crypto.hash is Node ≥ 20.12; an older VS Code's runtime falls back to createHash (same digest).
    if (typeof hash === 'function') return Buffer.from(hash('sha256', this.salt + value, 'base64'), 'latin1');
    return Buffer.from(
      createHash('sha256')
        .update(this.salt + value, 'utf8')
        .digest('base64'),
      'latin1',
    );
  }

  verify(presented: string): boolean {
    return timingSafeEqual(this.digest(presented), this.expected);
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h || h.length > 600) return undefined;
  if (h.startsWith('Bearer ') && h.indexOf(' ', 7) === -1 && h.length > 7) return h.slice(7);
  const m = /^Bearer +([^\s]+) *$/i.exec(h);
  return m ? m[1] : undefined;
}

/**
 * Failed authentications per connection. Each failure on a connection delays that connection's 401
 * (`authDelayMs`, doubling with every further failure, at most `maxAuthDelayMs`); a success resets it.
 * With 256-bit tokens guessing is hopeless anyway; the delay only slows a client that hammers, and it
 * never touches another connection (a global lockout let any local process lock everyone out).
 */
export class AuthDelay {
  private readonly failures = new WeakMap<object, number>();

  constructor(private readonly limits: Pick<LocalApiLimits, 'authDelayMs' | 'maxAuthDelayMs'>) {}

  /** Records a failure on `connection`; returns the failure count there and how long to hold the answer. */
  fail(connection: object): { failures: number; delayMs: number } {
    const failures = (this.failures.get(connection) ?? 0) + 1;
    this.failures.set(connection, failures);
    const delayMs = Math.min(this.limits.maxAuthDelayMs, this.limits.authDelayMs * 2 ** Math.min(failures - 1, 30));
    return { failures, delayMs };
  }

  succeed(connection: object): void {
    this.failures.delete(connection);
  }
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** Refuses a Host header that is not a loopback name with our port (DNS rebinding). */
export function checkHost(host: string | undefined, port: number): Refusal | undefined {
  const ok = (() => {
    if (!host) return false;
    const h = host.toLowerCase();
    const colon = h.lastIndexOf(':');
    if (colon > 0 && colon > h.lastIndexOf(']')) return h.slice(colon + 1) === String(port) && LOOPBACK_HOSTS.includes(h.slice(0, colon));
    return port === 80 && LOOPBACK_HOSTS.includes(h);
  })();
  if (ok) return undefined;
  return {
    status: 421,
    code: 'bad_host',
    message: `The Host header must be 127.0.0.1:${port}, localhost:${port} or [::1]:${port}. The local API serves only this machine.`,
  };
}

/** Refuses any request a web page could have sent: an `Origin` or `Referer` header, or a browser's cross-context `Sec-Fetch-Site`. */
export function checkOrigin(headers: IncomingHttpHeaders): Refusal | undefined {
  const site = headers['sec-fetch-site'];
  if (headers.origin !== undefined || headers.referer !== undefined || (site !== undefined && site !== 'none')) {
    return {
      status: 403,
      code: 'forbidden_origin',
      message: 'Requests from web pages are refused: the local API accepts no Origin header (no CORS). Call it from a local program.',
    };
  }
  return undefined;
}

const TOKEN_PARAMS = new Set(['token', 'access_token', 'auth', 'authorization', 'bearer', 'key', 'api_key', 'apikey', 'session', 'password']);

/** Refuses a token-like query parameter (names compared decoded), whether or not it holds the right token. */
export function checkQuery(query: string): Refusal | undefined {
  if (!query) return undefined;
  let found = false;
  for (const name of new URLSearchParams(query).keys()) if (TOKEN_PARAMS.has(name.trim().toLowerCase())) found = true;
  if (!found) return undefined;
  return {
    status: 400,
    code: 'token_in_query',
    message: 'Tokens in the URL are refused (URLs end up in logs and shell history). Send "Authorization: Bearer <token>".',
  };
}
