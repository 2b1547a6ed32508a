/**
 * The `enc:` provider-key blob format, shared by the server (which encrypts) and the gateway (which
 * decrypts in memory, `src/gateway/workspace/keyBlob.ts`). Crypto lives on each side (node:crypto); this
 * file holds only the format so both agree:
 *
 *   enc:v1.<iv>.<ciphertext>.<tag>       (each part base64url, no padding)
 *
 * - cipher: AES-256-GCM, 12-byte IV, 16-byte tag
 * - key: HKDF-SHA256(ikm = instance secret (UTF-8), salt = instance id (UTF-8), info = KEY_BLOB_HKDF_INFO, 32 bytes)
 * - additional authenticated data: `<workspaceId>:<instanceId>:<provider>` (KEY_BLOB_AAD), so a blob
 *   only opens for the slot it was made for.
 */
import { z } from 'zod';

export const KEY_BLOB_PREFIX = 'enc:';
export const KEY_BLOB_VERSION = 'v1';
export const KEY_BLOB_HKDF_INFO = 'multiclaw-cloud/v1/provider-key-blob';
export const KEY_BLOB_IV_BYTES = 12;
export const KEY_BLOB_TAG_BYTES = 16;

const B64URL = '[A-Za-z0-9_-]+';
const BLOB_RE = new RegExp(`^enc:v1\\.(${B64URL})\\.(${B64URL})\\.(${B64URL})$`);

export const keyBlobSchema = z.string().max(20_000).regex(BLOB_RE, 'an enc:v1 key blob');
export type KeyBlob = z.infer<typeof keyBlobSchema>;

export interface KeyBlobParts {
  /** base64url strings */
  iv: string;
  ciphertext: string;
  tag: string;
}

export function formatKeyBlob(parts: KeyBlobParts): KeyBlob {
  return `${KEY_BLOB_PREFIX}${KEY_BLOB_VERSION}.${parts.iv}.${parts.ciphertext}.${parts.tag}`;
}

/** Splits a blob into its parts; undefined when it is not a well-formed v1 blob. */
export function parseKeyBlob(blob: string): KeyBlobParts | undefined {
  const m = BLOB_RE.exec(blob);
  if (!m) return undefined;
  return { iv: m[1], ciphertext: m[2], tag: m[3] };
}

export function keyBlobAad(workspaceId: string, instanceId: string, provider: string): string {
  return `${workspaceId}:${instanceId}:${provider}`;
}
