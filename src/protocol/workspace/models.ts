/**
 * Workspace protocol v1: the resources (users, workspaces, members, instances, tasks, plans,
 * agents, audit entries, configuration snapshots). REST bodies and WSS events embed these.
 */
import { z } from 'zod';
import {
  emailSchema,
  idSchema,
  instanceKindSchema,
  instanceStatusSchema,
  isoTimeSchema,
  jsonObjectSchema,
  providerSchema,
  roleSchema,
  slugSchema,
  taskStatusSchema,
} from './common';
import { keyBlobSchema } from './keyBlob';

export const userSchema = z.object({ id: idSchema, email: emailSchema, name: z.string().max(200), createdAt: isoTimeSchema });
export type User = z.infer<typeof userSchema>;

export const guardrailsSchema = z.object({
  /** Empty = every domain allowed; one entry turns enforcement on. */
  allowedDomains: z.array(z.string().min(1).max(253)).max(500),
  blockedTools: z.array(z.string().min(1).max(200)).max(500),
  /** Action types that pause the agent for human review (e.g. `send_email`, `write_file`). */
  approvalRequired: z.array(z.string().min(1).max(100)).max(100),
  maxTokenBudget: z.number().int().positive().nullable(),
  restrictedProviders: z.array(providerSchema).max(10),
});
export type Guardrails = z.infer<typeof guardrailsSchema>;

export const workspaceSummarySchema = z.object({ id: idSchema, slug: slugSchema, name: z.string().max(200), role: roleSchema });
export type WorkspaceSummary = z.infer<typeof workspaceSummarySchema>;

export const workspaceSchema = z.object({
  id: idSchema,
  slug: slugSchema,
  name: z.string().max(200),
  timezone: z.string().max(100),
  /** Workspace guardrails are a floor: agents cannot loosen them. */
  guardrails: guardrailsSchema,
  configVersion: z.number().int().nonnegative(),
  createdAt: isoTimeSchema,
  role: roleSchema.describe("the caller's role"),
});
export type Workspace = z.infer<typeof workspaceSchema>;

export const memberSchema = z.object({
  id: idSchema,
  userId: idSchema,
  name: z.string().max(200),
  /** Shown to Owners and Admins only. */
  email: emailSchema.optional(),
  role: roleSchema,
  joinedAt: isoTimeSchema,
});
export type Member = z.infer<typeof memberSchema>;

export const inviteSchema = z.object({
  id: idSchema,
  email: emailSchema.nullable(),
  role: roleSchema,
  createdAt: isoTimeSchema,
  expiresAt: isoTimeSchema,
  acceptedAt: isoTimeSchema.nullable(),
  revokedAt: isoTimeSchema.nullable(),
});
export type Invite = z.infer<typeof inviteSchema>;

/** Resource use an instance reports in its heartbeats (memory only on the server: the latest wins). */
export const instanceMetricsSchema = z.object({
  /** Whole-machine CPU use, 0..100 (all cores). */
  cpuPct: z.number().min(0).max(100),
  memUsedBytes: z.number().int().nonnegative(),
  memTotalBytes: z.number().int().nonnegative(),
  diskUsedBytes: z.number().int().nonnegative(),
  diskTotalBytes: z.number().int().nonnegative(),
  at: isoTimeSchema,
});
export type InstanceMetrics = z.infer<typeof instanceMetricsSchema>;

export const instanceSchema = z.object({
  id: idSchema,
  memberId: idSchema,
  name: z.string().max(200),
  platform: z.string().max(100),
  version: z.string().max(100),
  kind: instanceKindSchema,
  createdAt: isoTimeSchema,
  online: z.boolean(),
  lastHeartbeatAt: isoTimeSchema.nullable(),
  /** The last status the instance reported (`instance.report`). */
  status: instanceStatusSchema,
  /** Why, for `error` (and a short note for other states); null when there is nothing to say. */
  statusReason: z.string().max(500).nullable(),
  /** Where it runs, as its operator labels it (region, host), e.g. `eu-west · vm-12`. */
  label: z.string().max(200).nullable(),
  /** The latest heartbeat metrics while online; null when none arrived since the server started. */
  metrics: instanceMetricsSchema.nullable(),
});
export type Instance = z.infer<typeof instanceSchema>;

export const assigneeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('member'), memberId: idSchema }),
  z.object({ type: z.literal('instance'), instanceId: idSchema }),
]);
export type Assignee = z.infer<typeof assigneeSchema>;

export const actorSchema = z.object({ type: z.enum(['member', 'instance', 'system']), id: z.string().max(100) });
export type Actor = z.infer<typeof actorSchema>;

