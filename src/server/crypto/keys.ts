/**
 * The server master key (32 bytes) and what is derived from it: the at-rest encryption key (provider
 * keys, instance secrets, stored idempotent responses that hold secrets) and the session-token HMAC
 * key. The master key comes from MULTICLAW_SERVER_MASTER_KEY (base64 or hex) or from
 * `<data-dir>/master.key`, created on first start with mode 0600.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MASTER_KEY_ENV = 'MULTICLAW_SERVER_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  return buf.length === 32 ? buf : undefined;
}

export interface MasterKeySource {
  key: Buffer;
  source: 'env' | 'file-created' | 'file';
  /** Set when the key file had group/other permissions and was tightened to 0600. */
  fixedPermissions?: boolean;
}

export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): MasterKeySource {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv) {
    const key = decodeKey(fromEnv);
    if (!key) throw new Error(`${MASTER_KEY_ENV} must be 32 bytes, base64 or hex`);
    return { key, source: 'env' };
  }
  const file = path.join(dataDir, MASTER_KEY_FILE);
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    const key = randomBytes(32);
    fs.writeSync(fd, key.toString('base64') + '\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return { key, source: 'file-created' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let fixedPermissions = false;
  if (process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0) {
    fs.chmodSync(file, 0o600);
    fixedPermissions = true;
  }
  const key = decodeKey(fs.readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return { key, source: 'file', fixedPermissions };
}

export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.from('multiclaw-cloud'), Buffer.from(purpose), 32));
}

/** AES-256-GCM with a random 12-byte IV; `aad` binds a ciphertext to its row. Format `v1.<iv>.<ct>.<tag>` (base64url). */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${ct.toString('base64url')}.${c.getAuthTag().toString('base64url')}`;
  }

  /** Throws when the ciphertext, key or aad do not match. */
  open(sealed: string, aad: string): string {
    const [v, iv, ct, tag] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || ct === undefined || tag === undefined) throw new Error('not a sealed value');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  }
}
