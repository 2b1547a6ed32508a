/**
 * The local gateway API (HTTP + WebSocket on 127.0.0.1): request and response schemas, error codes,
 * WebSocket event frames and the discovery file. Shared by the listener (`src/gateway/localApi`), the
 * `multiclaw` CLI and tests, so it imports only zod.
 */
import { z } from 'zod';
import { approvalDecisionSchema, approvalRequestSchema } from './agent';
import { MAX_JSON_DEPTH } from './jsonLimits';

export const LOCAL_API_VERSION = 1 as const;
export const DEFAULT_LOCAL_API_PORT = 18789;
/** Name of the discovery file (in the gateway's storage dir): `{port, token, pid, startedAt}`, mode 0600. */
export const DISCOVERY_FILE_NAME = 'local-api.json';

export const LOCAL_API_LIMITS = {
  /** Largest request body; larger → 413 `payload_too_large`. */
  bodyBytes: 1024 * 1024,
  /** Largest WebSocket frame a client may send; larger → close 1009. */
  wsFrameBytes: 64 * 1024,
  /** Task prompts and chat messages. */
  textChars: 200_000,
  /** Deepest nesting of arrays and objects in a request body; deeper → 400 `invalid_json`, checked before parsing. */
  jsonDepth: MAX_JSON_DEPTH,
} as const;

/** Every `error.code` the API answers with. */
export const localApiErrorCodeSchema = z.enum([
  'unauthorized',
  'forbidden_origin',
  'bad_host',
  'token_in_query',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'invalid_json',
  'invalid_request',
  'agent_not_found',
  'agent_unavailable',
  'task_not_found',
  'task_finished',
  'conversation_not_found',
  'conversation_busy',
  'approval_not_found',
  'provider_error',
  'disabled',
  'gateway_not_running',
  'timeout',
  'internal',
]);
export type LocalApiErrorCode = z.infer<typeof localApiErrorCodeSchema>;

export const localApiErrorSchema = z.object({
  error: z.object({
    code: localApiErrorCodeSchema,
    message: z.string(),
    /** OpenAI-style error type, on `/v1/chat/completions` only. */
    type: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
export type LocalApiError = z.infer<typeof localApiErrorSchema>;

const agentIdSchema = z.string().min(1).max(200);
const idSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'ids are [A-Za-z0-9_-]');
const jsonObjectSchema = z.record(z.string(), z.unknown());

/**
 * Local task statuses: the workspace protocol's `taskStatusSchema` minus `assigned` and
 * `awaiting_approval`, which only a workspace produces. The same words, so the workspace can extend it.
 */
export const localTaskStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type LocalTaskStatus = z.infer<typeof localTaskStatusSchema>;
export const TERMINAL_LOCAL_TASK_STATUSES: readonly LocalTaskStatus[] = ['completed', 'failed', 'cancelled'];

export const localTaskErrorSchema = z.object({ kind: z.string().max(100), message: z.string().max(20_000) });

export const localTaskSchema = z.object({
  id: idSchema,
  title: z.string().max(500),
  prompt: z.string().max(LOCAL_API_LIMITS.textChars),
  agentId: agentIdSchema,
  context: jsonObjectSchema.nullable(),
  status: localTaskStatusSchema,
  /** The chat conversation the task runs in (null until it starts). */
  conversationId: z.string().max(100).nullable(),
  createdAt: z.string().max(40),
  updatedAt: z.string().max(40),
  startedAt: z.string().max(40).nullable(),
  finishedAt: z.string().max(40).nullable(),
  /** The agent's reply, when completed. */
  result: z.object({ text: z.string() }).nullable(),
  error: localTaskErrorSchema.nullable(),
  /** Workspace mode: the workspace task this run belongs to. */
  workspaceTaskId: idSchema.nullable().optional(),
  /** Workspace mode: `plan` proposes a plan for approval; `run` carries out the approved plan. */
  phase: z.enum(['plan', 'run']).optional(),
});
export type LocalTask = z.infer<typeof localTaskSchema>;

// ---- requests ----

export const dispatchTaskRequestSchema = z.strictObject({
  prompt: z
    .string()
    .min(1)
    .max(LOCAL_API_LIMITS.textChars)
    .refine((s) => s.trim().length > 0, 'the prompt is empty'),
  agentId: agentIdSchema,
  title: z.string().max(500).optional(),
  /** Extra context (a selection, a file reference); passed to the agent as JSON after the prompt. */
  context: jsonObjectSchema.optional(),
});
export type DispatchTaskRequest = z.infer<typeof dispatchTaskRequestSchema>;

export const listTasksQuerySchema = z.strictObject({
  status: localTaskStatusSchema.optional(),
  agentId: agentIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

export const sendMessageRequestSchema = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(LOCAL_API_LIMITS.textChars)
    .refine((s) => s.trim().length > 0, 'the message is empty'),
  /** Required for `/v1/conversations/new/messages`; otherwise the conversation's agent. */
  agentId: agentIdSchema.optional(),
});
export type SendMessageRequest = z.infer<typeof sendMessageRequestSchema>;

const openAiContentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });
export const chatCompletionMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(openAiContentPartSchema), z.null()]).optional(),
});

