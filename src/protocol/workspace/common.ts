/**
 * Workspace protocol v1: the shared vocabulary (versions, ids, roles and permissions, task
 * statuses, error codes, WebSocket close codes, limits). Imported by the reference server
 * (`src/server`), the gateway's workspace link and the webviews, so it imports only zod.
 */
import { z } from 'zod';
import { MAX_JSON_DEPTH } from '../jsonLimits';
import { PROVIDER_IDS } from '../providerIds';

export const PROTOCOL_VERSION = 1 as const;
export const API_PREFIX = '/v1';
export const WS_PATH = '/v1/ws';
/** Sub-protocol a browser offers (with `bearer.<token>`) in `Sec-WebSocket-Protocol`; the server echoes only this one. */
export const WS_SUBPROTOCOL = 'multiclaw.v1';
export const WS_BEARER_PREFIX = 'bearer.';
/** Header carrying the idempotency key of every REST mutation. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set to `true` on a response that replays the stored answer of an earlier request with the same key. */
export const IDEMPOTENCY_REPLAYED_HEADER = 'idempotency-replayed';

export const SESSION_TTL_MS = { user: 4 * 60 * 60 * 1000, daemon: 24 * 60 * 60 * 1000 } as const;

export const LIMITS = {
  /** Largest REST request body (bytes); larger → 413 `payload_too_large`. */
  restBodyBytes: 1024 * 1024,
  /** Largest body on the unauthenticated auth routes (login, invite acceptance). */
  authBodyBytes: 16 * 1024,
  /** Largest WebSocket frame; larger → close 1009. */
  wsFrameBytes: 256 * 1024,
  /** Milliseconds a new socket has to send `hello`; then close 4400. */
  helloTimeoutMs: 15_000,
  /** Consecutive bad frames tolerated on one socket; one more → close 4400. */
  maxConsecutiveBadFrames: 20,
  /** Events per page when replaying missed events (the server sends all pages). */
  resumePageSize: 500,
  /**
   * Outgoing bytes queued for one socket (answers, events, and live events held back during a replay)
   * before it is closed 4429 "slow consumer" (one answer larger than this still goes out to a socket
   * that has nothing queued).
   */
  maxBufferedBytes: 8 * 1024 * 1024,
  /** Bytes of one socket's requests being processed at once (their frames); more → a failed `res` with `rate_limited`. */
  maxInFlightBytes: 4 * 1024 * 1024,
  /**
   * Deepest nesting of arrays and objects in a REST body or a WSS frame (the frame's envelope counts);
   * deeper → 400 `bad_request` / `bad_frame`, checked on the text before it is parsed.
   */
  jsonDepth: MAX_JSON_DEPTH,
} as const;

export const idSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'ids are [A-Za-z0-9_-]');
export const isoTimeSchema = z.string().min(1).max(40).describe('ISO-8601 UTC timestamp');
export const idempotencyKeySchema = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII, no spaces');
export const slugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])$/, 'lower-case letters, digits and inner dashes');
export const emailSchema = z
  .string()
  .min(3)
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'an email address');
export const passwordSchema = z.string().min(8).max(256);
export const jsonObjectSchema = z.record(z.string(), z.unknown());

export const roleSchema = z.enum(['owner', 'admin', 'member', 'viewer']);
export type Role = z.infer<typeof roleSchema>;

export const permissionSchema = z.enum(['workspace.read', 'agents.use', 'settings.manage', 'members.manage', 'workspace.delete']);
export type Permission = z.infer<typeof permissionSchema>;

