/** Records as Conversation writes them: an end record with its fields cleaned and capped, a capped tool result. */
import type { AssistantEnd, StoredUsage } from './model';
import { type EndRecord, MAX_ERROR_KIND_LENGTH, MAX_ERROR_MESSAGE_LENGTH, MAX_RESULT_CONTENT } from './records';

function cleanUsage(usage: StoredUsage): StoredUsage {
  const out: StoredUsage = {};
  if (Number.isFinite(usage.inputTokens)) out.inputTokens = usage.inputTokens;
  if (Number.isFinite(usage.outputTokens)) out.outputTokens = usage.outputTokens;
  if (Number.isFinite(usage.cachedInputTokens)) out.cachedInputTokens = usage.cachedInputTokens;
  if (usage.provider && usage.provider.length <= 100) out.provider = usage.provider;
  if (usage.model && usage.model.length <= 200) out.model = usage.model;
  return out;
}

/** The end record of reply `messageId`: finish reason, usage and error within the format's limits. */
export function endRecord(messageId: string, end: AssistantEnd, ts: number): EndRecord {
  const record: EndRecord = { t: 'end', id: messageId, status: end.status, ts };
  if (end.finishReason !== undefined) record.finishReason = end.finishReason.slice(0, 200);
  if (end.usage) record.usage = cleanUsage(end.usage);
  if (end.error) {
    record.error = {
      kind: end.error.kind.slice(0, MAX_ERROR_KIND_LENGTH),
      message: end.error.message.slice(0, MAX_ERROR_MESSAGE_LENGTH),
      retryable: end.error.retryable,
    };
  }
  return record;
}

/** A tool result's stored content: at most MAX_RESULT_CONTENT characters, with a note when cut. */
export function capResult(content: string): string {
  return content.length > MAX_RESULT_CONTENT ? `${content.slice(0, MAX_RESULT_CONTENT)}\n… (cut: ${content.length} characters in all)` : content;
}