/** OpenAI `POST /v1/chat/completions` (the fields MultiClaw uses; others are accepted and ignored). */
export const chatCompletionRequestSchema = z.looseObject({
  /** An agent id; `multiclaw/<id>` and `agent:<id>` are accepted too. */
  model: z.string().min(1).max(300),
  messages: z.array(chatCompletionMessageSchema).min(1).max(1000),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

// ---- responses ----

export const localAgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  model: z.string(),
  available: z.boolean(),
  source: z.string(),
});
export type LocalAgent = z.infer<typeof localAgentSchema>;

export const statusResponseSchema = z.object({
  ok: z.literal(true),
  apiVersion: z.literal(LOCAL_API_VERSION),
  version: z.string(),
  host: z.enum(['vscode', 'headless']),
  state: z.string(),
  pid: z.number().int(),
  port: z.number().int(),
  uptimeMs: z.number(),
  agents: z.object({ total: z.number().int(), available: z.number().int() }),
  tasks: z.object({ queued: z.number().int(), running: z.number().int() }),
  openAiCompatibleApi: z.boolean(),
});
export type StatusResponse = z.infer<typeof statusResponseSchema>;

export const agentsResponseSchema = z.object({ agents: z.array(localAgentSchema) });
/** `GET /v1/approvals`: the agent calls waiting for a decision, oldest first. */
export const approvalsResponseSchema = z.object({ approvals: z.array(approvalRequestSchema) });
/** `POST /v1/approvals/:id`: allow or deny; `always` stores the request's suggested rule for the workspace (allow only). */
export const resolveApprovalRequestSchema = z.strictObject({ decision: z.enum(['allow', 'deny']), always: z.boolean().optional() });
export type ResolveApprovalRequest = z.infer<typeof resolveApprovalRequestSchema>;
export const resolveApprovalResponseSchema = z.object({ id: z.string(), decision: approvalDecisionSchema });
export const taskResponseSchema = z.object({ task: localTaskSchema });
export const tasksResponseSchema = z.object({ tasks: z.array(localTaskSchema) });

/** Server-sent events of `POST /v1/conversations/:id/messages` (`event: <type>`, `data: <json>`). */
export const messageStreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), conversationId: z.string(), userMessageId: z.string(), agentId: z.string() }),
  z.object({ type: z.literal('delta'), text: z.string() }),
  z.object({
    type: z.literal('done'),
    messageId: z.string(),
    status: z.enum(['complete', 'error', 'cancelled', 'interrupted', 'streaming']),
    text: z.string(),
    finishReason: z.string().optional(),
    error: z.object({ kind: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  }),
]);
export type MessageStreamEvent = z.infer<typeof messageStreamEventSchema>;

/** Frames the server pushes on `GET /v1/events` (WebSocket). `seq` increases by one per frame on a socket. */
export const localEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), seq: z.number().int(), apiVersion: z.literal(LOCAL_API_VERSION), state: z.string() }),
  z.object({ type: z.literal('gateway.state'), seq: z.number().int(), state: z.string(), error: z.string().optional() }),
  z.object({ type: z.literal('agents.changed'), seq: z.number().int() }),
  z.object({ type: z.literal('task.created'), seq: z.number().int(), task: localTaskSchema }),
  z.object({ type: z.literal('task.updated'), seq: z.number().int(), task: localTaskSchema }),
  /** Reply text of a running task, as it streams. */
  z.object({ type: z.literal('task.output'), seq: z.number().int(), taskId: z.string(), text: z.string() }),
  /** An agent call waits for a decision (answer with `POST /v1/approvals/:id`). */
  z.object({ type: z.literal('approval.requested'), seq: z.number().int(), request: approvalRequestSchema }),
  z.object({ type: z.literal('approval.resolved'), seq: z.number().int(), request: approvalRequestSchema, decision: approvalDecisionSchema }),
]);
export type LocalEvent = z.infer<typeof localEventSchema>;

export const discoveryFileSchema = z.object({
  port: z.number().int().min(1).max(65535),
  token: z.string().min(32),
  pid: z.number().int(),
  startedAt: z.string().optional(),
});
export type DiscoveryFile = z.infer<typeof discoveryFileSchema>;
