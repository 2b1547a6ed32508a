/**
 * Gateway side of the workspace `enc:` provider-key blobs (format: src/protocol/workspace/keyBlob.ts).
 * The key is HKDF-SHA256 of this instance's secret; the plaintext lives only in memory.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { KEY_BLOB_HKDF_INFO, KEY_BLOB_IV_BYTES, KEY_BLOB_TAG_BYTES, keyBlobAad, parseKeyBlob } from '../../protocol/workspace/keyBlob';

export class KeyBlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyBlobError';
  }
}

export interface KeyBlobSlot {
  workspaceId: string;
  instanceId: string;
  provider: string;
}

export function isKeyBlob(value: string): boolean {
  return parseKeyBlob(value) !== undefined;
}

/** Decrypts a blob made for this instance and slot; throws KeyBlobError (never echoing the blob) otherwise. */
export function decryptKeyBlob(blob: string, instanceSecret: string, slot: KeyBlobSlot): string {
  const parts = parseKeyBlob(blob);
  if (!parts) throw new KeyBlobError('not an enc:v1 key blob');
  const iv = Buffer.from(parts.iv, 'base64url');
  const tag = Buffer.from(parts.tag, 'base64url');
  if (iv.length !== KEY_BLOB_IV_BYTES || tag.length !== KEY_BLOB_TAG_BYTES) throw new KeyBlobError('malformed key blob');
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(instanceSecret, 'utf8'), Buffer.from(slot.instanceId, 'utf8'), Buffer.from(KEY_BLOB_HKDF_INFO), 32));
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(Buffer.from(keyBlobAad(slot.workspaceId, slot.instanceId, slot.provider)));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(parts.ciphertext, 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new KeyBlobError('key blob does not open with this instance secret');
  }
}
