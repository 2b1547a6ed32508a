/** A user-facing error raised before anything is sent (the conversation is unchanged). */
export class ChatInputError extends Error {
  override readonly name = 'ChatInputError';
}