/**
 * Roles and permissions (multiclaw-spec.md B.15): Owner everything; Admin all but deleting the
 * workspace; Member uses agents (tasks, plans, instances, desktops); Viewer reads only.
 * `settings.manage` covers workspace settings, agents, guardrails, provider keys and the audit trail.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ['workspace.read', 'agents.use', 'settings.manage', 'members.manage', 'workspace.delete'],
  admin: ['workspace.read', 'agents.use', 'settings.manage', 'members.manage'],
  member: ['workspace.read', 'agents.use'],
  viewer: ['workspace.read'],
};

export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export const providerSchema = z.enum(PROVIDER_IDS);
export type Provider = z.infer<typeof providerSchema>;

export const sessionScopeSchema = z.enum(['user', 'daemon']);
export type SessionScope = z.infer<typeof sessionScopeSchema>;

export const instanceKindSchema = z.enum(['gateway', 'desktop']).describe('gateway = an editor/desktop-app gateway; desktop = a cloud desktop');
export type InstanceKind = z.infer<typeof instanceKindSchema>;

/**
 * What an instance says it is doing (cloud desktops report it; a gateway is `online` or `running`).
 * `starting`: the display and agents are coming up; `online`: idle and ready; `running`: working on
 * tasks; `stopped`: display and agents off, data kept; `error`: see the reason.
 */
export const instanceStatusSchema = z.enum(['starting', 'online', 'running', 'stopped', 'error']);
export type InstanceStatus = z.infer<typeof instanceStatusSchema>;

/** Lifecycle commands for a cloud desktop (Owners and Admins). `terminate` removes its data and deregisters it. */
export const lifecycleActionSchema = z.enum(['start', 'stop', 'restart', 'terminate']);
export type LifecycleAction = z.infer<typeof lifecycleActionSchema>;

