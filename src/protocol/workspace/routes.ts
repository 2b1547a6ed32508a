/**
 * Workspace protocol v1: the REST route table. The server registers one handler per entry and
 * validates bodies and queries with these schemas; `docs/protocol.md` is generated from it.
 *
 * Credentials (`Authorization: Bearer …`):
 * - `none`: no token.
 * - `account`: an account token (mca_…, from sign-in).
 * - `any`: an account token, or a workspace token (mcw_…, from instance registration; bound to one
 *   workspace and one instance, acting with its member's role).
 * - `instance`: a workspace token only.
 * `mutation: true` routes need an `Idempotency-Key` header; a replay returns the stored answer with
 * `Idempotency-Replayed: true` and changes nothing.
 */
import type { z } from 'zod';
import type { Permission } from './common';
import { configSnapshotSchema, turnCredentialsSchema } from './models';
import * as r from './rest';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  auth: 'none' | 'account' | 'any' | 'instance';
  permission?: Permission;
  mutation: boolean;
  body?: z.ZodType;
  query?: z.ZodType;
  response: z.ZodType;
  /** HTTP status on success (default 200). */
  status?: number;
  description: string;
}

const W = '/v1/workspaces/{wid}';

export const ROUTES = {
  'health': { method: 'GET', path: '/v1/health', auth: 'none', mutation: false, response: r.healthResponseSchema, description: 'Liveness and protocol version.' },
  'auth.login': {
    method: 'POST', path: '/v1/auth/login', auth: 'none', mutation: false, body: r.loginRequestSchema, response: r.loginResponseSchema,
    description: 'Sign in with email and password. Rate limited per client address; the account locks after repeated failures (423 `account_locked`).',
  },
  'auth.logout': { method: 'POST', path: '/v1/auth/logout', auth: 'account', mutation: false, response: r.okResponseSchema, description: 'Revoke the presented account token.' },
  'me': { method: 'GET', path: '/v1/me', auth: 'account', mutation: false, response: r.meResponseSchema, description: 'The signed-in user and their workspaces.' },
  'invites.accept': {
    method: 'POST', path: '/v1/invites/accept', auth: 'none', mutation: false, body: r.acceptInviteRequestSchema, response: r.acceptInviteResponseSchema,
    description: 'Join a workspace with an invite token. Signed in (account token): joins as that user. Otherwise email+name+password create the account. Rate limited.',
  },
  'sessionTokens.mint': {
    method: 'POST', path: '/v1/session-tokens', auth: 'any', mutation: false, body: r.mintSessionTokenRequestSchema, response: r.mintSessionTokenResponseSchema,
    description: 'Mint a WSS session token (HMAC-SHA256; user 4 h, daemon 24 h). `daemon` needs a workspace token.',
  },
  'instance.heartbeat': {
    method: 'POST', path: '/v1/instance/heartbeat', auth: 'instance', mutation: false, body: r.instanceHeartbeatRequestSchema, response: r.instanceHeartbeatResponseSchema,
    description: 'REST heartbeat of the calling instance (the WSS heartbeat frame does the same).',
  },
  'workspaces.create': {
    method: 'POST', path: '/v1/workspaces', auth: 'account', mutation: true, body: r.createWorkspaceRequestSchema, response: r.workspaceResponseSchema, status: 201,
    description: 'Create a workspace; the caller becomes its Owner. Slugs are unique and cannot change.',
  },
  'workspaces.list': { method: 'GET', path: '/v1/workspaces', auth: 'account', mutation: false, response: r.workspaceListResponseSchema, description: "The caller's workspaces." },
  'workspaces.get': { method: 'GET', path: W, auth: 'any', permission: 'workspace.read', mutation: false, response: r.workspaceResponseSchema, description: 'One workspace.' },
  'workspaces.update': {
    method: 'PATCH', path: W, auth: 'any', permission: 'settings.manage', mutation: true, body: r.updateWorkspaceRequestSchema, response: r.workspaceResponseSchema,
    description: 'Name, timezone, default guardrails (a guardrails change bumps the config version).',
  },
  'workspaces.delete': { method: 'DELETE', path: W, auth: 'account', permission: 'workspace.delete', mutation: true, response: r.okResponseSchema, description: 'Delete the workspace (Owner only). Every socket closes 4403.' },
  'members.list': { method: 'GET', path: `${W}/members`, auth: 'any', permission: 'workspace.read', mutation: false, response: r.memberListResponseSchema, description: 'Members (emails only for Owner/Admin).' },
  'members.update': {
    method: 'PATCH', path: `${W}/members/{mid}`, auth: 'account', permission: 'members.manage', mutation: true, body: r.updateMemberRequestSchema, response: r.memberResponseSchema,
    description: 'Change a role (immediate). Only an Owner grants or removes Owner; the last Owner cannot be demoted.',
  },
  'members.remove': {
    method: 'DELETE', path: `${W}/members/{mid}`, auth: 'account', permission: 'members.manage', mutation: true, response: r.okResponseSchema,
    description: "Remove a member: revokes all of the member's workspace tokens and instances at once and closes their sockets (4403). Past outputs stay.",
  },
  'invites.create': {
    method: 'POST', path: `${W}/invites`, auth: 'account', permission: 'members.manage', mutation: true, body: r.createInviteRequestSchema, response: r.createInviteResponseSchema, status: 201,
    description: 'Invite someone (7 days). Only an Owner invites an Owner.',
  },
  'invites.list': { method: 'GET', path: `${W}/invites`, auth: 'account', permission: 'members.manage', mutation: false, response: r.inviteListResponseSchema, description: 'Pending and past invites.' },
  'invites.revoke': { method: 'DELETE', path: `${W}/invites/{iid}`, auth: 'account', permission: 'members.manage', mutation: true, response: r.okResponseSchema, description: 'Revoke an invite.' },
  'instances.register': {
    method: 'POST', path: `${W}/instances`, auth: 'account', permission: 'agents.use', mutation: true, body: r.registerInstanceRequestSchema, response: r.registerInstanceResponseSchema, status: 201,
    description: 'Register a gateway or cloud desktop: returns the instance id, the instance secret and a long-lived workspace token (all shown once).',
  },
  'instances.list': { method: 'GET', path: `${W}/instances`, auth: 'any', permission: 'workspace.read', mutation: false, response: r.instanceListResponseSchema, description: 'Instances with presence.' },
  'instances.remove': {
    method: 'DELETE', path: `${W}/instances/{iid}`, auth: 'any', permission: 'agents.use', mutation: true, response: r.okResponseSchema,
    description: 'Delete an instance (its member, or Owner/Admin): revokes its workspace token, closes its sockets (4403).',
  },
  'tasks.create': {
    method: 'POST', path: `${W}/tasks`, auth: 'any', permission: 'agents.use', mutation: true, body: r.createTaskRequestSchema, response: r.taskResponseSchema, status: 201,
    description: 'Create a task (status `queued`, or `assigned` when an assignee is given).',
  },
  'tasks.list': { method: 'GET', path: `${W}/tasks`, auth: 'any', permission: 'workspace.read', mutation: false, query: r.taskListQuerySchema, response: r.taskListResponseSchema, description: 'List and filter tasks, newest first.' },
  'tasks.get': { method: 'GET', path: `${W}/tasks/{tid}`, auth: 'any', permission: 'workspace.read', mutation: false, response: r.taskDetailResponseSchema, description: 'A task with its progress notes and plans.' },
  'tasks.assign': {
    method: 'POST', path: `${W}/tasks/{tid}/assign`, auth: 'any', permission: 'agents.use', mutation: true, body: r.assignTaskRequestSchema, response: r.taskResponseSchema,
    description: 'Assign, reassign (status → `assigned`) or unassign (`null` → `queued`) a task that is not finished.',
  },
  'tasks.status': {
    method: 'POST', path: `${W}/tasks/{tid}/status`, auth: 'any', permission: 'agents.use', mutation: true, body: r.taskStatusRequestSchema, response: r.taskResponseSchema,
    description: 'Change status (see `TASK_TRANSITIONS`), add a progress note, set the result. `running → running` records progress.',
  },
  'tasks.submitPlan': {
    method: 'POST', path: `${W}/tasks/{tid}/plans`, auth: 'any', permission: 'agents.use', mutation: true, body: r.submitPlanRequestSchema, response: r.planResponseSchema, status: 201,
    description: 'Submit a plan; earlier pending plans are superseded and the task awaits approval.',
  },
  'tasks.decidePlan': {
    method: 'POST', path: `${W}/tasks/{tid}/plans/{pid}/decision`, auth: 'any', permission: 'agents.use', mutation: true, body: r.planDecisionRequestSchema, response: r.planResponseSchema,
    description: 'Approve (task → `running`) or reject (task → `assigned`) a pending plan. Recorded in the audit trail.',
  },
  'audit.list': { method: 'GET', path: `${W}/audit`, auth: 'account', permission: 'settings.manage', mutation: false, query: r.auditQuerySchema, response: r.auditListResponseSchema, description: 'Audit entries, newest first (append-only).' },
  'agents.list': { method: 'GET', path: `${W}/agents`, auth: 'any', permission: 'workspace.read', mutation: false, response: r.agentListResponseSchema, description: 'Workspace agents.' },
  'agents.create': {
    method: 'POST', path: `${W}/agents`, auth: 'account', permission: 'settings.manage', mutation: true, body: r.createAgentRequestSchema, response: r.agentResponseSchema, status: 201,
    description: 'Create an agent; bumps the config version and pushes `config.changed`.',
  },
  'agents.update': {
    method: 'PATCH', path: `${W}/agents/{aid}`, auth: 'account', permission: 'settings.manage', mutation: true, body: r.updateAgentRequestSchema, response: r.agentResponseSchema,
    description: 'Edit an agent; bumps the config version.',
  },
  'agents.delete': { method: 'DELETE', path: `${W}/agents/{aid}`, auth: 'account', permission: 'settings.manage', mutation: true, response: r.configVersionResponseSchema, description: 'Delete an agent; bumps the config version.' },
  'providerKeys.list': { method: 'GET', path: `${W}/provider-keys`, auth: 'account', permission: 'settings.manage', mutation: false, response: r.providerKeyListResponseSchema, description: 'Which providers have a key (never the keys).' },
  'providerKeys.set': {
    method: 'PUT', path: `${W}/provider-keys/{provider}`, auth: 'account', permission: 'settings.manage', mutation: true, body: r.setProviderKeyRequestSchema, response: r.providerKeyResponseSchema,
    description: 'Store a provider key (AES-256-GCM at rest under the server master key). The key is never returned.',
  },
  'providerKeys.remove': {
    method: 'DELETE', path: `${W}/provider-keys/{provider}`, auth: 'account', permission: 'settings.manage', mutation: true, response: r.configVersionResponseSchema,
    description: 'Remove a provider key: instances drop it at their next sync (`config.changed`).',
  },
  'config.get': {
    method: 'GET', path: `${W}/config`, auth: 'any', permission: 'workspace.read', mutation: false, response: configSnapshotSchema,
    description: 'Configuration snapshot: agents, guardrails, version; for a workspace token also the `enc:` key blobs re-encrypted for that instance.',
  },
  'turn.credentials': {
    method: 'GET', path: `${W}/turn-credentials`, auth: 'any', permission: 'agents.use', mutation: false, response: turnCredentialsSchema,
    description: 'TURN REST-API credentials (`expiry:user`, HMAC-SHA1) for the configured TURN URLs; empty when none are configured.',
  },
  'events.list': {
    method: 'GET', path: `${W}/events`, auth: 'any', permission: 'workspace.read', mutation: false, query: r.eventsQuerySchema, response: r.eventsResponseSchema,
    description: 'Events after a seq (the REST form of resume).',
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof ROUTES;
export const ROUTE_IDS = Object.keys(ROUTES) as RouteId[];
