/** A user-facing error raised before anything is sent (the conversation is unchanged). */
export class ChatInputError extends Error {
  override readonly name = 'ChatInputError';
}

/**
 * True for a ChatInputError from either bundle (the extension bundle and the lazily loaded runtime
 * each have their own copy of this class, so `instanceof` is not enough).
 */
export function isChatInputError(err: unknown): err is ChatInputError {
  return err instanceof Error && err.name === 'ChatInputError';
}