export const taskResultSchema = z.object({
  summary: z.string().max(20_000),
  output: z.string().max(200_000).optional(),
  error: z.string().max(20_000).optional(),
});
export type TaskResult = z.infer<typeof taskResultSchema>;

export const taskSchema = z.object({
  id: idSchema,
  workspaceId: idSchema,
  title: z.string().max(500),
  prompt: z.string().max(100_000),
  agentId: idSchema.nullable(),
  assignee: assigneeSchema.nullable(),
  context: jsonObjectSchema,
  status: taskStatusSchema,
  /** 0..1 when known. */
  progress: z.number().min(0).max(1).nullable(),
  result: taskResultSchema.nullable(),
  createdBy: actorSchema,
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
  /** Increments on every change; send it as `expectedVersion` for optimistic concurrency. */
  version: z.number().int().positive(),
});
export type Task = z.infer<typeof taskSchema>;

/** A task without its (immutable) prompt and context: what `task.updated` events carry. */
export const taskStateSchema = taskSchema.omit({ prompt: true, context: true });
export type TaskState = z.infer<typeof taskStateSchema>;

export const progressNoteSchema = z.object({
  id: z.number().int().positive(),
  ts: isoTimeSchema,
  status: taskStatusSchema,
  note: z.string().max(20_000).nullable(),
  progress: z.number().min(0).max(1).nullable(),
  actor: actorSchema,
});
export type ProgressNote = z.infer<typeof progressNoteSchema>;

export const planStepSchema = z.object({ title: z.string().min(1).max(1000), detail: z.string().max(20_000).optional() });
export const planStateSchema = z.enum(['pending', 'approved', 'rejected', 'superseded']);

export const planSchema = z.object({
  id: idSchema,
  taskId: idSchema,
  summary: z.string().max(20_000),
  steps: z.array(planStepSchema).max(200),
  state: planStateSchema,
  submittedBy: actorSchema,
  submittedAt: isoTimeSchema,
  decidedBy: actorSchema.nullable(),
  decidedAt: isoTimeSchema.nullable(),
  comment: z.string().max(20_000).nullable(),
});
export type Plan = z.infer<typeof planSchema>;

export const auditEntrySchema = z.object({
  id: z.number().int().positive(),
  ts: isoTimeSchema,
  actor: actorSchema,
  action: z
    .string()
    .max(100)
    .describe(
      'e.g. member.invited, member.removed, agent.created, task.completed, plan.approved, agent.approval.requested, agent.approval.granted, agent.approval.denied',
    ),
  resource: z.object({ type: z.string().max(50), id: z.string().max(100) }),
  details: jsonObjectSchema,
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const agentGuardrailsSchema = guardrailsSchema.partial();

export const agentSchema = z.object({
  id: idSchema,
  name: z.string().min(1).max(200),
  emoji: z.string().max(16).nullable(),
  description: z.string().max(2000).nullable(),
  provider: providerSchema,
  model: z.string().min(1).max(200),
  /** Only for `openai-compatible`. */
  baseUrl: z.string().url().max(2000).nullable(),
  systemPrompt: z.string().max(100_000),
  tools: z.array(z.string().min(1).max(200)).max(500),
  /** Tighten the workspace guardrails for this agent; never loosen them. */
  guardrails: agentGuardrailsSchema,
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
});
export type Agent = z.infer<typeof agentSchema>;

export const providerKeyInfoSchema = z.object({ provider: providerSchema, updatedAt: isoTimeSchema });
export type ProviderKeyInfo = z.infer<typeof providerKeyInfoSchema>;

export const configSnapshotSchema = z.object({
  workspaceId: idSchema,
  version: z.number().int().nonnegative(),
  guardrails: guardrailsSchema,
  agents: z.array(agentSchema),
  /**
   * Provider keys as `enc:` blobs re-encrypted for the calling instance (HKDF-SHA256 of its instance
   * secret). Present only when the caller is an instance; a provider missing here has no key (remove it).
   */
  providerKeys: z.partialRecord(providerSchema, keyBlobSchema),
});
export type ConfigSnapshot = z.infer<typeof configSnapshotSchema>;

export const iceServerSchema = z.object({
  urls: z.array(z.string().min(1).max(500)).min(1),
  /** TURN REST-API style: `<expiry unix seconds>:<user>`. */
  username: z.string().max(300),
  /** base64(HMAC-SHA1(shared secret, username)). */
  credential: z.string().max(300),
});
export const turnCredentialsSchema = z.object({ iceServers: z.array(iceServerSchema), ttlSeconds: z.number().int().positive(), expiresAt: isoTimeSchema });
export type TurnCredentials = z.infer<typeof turnCredentialsSchema>;
