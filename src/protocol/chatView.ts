/**
 * The chat webview's typed message protocol (host <-> webview), checked with zod at the host boundary.
 * Envelope: requests with typed replies, notifications each way. Methods are `scope/method`.
 * Only incremental changes cross after the ready handshake: the host never re-sends the transcript.
 */
import { z } from 'zod';
import { approvalDecisionSchema, fileChangeSchema, toolCallViewSchema } from './agent';
import { PROVIDER_IDS } from './providerIds';

export const providerIdSchema = z.enum(PROVIDER_IDS);

/** The longest message `chat/send` carries; the composer says so before sending anything longer. */
export const MAX_CHAT_MESSAGE_CHARS = 200_000;

export const agentInfoSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  provider: providerIdSchema,
  model: z.string().min(1).max(200),
  /** false when its provider has no key / base URL: shown disabled with a hint. */
  available: z.boolean(),
  source: z.enum(['settings', 'default', 'workspace']),
});
export type AgentInfo = z.infer<typeof agentInfoSchema>;

export const messageStatusSchema = z.enum(['complete', 'streaming', 'interrupted', 'error', 'cancelled']);

export const chatErrorSchema = z.object({
  kind: z.string().max(100),
  message: z.string().max(4000),
  retryable: z.boolean(),
});
export type ChatError = z.infer<typeof chatErrorSchema>;

/** Rates in USD per 1M tokens, and where they came from (the built-in table, the user's setting, a local model). */
export const modelPriceSchema = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
  source: z.enum(['builtin', 'settings', 'local']),
});

/** A reply's token usage (the provider's usage fields) and, when its model has a price, its cost. */
export const messageUsageSchema = z.object({
  /** Prompt tokens, cached ones included. */
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  /** Prompt tokens served from the provider's cache (part of inputTokens). */
  cachedInputTokens: z.number().optional(),
  /** USD; absent when the model has no known price (tokens only are shown). */
  costUsd: z.number().nonnegative().optional(),
  /** The model that answered and the rates the cost used (the meta line's tooltip). */
  model: z.string().max(200).optional(),
  price: modelPriceSchema.optional(),
});
export type MessageUsage = z.infer<typeof messageUsageSchema>;

/** A conversation's totals, and the token budget of its agent when a guardrail sets one. */
export const conversationUsageSchema = z.object({
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  cachedInputTokens: z.number().nonnegative(),
  /** The sum over replies with a known cost. */
  costUsd: z.number().nonnegative(),
  /** Some reply's cost is unknown: costUsd is a lower bound. */
  costUnknown: z.boolean(),
  /** Tokens counted against the guardrail `maxTokenBudget` (every prompt and reply) and its limit. */
  budget: z.object({ used: z.number().nonnegative(), limit: z.number().positive() }).optional(),
});
export type ConversationUsage = z.infer<typeof conversationUsageSchema>;
/** An attachment as a user message shows it (the text stays on the host). */
export const contextChipSchema = z.object({
  kind: z.enum(['file', 'selection', 'problems', 'terminal', 'url', 'folder', 'symbol']),
  label: z.string().max(500),
  tokens: z.number().int().nonnegative(),
  truncated: z.boolean(),
});
export type ContextChip = z.infer<typeof contextChipSchema>;

/** The active editor as the composer offers it: attached by default unless `needsPick` says why not. */
export const activeContextSchema = contextChipSchema.extend({
  kind: z.enum(['file', 'selection']),
  /** The document (`file:` or `untitled:`) and the selected lines (1-based, inclusive); sent back with `chat/send`. */
  uri: z.string().max(4000),
  range: z.object({ start: z.number().int().positive(), end: z.number().int().positive() }).optional(),
  /** Why it is not attached on its own (ignored by .gitignore, protected): the user must click it. */
  needsPick: z.string().max(300).optional(),
});
export type ActiveContext = z.infer<typeof activeContextSchema>;

/** A rules file (or the team's rules) as the chat lists them under "Using rules". */
export const ruleInfoSchema = z.object({
  id: z.string().min(1).max(600),
  name: z.string().max(600),
  source: z.enum(['workspace', 'team']),
  enabled: z.boolean(),
  locked: z.boolean(),
  tokens: z.number().int().nonnegative(),
  truncated: z.boolean(),
  reason: z.string().max(300).optional(),
});
export type RuleInfo = z.infer<typeof ruleInfoSchema>;

