/**
 * Workspace protocol v1: REST request and response bodies (and query strings). The route table
 * that ties them to methods and paths is `routes.ts`.
 */
import { z } from 'zod';
import {
  emailSchema,
  idSchema,
  instanceKindSchema,
  instanceStatusSchema,
  isoTimeSchema,
  lifecycleActionSchema,
  jsonObjectSchema,
  passwordSchema,
  PROTOCOL_VERSION,
  providerSchema,
  roleSchema,
  sessionScopeSchema,
  slugSchema,
  taskStatusSchema,
} from './common';
import {
  agentGuardrailsSchema,
  agentSchema,
  assigneeSchema,
  auditEntrySchema,
  guardrailsSchema,
  instanceMetricsSchema,
  instanceSchema,
  inviteSchema,
  memberSchema,
  planSchema,
  planStepSchema,
  progressNoteSchema,
  providerKeyInfoSchema,
  taskResultSchema,
  taskSchema,
  userSchema,
  workspaceSchema,
  workspaceSummarySchema,
} from './models';
import { eventSchema } from './events';

const nameSchema = z.string().min(1).max(200);
const intString = (max: number) => z.coerce.number().int().min(0).max(max);

export const okResponseSchema = z.object({ ok: z.literal(true) });
const databaseEngineSchema = z.enum(['sqlite', 'postgres']);
export const healthResponseSchema = z.object({
  ok: z.literal(true),
  protocol: z.literal(PROTOCOL_VERSION),
  version: z.string(),
  // Added with several nodes (optional for older servers):
  node: z.string().max(100).nullable().optional().describe("this node's id (PostgreSQL; null on SQLite)"),
  database: databaseEngineSchema.optional(),
  listening: z.boolean().nullable().optional().describe('whether the LISTEN connection is up (PostgreSQL; null on SQLite), as last seen'),
});
export const readyResponseSchema = z.object({
  ready: z.boolean().describe('database ok, LISTEN connection up (PostgreSQL), and not draining'),
  draining: z.boolean().describe('SIGTERM received: clients are being told to reconnect elsewhere'),
  node: z.string().max(100).nullable(),
  database: z.object({
    engine: databaseEngineSchema,
    ok: z.boolean().describe('answered `SELECT 1` within 2 s'),
    ms: z.number().nullable().describe('how long it took (null when it did not answer)'),
    error: z.string().max(200).optional(),
  }),
  listen: z
    .object({ ok: z.boolean().describe('the LISTEN connection is up'), hintsReceived: z.number().int().min(0).describe('hints from other nodes since start') })
    .nullable()
    .describe('PostgreSQL only (null on SQLite)'),
});

// --- accounts ---------------------------------------------------------------------------------
export const loginRequestSchema = z.object({ email: emailSchema, password: z.string().min(1).max(256) });
export const accountSessionSchema = z.object({ token: z.string().describe('account bearer token (mca_…)'), expiresAt: isoTimeSchema });
export const loginResponseSchema = z.object({ session: accountSessionSchema, user: userSchema, workspaces: z.array(workspaceSummarySchema) });
export const meResponseSchema = z.object({ user: userSchema, workspaces: z.array(workspaceSummarySchema) });
export const acceptInviteRequestSchema = z.object({
  token: z.string().min(10).max(200),
  /** Needed only when the caller is not signed in (a new account is created). */
  email: emailSchema.optional(),
  name: nameSchema.optional(),
  password: passwordSchema.optional(),
});
export const acceptInviteResponseSchema = z.object({
  workspace: workspaceSummarySchema,
  member: memberSchema,
  /** Present when the invite created the account: signed in right away. */
  session: accountSessionSchema.optional(),
});

