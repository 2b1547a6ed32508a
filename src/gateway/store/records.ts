/**
 * On-disk format of a conversation: one file per conversation, `<dir>/<id>.jsonl`, append-only,
 * one JSON record per line (UTF-8, `\n`-terminated). A record only counts once its line is complete.
 *
 *   {"v":1,"t":"meta","id":"<uuid>","title":"","agentId":"a1"|null,"createdAt":<ms>,"taskId"?:"…"}   first line
 *   {"t":"user","id":"<msg>","text":"…","ts":<ms>}                    a user message          (fsync)
 *   {"t":"start","id":"<msg>","agentId":"a1","ts":<ms>}               an assistant reply begins
 *   {"t":"chunk","id":"<msg>","text":"…"}                            streamed text, batched   (no fsync)
 *   {"t":"end","id":"<msg>","status":"complete"|"error"|"cancelled","ts":<ms>,
 *          "finishReason"?:"…","usage"?:{…},"error"?:{"kind","message","retryable"}}  reply done (fsync)
 *   {"t":"title","title":"…","ts":<ms>}                               explicit title ("" = derive)  (fsync)
 *   {"t":"agent","agentId":"a2","ts":<ms>}                            the agent changed            (fsync)
 *   {"t":"remove","id":"<msg>","ts":<ms>}                             tombstone: message gone      (fsync)
 *   {"t":"fork","after":"<msg>"|null,"ts":<ms>}                       the shown branch is cut after <msg> (null:
 *                                                                    before the first message); the next message
 *                                                                    starts a new branch there, the cut ones stay
 *                                                                    as the other branch (edit, regenerate; fsync)
 *   {"t":"branch","id":"<msg>","ts":<ms>}                             show the branch that holds <msg>   (fsync)
 *   {"t":"call","id":"<msg>","call":{"id","name","arguments","providerData"?},"kind"?,"subject"?,"url"?}
 *                                                                    a tool call of reply <msg>, written with
 *                                                                    the reply's end (one fsync per round trip)
 *   {"t":"result","id":"<msg>","callId":"…","status":"done"|"error"|"denied"|"interrupted",
 *          "content":"…"(≤ 50 KiB),"durationMs":<n>,"ts":<ms>,"exitCode"?:<n>,"diffStat"?:{added,removed}}
 *                                                                    a tool call's result (no fsync: the next
 *                                                                    reply's end, or the turn's end, syncs it)
 *
 * Message ids are UUIDs, unique within the file. `updatedAt` (list order) is the newest user, start
 * or end timestamp. Writes for one conversation go through one queue (journal.ts).
 *
 * Reading folds the records in order (see replay.ts). Repairs on load, none of which loses a complete
 * valid record: a torn last line (no newline, not a whole record) is dropped and the file is truncated
 * back to the last newline before the next append; a reply with a start but no end is `interrupted`
 * with its partial text; an invalid or unknown line is skipped with a note; a damaged meta line is
 * derived from the file name and the other records; a tool call without a result (the gateway stopped
 * while it ran) is closed as `interrupted`, and the history sent to a provider gets an "interrupted"
 * result for it, so the conversation continues. Unknown fields are ignored (forward compatible).
 * The title shown is the last explicit title, else the first line of the first user message.
 * Branches (branchTree.ts): each message follows the end of the shown branch when it was written; a
 * fork that no message followed is undone on load; a fork or branch record naming a message that is
 * not there is skipped with a note. Files without them (older ones) are one branch.
 */
import { z } from 'zod';
import { toolKindSchema } from '../../protocol/agent';

export const FORMAT_VERSION = 1;

/** Conversation ids are lowercase UUIDs (crypto.randomUUID): nothing else may name a file. */
export const CONVERSATION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isConversationId(id: unknown): id is string {
  return typeof id === 'string' && CONVERSATION_ID_PATTERN.test(id);
}

export const MAX_TITLE_LENGTH = 200;
export const MAX_ERROR_KIND_LENGTH = 100;
export const MAX_ERROR_MESSAGE_LENGTH = 4000;
/** A tool result's stored content (characters); the rest is cut with a note. */
export const MAX_RESULT_CONTENT = 50 * 1024;

const messageId = z.string().min(1).max(100);
const agentId = z.string().min(1).max(200);
const ts = z.number();

export const usageSchema = z.object({
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  cachedInputTokens: z.number().optional(),
  provider: z.string().max(100).optional(),
  model: z.string().max(200).optional(),
});

export const storedErrorSchema = z.object({
  kind: z.string().max(MAX_ERROR_KIND_LENGTH),
  message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
  retryable: z.boolean(),
});

export const metaRecordSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  t: z.literal('meta'),
  id: z.string().regex(CONVERSATION_ID_PATTERN),
  title: z.string().max(MAX_TITLE_LENGTH),
  agentId: agentId.nullable(),
  createdAt: ts,
  taskId: z.string().min(1).max(200).optional(),
});