export const taskStatusSchema = z.enum(['queued', 'assigned', 'running', 'awaiting_approval', 'completed', 'failed', 'cancelled']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/** Allowed status changes through the status route (`running → running` records a progress note). */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ['running', 'failed', 'cancelled'],
  assigned: ['running', 'awaiting_approval', 'failed', 'cancelled'],
  running: ['running', 'awaiting_approval', 'completed', 'failed', 'cancelled'],
  awaiting_approval: ['running', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

/**
 * Who may assign, reassign or unassign a task (`tasks.assign`), checked in this order against the
 * caller's role as it is at that moment. Every assignment and claim is an audit entry `task.assigned`
 * with `from`, `to` and `via` (`assign` or `claim`).
 */
export const TASK_ASSIGNMENT_RULES: readonly string[] = [
  'An Owner or Admin may assign any unfinished task to any member or instance of the workspace, or unassign it.',
  'A Viewer may not assign anything.',
  'The assignee (the member, or the member who registered the assigned instance, or that instance) may hand the task to anyone in the workspace, or unassign it.',
  'Anyone with `agents.use` may take a queued (unassigned) task for themselves or for an instance they registered — not for someone else. Setting a queued task `running` claims it the same way.',
  'The creator may reassign their task while it has not started (`queued` or `assigned`).',
  'Nobody else: in particular a Member cannot take a task assigned to someone else, so cannot complete it either (only the assignee, the creator to cancel, or an Owner/Admin changes its status).',
];

/** Every error code the server returns, its HTTP status on REST, and what it means. */
export const ERROR_CODES = {
  bad_request: { http: 400, description: 'The request is malformed (not JSON, nests deeper than `LIMITS.jsonDepth`, bad query string).' },
  validation_failed: { http: 400, description: 'The body, query or frame failed schema validation; `details.issues` lists path and message.' },
  idempotency_key_required: { http: 400, description: 'A mutation was sent without an `Idempotency-Key` header (REST) or `idempotencyKey` (WSS).' },
  unauthorized: { http: 401, description: 'No credentials, or credentials that are unknown, tampered or revoked.' },
  token_expired: { http: 401, description: 'The token was valid but has expired: mint a new one.' },
  invalid_credentials: { http: 401, description: 'Email or password is wrong (never says which).' },
  forbidden: { http: 403, description: 'Authenticated, but the role lacks the permission.' },
  wrong_workspace: { http: 403, description: 'The token is bound to a different workspace than the one addressed.' },
  not_found: { http: 404, description: 'No such resource in this workspace (or not visible to the caller).' },
  method_not_allowed: { http: 405, description: 'The route exists but not with this HTTP method.' },
  method_not_found: { http: 404, description: 'WSS: the `req` names an unknown method.' },
  conflict: { http: 409, description: 'The change conflicts with current state (slug taken, already a member, last owner).' },
  invalid_transition: { http: 409, description: 'The task cannot move from its current status to the requested one.' },
  version_conflict: { http: 409, description: '`expectedVersion` does not match the task version.' },
  payload_too_large: { http: 413, description: 'The body exceeds the route limit.' },
  headers_too_large: { http: 431, description: 'The request line and headers exceed 16 KiB.' },
  request_timeout: { http: 408, description: 'The request did not arrive in time (headers 15 s, whole request 30 s).' },
  unsupported_media_type: { http: 415, description: 'A body was sent without `Content-Type: application/json`.' },
  idempotency_conflict: { http: 422, description: 'The idempotency key was already used for a different request.' },
  account_locked: { http: 423, description: 'Too many failed sign-ins: the account is locked until `details.retryAfterSec` passes.' },
  rate_limited: { http: 429, description: 'Too many requests or frames: retry after `details.retryAfterSec` (also `Retry-After`).' },
  bad_frame: { http: 400, description: 'WSS: the frame is not a JSON object, is binary, or nests deeper than `LIMITS.jsonDepth`. The socket stays up.' },
  unknown_type: { http: 400, description: 'WSS: the frame `type` is unknown. The socket stays up.' },
  not_ready: { http: 400, description: 'WSS: the frame needs a completed `hello` first, or `hello` was sent twice.' },
  target_offline: { http: 404, description: 'WSS signalling: the addressed peer is not connected.' },
  internal: { http: 500, description: 'An unexpected server error; nothing was committed for this request.' },
} as const satisfies Record<string, { http: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const errorIssueSchema = z.object({ path: z.string(), message: z.string(), code: z.string() });
export const errorBodySchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  details: jsonObjectSchema.optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
/** Every REST error response. */
export const apiErrorSchema = z.object({ error: errorBodySchema });
export type ApiErrorResponse = z.infer<typeof apiErrorSchema>;

/**
 * WebSocket close codes. `reconnect` tells a client whether reconnecting (with its last seq) can help:
 * `after-new-token` means mint a fresh session token first; `never` means stop and surface the error.
 */
export const CLOSE_CODES = {
  normal: { code: 1000, reconnect: 'never', description: 'Normal closure (the client asked, or a token was superseded).' },
  shutdown: { code: 1001, reconnect: 'yes', description: 'Server shutting down or restarting; reconnect with backoff and resume.' },
  frameTooLarge: { code: 1009, reconnect: 'yes', description: 'A frame exceeded the frame limit (256 KiB). Do not resend it.' },
  internal: { code: 1011, reconnect: 'yes', description: 'Unexpected server error.' },
  protocolError: {
    code: 4400,
    reconnect: 'never',
    description: 'Protocol error: first frame not `hello`, hello timeout, unsupported protocol version, or too many consecutive bad frames.',
  },
  unauthorized: {
    code: 4401,
    reconnect: 'after-new-token',
    description:
      'Session token missing, invalid, tampered or expired (also sent when it expires mid-session), or its sign-in was signed out (reason "signed out": mint with a valid account token).',
  },
  forbidden: { code: 4403, reconnect: 'never', description: 'Access revoked: the member was removed, the instance deleted, or the workspace deleted.' },
  heartbeatTimeout: { code: 4408, reconnect: 'yes', description: 'Nothing received for 3 heartbeat intervals.' },
  rateLimited: {
    code: 4429,
    reconnect: 'yes',
    description:
      'Frame flood (the client kept sending after its burst allowance was spent: one `rate_limited` error frame per second, then this close), or slow consumer (more than `maxBufferedBytes` queued for a client that does not read; reason "slow consumer"). Reconnect with backoff and resume.',
  },
} as const satisfies Record<string, { code: number; reconnect: 'yes' | 'never' | 'after-new-token'; description: string }>;

export type CloseCodeName = keyof typeof CLOSE_CODES;