// --- workspaces, members, invites ---------------------------------------------------------------
export const createWorkspaceRequestSchema = z.object({ slug: slugSchema, name: nameSchema, timezone: z.string().min(1).max(100).optional() });
export const updateWorkspaceRequestSchema = z.object({
  name: nameSchema.optional(),
  timezone: z.string().min(1).max(100).optional(),
  guardrails: guardrailsSchema.optional(),
});
export const workspaceResponseSchema = z.object({ workspace: workspaceSchema });
export const workspaceListResponseSchema = z.object({ workspaces: z.array(workspaceSummarySchema) });
export const memberListResponseSchema = z.object({ members: z.array(memberSchema) });
export const memberResponseSchema = z.object({ member: memberSchema });
export const updateMemberRequestSchema = z.object({ role: roleSchema });
export const createInviteRequestSchema = z.object({ email: emailSchema.optional(), role: roleSchema });
export const createInviteResponseSchema = z.object({ invite: inviteSchema, token: z.string().describe('shown once (mcinv_…)') });
export const inviteListResponseSchema = z.object({ invites: z.array(inviteSchema) });

// --- instances and session tokens -------------------------------------------------------------
export const registerInstanceRequestSchema = z.object({
  name: nameSchema,
  platform: z.string().min(1).max(100),
  version: z.string().min(1).max(100),
  kind: instanceKindSchema.default('gateway'),
});
export const registerInstanceResponseSchema = z.object({
  instance: instanceSchema,
  /** Shown once. Keys for this instance are derived from it (HKDF-SHA256); keep it in SecretStorage. */
  instanceSecret: z.string(),
  /** Long-lived workspace auth token (mcw_…); revoked by removing the member or deleting the instance. */
  workspaceToken: z.string(),
});
export const instanceListResponseSchema = z.object({ instances: z.array(instanceSchema) });
export const instanceHeartbeatRequestSchema = z.object({
  status: z.enum(['idle', 'busy']).optional(),
  activeTasks: z.number().int().min(0).max(100_000).optional(),
  metrics: instanceMetricsSchema.optional(),
});
/** What an instance reports about itself (WSS `instance.report`). */
export const instanceReportRequestSchema = z.object({
  status: instanceStatusSchema,
  reason: z.string().max(500).nullable().optional(),
  label: z.string().max(200).nullable().optional(),
  metrics: instanceMetricsSchema.optional(),
});
export const instanceResponseSchema = z.object({ instance: instanceSchema });
export const instanceLifecycleRequestSchema = z.object({ action: lifecycleActionSchema });
export const instanceLifecycleResponseSchema = z.object({
  instance: instanceSchema.nullable().describe('null after terminate'),
  commandId: idSchema,
  action: lifecycleActionSchema,
});
export const instanceHeartbeatResponseSchema = z.object({ serverTime: isoTimeSchema, instance: instanceSchema });
export const mintSessionTokenRequestSchema = z.object({
  /** Required with an account token; must match the bound workspace with a workspace token. */
  workspaceId: idSchema.optional(),
  /** `daemon` needs a workspace (instance) token. */
  scope: sessionScopeSchema.default('user'),
});
export const mintSessionTokenResponseSchema = z.object({
  token: z.string().describe('HMAC-SHA256 signed session token (mcs1.…), memory only'),
  scope: sessionScopeSchema,
  workspaceId: idSchema,
  expiresAt: isoTimeSchema,
  wsPath: z.string(),
});