/** The most a context item's stored text holds (characters); the host truncates before, visibly. */
export const MAX_CONTEXT_ITEM_CHARS = 400_000;
export const MAX_CONTEXT_ITEMS = 50;
/** What the user attached to a message (a file, a selection…), with the text the model gets. */
export const contextItemSchema = z.object({
  kind: z.enum(['file', 'selection', 'problems', 'terminal', 'url', 'folder', 'symbol']),
  /** What the chip shows (`src/a.ts`, `src/a.ts:10-24`). */
  label: z.string().min(1).max(500),
  /** Workspace-relative path or URL. */
  ref: z.string().max(4000).optional(),
  text: z.string().max(MAX_CONTEXT_ITEM_CHARS + 200),
  tokens: z.number().int().nonnegative(),
  truncated: z.boolean(),
});
export const userRecordSchema = z.object({
  t: z.literal('user'),
  id: messageId,
  text: z.string(),
  ts,
  context: z.array(contextItemSchema).max(MAX_CONTEXT_ITEMS).optional(),
  /** `task`: sent by a task run, not typed by the user. */
  origin: z.enum(['task']).optional(),
});
export const startRecordSchema = z.object({ t: z.literal('start'), id: messageId, agentId, ts });
export const chunkRecordSchema = z.object({ t: z.literal('chunk'), id: messageId, text: z.string() });
export const endRecordSchema = z.object({
  t: z.literal('end'),
  id: messageId,
  status: z.enum(['complete', 'error', 'cancelled']),
  ts,
  finishReason: z.string().max(200).optional(),
  usage: usageSchema.optional(),
  error: storedErrorSchema.optional(),
});
export const titleRecordSchema = z.object({ t: z.literal('title'), title: z.string().max(MAX_TITLE_LENGTH), ts });
export const agentRecordSchema = z.object({ t: z.literal('agent'), agentId, ts });
export const removeRecordSchema = z.object({ t: z.literal('remove'), id: messageId, ts });
export const forkRecordSchema = z.object({ t: z.literal('fork'), after: messageId.nullable(), ts });
export const branchRecordSchema = z.object({ t: z.literal('branch'), id: messageId, ts });
export const storedToolCallSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  arguments: z.record(z.string(), z.unknown()),
  providerData: z.record(z.string(), z.unknown()).optional(),
});
export const callRecordSchema = z.object({
  t: z.literal('call'),
  id: messageId,
  call: storedToolCallSchema,
  kind: toolKindSchema.optional(),
  subject: z.string().max(2000).optional(),
  url: z.string().max(4000).optional(),
});
export const toolResultStatusSchema = z.enum(['done', 'error', 'denied', 'interrupted']);
export const resultRecordSchema = z.object({
  t: z.literal('result'),
  id: messageId,
  callId: z.string().min(1).max(200),
  status: toolResultStatusSchema,
  content: z.string().max(MAX_RESULT_CONTENT + 200),
  durationMs: z.number().nonnegative(),
  ts,
  exitCode: z.number().int().optional(),
  diffStat: z.object({ added: z.number().int().nonnegative(), removed: z.number().int().nonnegative() }).optional(),
});

export const recordSchema = z.discriminatedUnion('t', [
  metaRecordSchema,
  userRecordSchema,
  startRecordSchema,
  chunkRecordSchema,
  endRecordSchema,
  titleRecordSchema,
  agentRecordSchema,
  removeRecordSchema,
  forkRecordSchema,
  branchRecordSchema,
  callRecordSchema,
  resultRecordSchema,
]);

export type StoreRecord = z.infer<typeof recordSchema>;
export type MetaRecord = z.infer<typeof metaRecordSchema>;
export type EndRecord = z.infer<typeof endRecordSchema>;
export type RecordType = StoreRecord['t'];
export type StoredToolCall = z.infer<typeof storedToolCallSchema>;
export type CallRecord = z.infer<typeof callRecordSchema>;
export type ResultRecord = z.infer<typeof resultRecordSchema>;
export type ToolResultStatus = z.infer<typeof toolResultStatusSchema>;
export type ContextItem = z.infer<typeof contextItemSchema>;

const RECORD_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'meta',
  'user',
  'start',
  'chunk',
  'end',
  'title',
  'agent',
  'remove',
  'fork',
  'branch',
  'call',
  'result',
]);
const typeOnly = z.object({ t: z.string() });

/** Serialises one record as a line. Validates first: the writer never writes what the reader would skip. */
export function encodeRecord(record: StoreRecord): string {
  return JSON.stringify(recordSchema.parse(record)) + '\n';
}

export type ParsedLine = { ok: true; record: StoreRecord } | { ok: false; reason: string };

/** Parses one line (without its newline) into a validated record, or says why it is not one. */
export function parseRecord(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = recordSchema.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data };
  const typed = typeOnly.safeParse(value);
  if (!typed.success || !RECORD_TYPES.has(typed.data.t)) {
    return { ok: false, reason: `unknown record type ${typed.success ? JSON.stringify(typed.data.t.slice(0, 40)) : '(none)'}` };
  }
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length ? issue.path.join('.') : 'record';
  return { ok: false, reason: `invalid "${typed.data.t}" record (${where}: ${issue?.message ?? 'invalid'})` };
}
