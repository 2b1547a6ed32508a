/** Database rows → protocol objects. */
import type { InstanceKind, InstanceStatus, Provider, Role, TaskStatus } from '../../protocol/workspace/common';
import type {
  Actor,
  Agent,
  AuditEntry,
  Guardrails,
  Instance,
  InstanceMetrics,
  Invite,
  Member,
  Plan,
  ProgressNote,
  Task,
  User,
  Workspace,
} from '../../protocol/workspace/models';
import { jsonTooDeep } from '../../protocol/jsonLimits';
import { LIMITS } from '../../protocol/workspace/common';
import { iso, isoOrNull } from './context';

/** Stands in for a stored value nested deeper than any input may be now (stored before the limit existed). */
export const TOO_DEEP_MARKER = { _invalid: 'this value nests too deeply to be served; an Owner or Admin can delete the task' } as const;

/** A JSON object read back from storage: a row stored before the depth limit cannot break a list for everyone. */
export function storedObject(text: string): Record<string, unknown> {
  if (jsonTooDeep(text, LIMITS.jsonDepth)) return { ...TOO_DEEP_MARKER };
  return JSON.parse(text) as Record<string, unknown>;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
  failed_logins: number;
  locked_until: number;
}
export interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  timezone: string;
  guardrails: string;
  config_version: number;
  event_seq: number;
  created_at: number;
}
export interface MemberRow {
  id: string;
  workspace_id: string;
  user_id: string;
  role: Role;
  created_at: number;
  name: string;
  email: string;
}
export interface InviteRow {
  id: string;
  workspace_id: string;
  email: string | null;
  role: Role;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}
export interface InstanceRow {
  id: string;
  workspace_id: string;
  member_id: string;
  name: string;
  platform: string;
  version: string;
  kind: InstanceKind;
  created_at: number;
  last_heartbeat_at: number | null;
  status: InstanceStatus;
  status_reason: string | null;
  label: string | null;
}
export interface TaskRow {
  id: string;
  workspace_id: string;
  title: string;
  prompt: string;
  agent_id: string | null;
  assignee_type: 'member' | 'instance' | null;
  assignee_id: string | null;
  context: string;
  status: TaskStatus;
  progress: number | null;
  result: string | null;
  created_by_type: Actor['type'];
  created_by_id: string;
  created_at: number;
  updated_at: number;
  version: number;
}
export interface ProgressRow {
  id: number;
  task_id: string;
  ts: number;
  status: TaskStatus;
  note: string | null;
  progress: number | null;
  actor_type: Actor['type'];
  actor_id: string;
}
export interface PlanRow {
  id: string;
  task_id: string;
  summary: string;
  steps: string;
  state: Plan['state'];
  submitted_by_type: Actor['type'];
  submitted_by_id: string;
  submitted_at: number;
  decided_by_type: Actor['type'] | null;
  decided_by_id: string | null;
  decided_at: number | null;
  comment: string | null;
}
export interface AgentRow {
  id: string;
  workspace_id: string;
  name: string;
  emoji: string | null;
  description: string | null;
  provider: Provider;
  model: string;
  base_url: string | null;
  system_prompt: string;
  tools: string;
  guardrails: string;
  created_at: number;
  updated_at: number;
}
export interface AuditRow {
  id: number;
  ts: number;
  actor_type: Actor['type'];
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  details: string;
}

export const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, createdAt: iso(r.created_at) });

export const toWorkspace = (r: WorkspaceRow, role: Role): Workspace => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  timezone: r.timezone,
  guardrails: JSON.parse(r.guardrails) as Guardrails,
  configVersion: r.config_version,
  createdAt: iso(r.created_at),
  role,
});

export function toMember(r: MemberRow, withEmail: boolean): Member {
  const m: Member = { id: r.id, userId: r.user_id, name: r.name, role: r.role, joinedAt: iso(r.created_at) };
  if (withEmail) m.email = r.email;
  return m;
}

export const toInvite = (r: InviteRow): Invite => ({
  id: r.id,
  email: r.email,
  role: r.role,
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
  acceptedAt: isoOrNull(r.accepted_at),
  revokedAt: isoOrNull(r.revoked_at),
});

export const toInstance = (r: InstanceRow, online: boolean, metrics: InstanceMetrics | null = null): Instance => ({
  id: r.id,
  memberId: r.member_id,
  name: r.name,
  platform: r.platform,
  version: r.version,
  kind: r.kind,
  createdAt: iso(r.created_at),
  online,
  lastHeartbeatAt: isoOrNull(r.last_heartbeat_at),
  status: r.status,
  statusReason: r.status_reason,
  label: r.label,
  metrics: online ? metrics : null,
});

export const toTask = (r: TaskRow): Task => ({
  id: r.id,
  workspaceId: r.workspace_id,
  title: r.title,
  prompt: r.prompt,
  agentId: r.agent_id,
  assignee:
    r.assignee_type === 'member' && r.assignee_id
      ? { type: 'member', memberId: r.assignee_id }
      : r.assignee_type === 'instance' && r.assignee_id
        ? { type: 'instance', instanceId: r.assignee_id }
        : null,
  context: storedObject(r.context),
  status: r.status,
  progress: r.progress,
  result: r.result ? (JSON.parse(r.result) as Task['result']) : null,
  createdBy: { type: r.created_by_type, id: r.created_by_id },
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  version: r.version,
});

export const toProgress = (r: ProgressRow): ProgressNote => ({
  id: r.id,
  ts: iso(r.ts),
  status: r.status,
  note: r.note,
  progress: r.progress,
  actor: { type: r.actor_type, id: r.actor_id },
});

export const toPlan = (r: PlanRow): Plan => ({
  id: r.id,
  taskId: r.task_id,
  summary: r.summary,
  steps: JSON.parse(r.steps) as Plan['steps'],
  state: r.state,
  submittedBy: { type: r.submitted_by_type, id: r.submitted_by_id },
  submittedAt: iso(r.submitted_at),
  decidedBy: r.decided_by_type && r.decided_by_id ? { type: r.decided_by_type, id: r.decided_by_id } : null,
  decidedAt: isoOrNull(r.decided_at),
  comment: r.comment,
});

export const toAgent = (r: AgentRow): Agent => ({
  id: r.id,
  name: r.name,
  emoji: r.emoji,
  description: r.description,
  provider: r.provider,
  model: r.model,
  baseUrl: r.base_url,
  systemPrompt: r.system_prompt,
  tools: JSON.parse(r.tools) as string[],
  guardrails: JSON.parse(r.guardrails) as Agent['guardrails'],
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toAudit = (r: AuditRow): AuditEntry => ({
  id: r.id,
  ts: iso(r.ts),
  actor: { type: r.actor_type, id: r.actor_id },
  action: r.action,
  resource: { type: r.resource_type, id: r.resource_id },
  details: JSON.parse(r.details) as Record<string, unknown>,
});

export const DEFAULT_GUARDRAILS: Guardrails = { allowedDomains: [], blockedTools: [], approvalRequired: [], maxTokenBudget: null, restrictedProviders: [] };

export const MEMBER_SELECT = 'SELECT m.id, m.workspace_id, m.user_id, m.role, m.created_at, u.name, u.email FROM members m JOIN users u ON u.id = m.user_id';