// --- tasks ----------------------------------------------------------------------------------
export const createTaskRequestSchema = z.object({
  title: z.string().min(1).max(500),
  prompt: z.string().max(100_000),
  agentId: idSchema.optional(),
  assignee: assigneeSchema.optional(),
  context: jsonObjectSchema.optional(),
});
export const taskListQuerySchema = z.object({
  /** Comma-separated statuses. */
  status: z.string().max(200).optional(),
  assigneeMemberId: idSchema.optional(),
  assigneeInstanceId: idSchema.optional(),
  agentId: idSchema.optional(),
  limit: intString(500).optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
});
export const taskListResponseSchema = z.object({ tasks: z.array(taskSchema), nextCursor: z.string().nullable() });
export const taskResponseSchema = z.object({ task: taskSchema });
export const taskDetailResponseSchema = z.object({ task: taskSchema, progress: z.array(progressNoteSchema), plans: z.array(planSchema) });
export const assignTaskRequestSchema = z.object({ assignee: assigneeSchema.nullable(), expectedVersion: z.number().int().positive().optional() });
/** An agent's tool call that needed a human: asked (the task waits), then granted or denied. The server writes `agent.approval.<event>` to the audit trail. */
export const agentApprovalReportSchema = z.object({
  event: z.enum(['requested', 'granted', 'denied']),
  /** The tool (`run_command`, `edit_file`…) and what the call would do (`Run npm test`). */
  tool: z.string().min(1).max(200),
  title: z.string().max(2000),
  /** Why it asked (a guardrail, a protected path, a command not in the allow list). */
  reason: z.string().max(2000).optional(),
  /** Who decided: `chat`, `local-api`, `cli`, `notification`, `stop`. */
  via: z.string().max(50).optional(),
  /** "Always allow" stored a standing rule on that machine. */
  always: z.boolean().optional(),
});
export const taskStatusRequestSchema = z.object({
  status: taskStatusSchema,
  note: z.string().max(20_000).optional(),
  progress: z.number().min(0).max(1).optional(),
  result: taskResultSchema.optional(),
  expectedVersion: z.number().int().positive().optional(),
  /** Set when the update reports an agent approval (mid-task: `awaiting_approval`, then back to `running`). */
  approval: agentApprovalReportSchema.optional(),
});
export const submitPlanRequestSchema = z.object({ summary: z.string().max(20_000), steps: z.array(planStepSchema).min(1).max(200) });
export const planResponseSchema = z.object({ task: taskSchema, plan: planSchema });
export const planDecisionRequestSchema = z.object({ decision: z.enum(['approved', 'rejected']), comment: z.string().max(20_000).optional() });
export const auditQuerySchema = z.object({
  since: isoTimeSchema.optional(),
  until: isoTimeSchema.optional(),
  actorId: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  limit: intString(1000).optional(),
  cursor: z.string().max(200).optional(),
});
export const auditListResponseSchema = z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() });

// --- agents, provider keys, config, TURN ---------------------------------------------------------
export const createAgentRequestSchema = z.object({
  name: nameSchema,
  emoji: z.string().max(16).optional(),
  description: z.string().max(2000).optional(),
  provider: providerSchema,
  model: z.string().min(1).max(200),
  baseUrl: z.string().url().max(2000).optional(),
  systemPrompt: z.string().max(100_000).optional(),
  tools: z.array(z.string().min(1).max(200)).max(500).optional(),
  guardrails: agentGuardrailsSchema.optional(),
});
export const updateAgentRequestSchema = createAgentRequestSchema.partial();
export const agentResponseSchema = z.object({ agent: agentSchema, configVersion: z.number().int().nonnegative() });
export const agentListResponseSchema = z.object({ agents: z.array(agentSchema), configVersion: z.number().int().nonnegative() });
export const setProviderKeyRequestSchema = z.object({ apiKey: z.string().min(1).max(4000) });
export const providerKeyResponseSchema = z.object({ key: providerKeyInfoSchema, configVersion: z.number().int().nonnegative() });
export const providerKeyListResponseSchema = z.object({ keys: z.array(providerKeyInfoSchema) });
export const configVersionResponseSchema = z.object({ configVersion: z.number().int().nonnegative() });

// --- events (REST fallback for resume) -------------------------------------------------------------
export const eventsQuerySchema = z.object({ after: intString(Number.MAX_SAFE_INTEGER).optional(), limit: intString(1000).optional() });
export const eventsResponseSchema = z.object({
  events: z.array(eventSchema),
  headSeq: z.number().int().nonnegative(),
  /** True when events after `after` were pruned: refetch state instead of replaying. */
  gap: z.boolean(),
});