export const chatMessageSchema = z.object({
  id: z.string().min(1).max(100),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  ts: z.number(),
  status: messageStatusSchema,
  agentId: z.string().optional(),
  finishReason: z.string().optional(),
  usage: messageUsageSchema.optional(),
  error: chatErrorSchema.optional(),
  /** The tool calls this assistant message made (cards under its text), in call order. */
  toolCalls: z.array(toolCallViewSchema).max(500).optional(),
  /** What the user attached (user messages). */
  context: z.array(contextChipSchema).max(50).optional(),
  /** An edited message or a regenerated reply: which of its versions this is (the ‹ 1/2 › switcher). */
  branch: z.object({ index: z.number().int().positive(), count: z.number().int().min(2) }).optional(),
  /** `task`: a task's prompt, shown as a task event rather than as the user's message. */
  origin: z.enum(['task']).optional(),
});
export type ChatViewMessage = z.infer<typeof chatMessageSchema>;

export const conversationInfoSchema = z.object({
  id: z.string().nullable(),
  title: z.string(),
  agentId: z.string().nullable(),
  /** The agent picker locks after the first message. */
  locked: z.boolean(),
  messageCount: z.number().int().nonnegative(),
  /** Tokens and cost so far (absent for a new conversation); `chat/usage` updates it. */
  usage: conversationUsageSchema.optional(),
});
export type ConversationInfo = z.infer<typeof conversationInfoSchema>;

export const chatStateSchema = z.object({
  agents: z.array(agentInfoSchema),
  selectedAgentId: z.string().nullable(),
  conversation: conversationInfoSchema,
  /** The newest messages only (a page); older ones come through `chat/loadOlder`. */
  messages: z.array(chatMessageSchema),
  /** Index in the conversation of messages[0] (0 = nothing older to load). */
  firstIndex: z.number().int().nonnegative(),
  busy: z.boolean(),
  gatewayState: z.enum(['stopped', 'starting', 'running', 'error']),
  /** Files the agent changed in this conversation that are not kept or undone yet (the changes bar). */
  changes: z.array(fileChangeSchema).max(10_000).optional(),
});
export type ChatState = z.infer<typeof chatStateSchema>;

export const linkMetaSchema = z.object({
  url: z.string().max(2000),
  title: z.string().max(300).optional(),
  favicon: z
    .string()
    .max(100_000)
    .regex(/^data:image\/(?:png|x-icon|vnd\.microsoft\.icon|gif|jpeg|webp);base64,[A-Za-z0-9+/]+=*$/)
    .optional(),
});
export type LinkMeta = z.infer<typeof linkMetaSchema>;

/* ---------- webview -> host ---------- */

export const chatRequestSchemas = {
  'chat/ready': z.object({}),
  'chat/loadOlder': z.object({ beforeIndex: z.number().int().nonnegative(), limit: z.number().int().min(1).max(500) }),
} as const;

export const chatRequestResults = {
  'chat/ready': chatStateSchema,
  'chat/loadOlder': z.object({ messages: z.array(chatMessageSchema), firstIndex: z.number().int().nonnegative() }),
} as const;

export const chatCommandSchemas = {
  'chat/send': z.object({
    text: z.string().min(1).max(MAX_CHAT_MESSAGE_CHARS),
    agentId: z.string().min(1).max(200),
    /** The active-editor chip the composer showed, when the user left it attached (or picked it). */
    attachActive: activeContextSchema.pick({ uri: true, range: true }).optional(),
    /** `/plan`: read-only tools, no actions. */
    mode: z.literal('plan').optional(),
    /** `/fix`: the host attaches the Problems (diagnostics) of `attachActive` as a context item. */
    problems: z.boolean().optional(),
  }),
  'chat/stop': z.object({}),
  'chat/retry': z.object({ messageId: z.string().min(1).max(100) }),
  'chat/newConversation': z.object({}),
  'chat/selectAgent': z.object({ agentId: z.string().min(1).max(200) }),
  'chat/copy': z.object({ text: z.string().max(1_000_000) }),
  'chat/insertAtCursor': z.object({ text: z.string().max(1_000_000) }),
  'chat/openLink': z.object({ url: z.string().url().max(4000) }),
  /** `provider` preselects the provider of Set Provider API Key (the error card of a rejected key). */
  'chat/command': z.object({ command: z.enum(['setProviderKey', 'openLogs', 'openSettings', 'startGateway']), provider: providerIdSchema.optional() }),
  /** Asks for link titles / favicons of URLs shown in finished messages (answered by `chat/linkMeta` notifications). */
  'chat/linkMeta': z.object({ urls: z.array(z.string().url().max(2000)).min(1).max(20) }),
  /** The user's answer on a tool card (Allow / Deny / Always allow the suggested rule). */
  'chat/approve': z.object({
    approvalId: z.string().min(1).max(100),
    decision: approvalDecisionSchema.shape.decision,
    always: z.boolean().optional(),
  }),
  /** Keep / Undo one file the agent changed, or all of this conversation's; open one file's diff. */
  'chat/keepFile': z.object({ path: z.string().min(1).max(4000) }),
  'chat/undoFile': z.object({ path: z.string().min(1).max(4000) }),
  'chat/keepAll': z.object({}),
  'chat/undoAll': z.object({}),
  'chat/openDiff': z.object({ path: z.string().min(1).max(4000) }),
  /** Switch a rules file on or off for this workspace; open one in the editor. */
  'chat/setRuleEnabled': z.object({ id: z.string().min(1).max(600), enabled: z.boolean() }),
  'chat/openRule': z.object({ id: z.string().min(1).max(600) }),
  /** Restore every file the agent touched since this message to its state before it. */
  'chat/revertTo': z.object({ messageId: z.string().min(1).max(100) }),
  /** Replace the last reply (its last message) with a new one; the old one stays as another version. */
  'chat/regenerate': z.object({ messageId: z.string().min(1).max(100) }),
  /** Send `text` in place of a sent message: the conversation forks there, the old branch stays. */
  'chat/edit': z.object({ messageId: z.string().min(1).max(100), text: z.string().min(1).max(MAX_CHAT_MESSAGE_CHARS) }),
  /** Show the previous (-1) or next (1) version of an edited message or regenerated reply. */
  'chat/switchBranch': z.object({ messageId: z.string().min(1).max(100), offset: z.union([z.literal(-1), z.literal(1)]) }),
} as const;

