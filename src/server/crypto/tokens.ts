/**
 * Credentials this server issues.
 * - Opaque bearer tokens (`mca_` account, `mcw_` workspace/instance, `mcinv_` invite) and instance
 *   secrets (`mcis_`): 256 random bits; only their SHA-256 is stored (secrets: sealed, see keys.ts).
 * - Session tokens for WSS: `mcs1.<claims>.<sig>`, claims JSON in base64url, signature
 *   HMAC-SHA256 over `mcs1.<claims>` with a key derived from the master key. Verified in constant
 *   time; every connect also re-checks that the member (and instance) still exist.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionScope } from '../../protocol/workspace/common';

export type OpaquePrefix = 'mca' | 'mcw' | 'mcinv' | 'mcis';

export function newOpaqueToken(prefix: OpaquePrefix): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

export interface SessionClaims {
  v: 1;
  /** workspace id */
  wid: string;
  uid: string;
  mid: string;
  iid: string | null;
  /** The sign-in (account token) it was minted under; logout ends it. Absent when minted with a workspace token. */
  sid?: string;
  scope: SessionScope;
  /** unix ms */
  iat: number;
  exp: number;
  jti: string;
}

export type VerifyResult = { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const PREFIX = 'mcs1';
/** `mcs1.<claims>.<sig>`, both parts base64url without padding (a 32-byte MAC is 43 characters). */
const TOKEN_SHAPE = /^mcs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

export class SessionTokenSigner {
  constructor(private readonly key: Buffer) {}

  private mac(data: string): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }

  sign(claims: SessionClaims): string {
    const body = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /**
   * Verifies in constant time against the canonical encoding only: base64url without padding, every
   * character significant (a lenient decoder also accepts appended `==` or `!!`, or another last
   * character with the same leading bits — all refused here).
   */
  verify(token: string, now: number): VerifyResult {
    if (token.length > 2000 || !TOKEN_SHAPE.test(token)) return { ok: false, reason: 'malformed' };
    const parts = token.split('.');
    const expected = Buffer.from(this.mac(`${parts[0]}.${parts[1]}`).toString('base64url'));
    const sig = Buffer.from(parts[2]);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return { ok: false, reason: 'bad_signature' };
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (
      typeof claims !== 'object' ||
      claims === null ||
      claims.v !== 1 ||
      typeof claims.exp !== 'number' ||
      typeof claims.wid !== 'string' ||
      typeof claims.mid !== 'string' ||
      typeof claims.uid !== 'string' ||
      (claims.sid !== undefined && typeof claims.sid !== 'string')
    ) {
      return { ok: false, reason: 'malformed' };
    }
    if (now >= claims.exp) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }
}
