/**
 * Idempotent mutations. Inside the mutation's transaction the key is claimed first (`INSERT … ON
 * CONFLICT DO NOTHING`: the same key sent to two nodes at once waits for the first and applies once).
 * A stored answer for (scope, key) is
 * returned unchanged (and nothing else runs) when the request hash matches, or refused with
 * `idempotency_conflict` when it does not; otherwise the mutation runs in a savepoint and its answer —
 * success or a 4xx domain error — is stored in the same transaction. Answers holding secrets are
 * stored sealed (AES-256-GCM).
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../errors';
import type { SecretBox } from '../crypto/keys';
import type { Tx } from '../db/writeQueue';

export interface IdempotencyKey {
  scope: string;
  key: string;
  /** sha256 of method, route and canonical body */
  hash: string;
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  replayed?: boolean;
}

export function requestHash(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route} ${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/** Error answers that are stored for replay (4xx from the mutation itself; never 401/429/5xx). */
function storable(err: unknown): err is ApiError {
  return err instanceof ApiError && err.httpStatus >= 400 && err.httpStatus < 500 && err.httpStatus !== 401 && err.httpStatus !== 429;
}

export async function idempotent<T>(
  tx: Tx,
  idem: IdempotencyKey | undefined,
  box: SecretBox,
  seal: boolean,
  fn: () => Reply<T> | Promise<Reply<T>>,
): Promise<Reply<T>> {
  if (!idem) return fn();
  const aad = `${idem.scope}:${idem.key}`;
  // Claim the key first: a concurrent claim on another node waits here until that one commits, then reads its answer.
  const claimed = await tx.db.get(
    "INSERT INTO idempotency (scope, key, request_hash, status, response, sealed, created_at) VALUES (?, ?, ?, 0, '', 0, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
    idem.scope,
    idem.key,
    idem.hash,
    tx.now,
  );
  if (!claimed) {
    const row = (await tx.db.get('SELECT request_hash, status, response, sealed FROM idempotency WHERE scope = ? AND key = ?', idem.scope, idem.key)) as {
      request_hash: string;
      status: number;
      response: string;
      sealed: number;
    };
    if (row.request_hash !== idem.hash) throw new ApiError('idempotency_conflict', 'this idempotency key was used for a different request');
    const text = row.sealed ? box.open(row.response, aad) : row.response;
    return { status: row.status, body: JSON.parse(text) as T, replayed: true };
  }
  let reply: Reply<T>;
  try {
    reply = await tx.savepoint(async () => fn());
  } catch (err) {
    if (!storable(err)) throw err;
    reply = { status: err.httpStatus, body: { error: err.toBody() } as T };
  }
  const text = JSON.stringify(reply.body);
  await tx.db.run(
    'UPDATE idempotency SET status = ?, response = ?, sealed = ? WHERE scope = ? AND key = ?',
    reply.status,
    seal ? box.seal(text, aad) : text,
    seal ? 1 : 0,
    idem.scope,
    idem.key,
  );
  return reply;
}

/** Throws the stored error of a replayed/recorded error answer, or returns the body of a success. */
export function unwrap<T>(reply: Reply<T>): T {
  if (reply.status >= 400) {
    const e = (reply.body as { error?: { code: ApiError['code']; message: string; details?: Record<string, unknown> } }).error;
    throw new ApiError(e?.code ?? 'internal', e?.message ?? 'error', e?.details);
  }
  return reply.body;
}
