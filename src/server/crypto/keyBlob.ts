/**
 * Server side of the `enc:` provider-key blobs (format in src/protocol/workspace/keyBlob.ts): a provider
 * key is re-encrypted for one instance with AES-256-GCM under HKDF-SHA256(instance secret).
 * The gateway decrypts with src/gateway/workspace/keyBlob.ts.
 */
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { formatKeyBlob, KEY_BLOB_HKDF_INFO, KEY_BLOB_IV_BYTES, keyBlobAad, type KeyBlob } from '../../protocol/workspace/keyBlob';

export function instanceBlobKey(instanceSecret: string, instanceId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(instanceSecret, 'utf8'), Buffer.from(instanceId, 'utf8'), Buffer.from(KEY_BLOB_HKDF_INFO), 32));
}

export function sealKeyBlob(apiKey: string, instanceSecret: string, slot: { workspaceId: string; instanceId: string; provider: string }): KeyBlob {
  const iv = randomBytes(KEY_BLOB_IV_BYTES);
  const c = createCipheriv('aes-256-gcm', instanceBlobKey(instanceSecret, slot.instanceId), iv);
  c.setAAD(Buffer.from(keyBlobAad(slot.workspaceId, slot.instanceId, slot.provider)));
  const ct = Buffer.concat([c.update(apiKey, 'utf8'), c.final()]);
  return formatKeyBlob({ iv: iv.toString('base64url'), ciphertext: ct.toString('base64url'), tag: c.getAuthTag().toString('base64url') });
}
