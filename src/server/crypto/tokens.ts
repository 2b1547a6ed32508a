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
  scope: SessionScope;
  /** unix ms */
  iat: number;
  exp: number;
  jti: string;
}

export type VerifyResult = { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const PREFIX = 'mcs1';

export class SessionTokenSigner {
  constructor(private readonly key: Buffer) {}

  private mac(data: string): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }

  sign(claims: SessionClaims): string {
    const body = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  verify(token: string, now: number): VerifyResult {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX || token.length > 2000) return { ok: false, reason: 'malformed' };
    const sig = Buffer.from(parts[2], 'base64url');
    const expected = this.mac(`${parts[0]}.${parts[1]}`);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return { ok: false, reason: 'bad_signature' };
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (claims.v !== 1 || typeof claims.exp !== 'number' || typeof claims.wid !== 'string' || typeof claims.mid !== 'string') {
      return { ok: false, reason: 'malformed' };
    }
    if (now >= claims.exp) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }
}
