/**
 * What the model has seen of each file, per conversation (a hash of the text it was shown, or wrote
 * itself), so an edit to a file that changed since then (a formatter, the user) is refused with the
 * current excerpt instead of being applied against text the model never saw.
 */
import { createHash } from 'node:crypto';

export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

export class ReadTracker {
  private readonly seen = new Map<string, Map<string, string>>();

  /** The model saw (or wrote) this text of `path` in `conversationId`. */
  saw(conversationId: string, path: string, text: string): void {
    let files = this.seen.get(conversationId);
    if (!files) this.seen.set(conversationId, (files = new Map()));
    files.set(path, textHash(text));
  }

  /** 'unseen' (never read: the exact-match rule still protects it), 'fresh', or 'stale'. */
  check(conversationId: string, path: string, text: string): 'unseen' | 'fresh' | 'stale' {
    const h = this.seen.get(conversationId)?.get(path);
    if (h === undefined) return 'unseen';
    return h === textHash(text) ? 'fresh' : 'stale';
  }

  forget(conversationId: string): void {
    this.seen.delete(conversationId);
  }
}