/* ---------- host -> webview ---------- */

export const chatNotificationSchemas = {
  /** Full state: only after ready, on conversation switch, or New conversation. */
  'chat/reset': chatStateSchema,
  'chat/agents': z.object({ agents: z.array(agentInfoSchema), selectedAgentId: z.string().nullable() }),
  'chat/conversation': conversationInfoSchema,
  'chat/messageAdded': chatMessageSchema,
  /** Appends text to a streaming message. */
  'chat/delta': z.object({ messageId: z.string(), text: z.string() }),
  'chat/messageUpdated': z.object({
    messageId: z.string(),
    status: messageStatusSchema,
    finishReason: z.string().optional(),
    usage: chatMessageSchema.shape.usage,
    error: chatErrorSchema.optional(),
  }),
  'chat/messageRemoved': z.object({ messageId: z.string() }),
  'chat/busy': z.object({ busy: z.boolean() }),
  'chat/gateway': z.object({ state: z.enum(['stopped', 'starting', 'running', 'error']) }),
  /** Ask the webview to focus the input (e.g. after the Chat: Focus command). */
  'chat/focusInput': z.object({}),
  /** A link's page title and/or favicon (a data: URI; the webview loads nothing from the network). */
  'chat/linkMeta': linkMetaSchema,
  /** One tool call changed (streamed arguments, approval asked, running, result): upsert its card. */
  'chat/toolCall': z.object({ call: toolCallViewSchema }),
  /** The files pending review in this conversation (replaces the previous list). */
  'chat/changes': z.object({ files: z.array(fileChangeSchema).max(10_000) }),
  /** A reply finished: the conversation's new totals (and budget). */
  'chat/usage': z.object({ conversationId: z.string(), usage: conversationUsageSchema }),
  /** What the next message takes along: the active editor's chip (null: none) and the rules in use. */
  'chat/context': z.object({
    active: activeContextSchema.nullable(),
    rules: z.array(ruleInfoSchema).max(100),
    /** The enabled skills' names, offered as slash commands. */
    skills: z.array(z.string().min(1).max(200)).max(500).optional(),
  }),
  /** The host did not send the last `chat/send`: the composer puts the text back and shows why. */
  'chat/sendRefused': z.object({ reason: z.string().max(2000) }),
} as const;

export type ChatRequestMethod = keyof typeof chatRequestSchemas;
export type ChatCommandMethod = keyof typeof chatCommandSchemas;
export type ChatNotificationMethod = keyof typeof chatNotificationSchemas;

/* ---------- envelope ---------- */

export const webviewToHostSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('request'), id: z.number().int(), method: z.string().max(100), params: z.unknown() }),
  z.object({ kind: z.literal('command'), method: z.string().max(100), params: z.unknown() }),
]);
export type WebviewToHost = z.infer<typeof webviewToHostSchema>;

export const hostToWebviewSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('response'), id: z.number().int(), result: z.unknown().optional(), error: z.string().optional() }),
  z.object({ kind: z.literal('notification'), method: z.string(), params: z.unknown() }),
]);
export type HostToWebview = z.infer<typeof hostToWebviewSchema>;

export type ChatRequestParams<M extends ChatRequestMethod> = z.infer<(typeof chatRequestSchemas)[M]>;
export type ChatRequestResult<M extends ChatRequestMethod> = z.infer<(typeof chatRequestResults)[M]>;
export type ChatCommandParams<M extends ChatCommandMethod> = z.infer<(typeof chatCommandSchemas)[M]>;
export type ChatNotificationParams<M extends ChatNotificationMethod> = z.infer<(typeof chatNotificationSchemas)[M]>;
