/**
 * Workspace protocol v1: WebSocket frames at `/v1/ws` (text frames, one JSON object each).
 *
 * Connect: present a session token (`Authorization: Bearer mcs1…` from Node, or
 * `Sec-WebSocket-Protocol: multiclaw.v1, bearer.mcs1…` from a browser). The first frame must be
 * `hello` (within 15 s); the server answers `welcome`, replays missed events (when `lastSeq` is
 * given) and then `resumed`, and from then on pushes live `event`s. Bad frames get an `error` (or a
 * failed `res`) and the socket stays up; see `CLOSE_CODES` for when it does not.
 */
import { z } from 'zod';
import { errorBodySchema, idempotencyKeySchema, idSchema, isoTimeSchema, PROTOCOL_VERSION, roleSchema, sessionScopeSchema } from './common';
import { configSnapshotSchema, instanceMetricsSchema, instanceSchema, turnCredentialsSchema } from './models';
import {
  instanceLifecycleRequestSchema,
  instanceLifecycleResponseSchema,
  instanceReportRequestSchema,
  instanceResponseSchema,
  planResponseSchema,
  submitPlanRequestSchema,
  taskDetailResponseSchema,
  taskListResponseSchema,
  taskResponseSchema,
  taskStatusRequestSchema,
} from './rest';
import { eventSchema } from './events';

const frameIdSchema = z.string().min(1).max(100);

// --- RPC methods (client `req` → server `res`) -------------------------------------------------
export const RPC_METHODS = {
  'task.update': {
    description: 'Status, progress note and/or result of a task (same rules as REST `POST …/tasks/{tid}/status`).',
    mutation: true,
    params: taskStatusRequestSchema.extend({ taskId: idSchema }),
    result: taskResponseSchema,
  },
  'task.submitPlan': {
    description: 'Submit a plan for approval; the task moves to `awaiting_approval`.',
    mutation: true,
    params: submitPlanRequestSchema.extend({ taskId: idSchema }),
    result: planResponseSchema,
  },
  'task.get': {
    description: 'One task with its progress notes and plans.',
    mutation: false,
    params: z.object({ taskId: idSchema }),
    result: taskDetailResponseSchema,
  },
  'task.list': {
    description: 'Tasks, newest first, optionally filtered.',
    mutation: false,
    params: z.object({
      status: z.array(z.string().max(40)).max(10).optional(),
      assigneeMemberId: idSchema.optional(),
      assigneeInstanceId: idSchema.optional(),
      agentId: idSchema.optional(),
      limit: z.number().int().min(1).max(500).optional(),
      cursor: z.string().max(200).optional(),
    }),
    result: taskListResponseSchema,
  },
  'config.get': {
    description: 'The configuration snapshot (agents, guardrails, and for instances the `enc:` provider-key blobs).',
    mutation: false,
    params: z.object({}),
    result: configSnapshotSchema,
  },
  'turn.credentials': {
    description: 'Short-lived TURN credentials for a cloud desktop session.',
    mutation: false,
    params: z.object({}),
    result: turnCredentialsSchema,
  },
  'instance.report': {
    description: "The calling instance's status (and reason, label, metrics); a change of status, reason or label is an `instance.updated` event.",
    mutation: false,
    params: instanceReportRequestSchema,
    result: instanceResponseSchema,
  },
  'instance.lifecycle': {
    description: 'Start, stop, restart or terminate a cloud desktop (Owners and Admins; same as REST `POST …/instances/{iid}/lifecycle`).',
    mutation: true,
    params: instanceLifecycleRequestSchema.extend({ instanceId: idSchema }),
    result: instanceLifecycleResponseSchema,
  },
  'presence.list': {
    description: 'Instances of the workspace with presence.',
    mutation: false,
    params: z.object({}),
    result: z.object({ instances: z.array(instanceSchema) }),
  },
} as const;

export type RpcMethod = keyof typeof RPC_METHODS;
export const RPC_METHOD_NAMES = Object.keys(RPC_METHODS) as [RpcMethod, ...RpcMethod[]];
export type RpcParams<M extends RpcMethod> = z.infer<(typeof RPC_METHODS)[M]['params']>;
export type RpcResult<M extends RpcMethod> = z.infer<(typeof RPC_METHODS)[M]['result']>;

// --- signalling payloads ------------------------------------------------------------------------
export const signalKindSchema = z.enum(['offer', 'answer', 'ice', 'bye']);
export const signalPayloadSchema = z.object({
  sdp: z
    .string()
    .max(64 * 1024)
    .optional(),
  candidate: z.string().max(4096).optional(),
  sdpMid: z.string().max(100).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1000).nullable().optional(),
});
export const signalTargetSchema = z.union([z.object({ instanceId: idSchema }), z.object({ connectionId: idSchema })]);

// --- client → server ----------------------------------------------------------------------------
export const helloFrameSchema = z.object({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  /** The last event seq this client processed; omit (or null) to start live without replay. */
  lastSeq: z.number().int().min(0).nullable().optional(),
  client: z.object({ name: z.string().min(1).max(100), version: z.string().max(100), platform: z.string().max(100).optional() }),
});
export const clientHeartbeatFrameSchema = z.object({
  type: z.literal('heartbeat'),
  ts: z.number(),
  status: z.enum(['idle', 'busy']).optional(),
  /** CPU, memory and disk of the machine (cloud desktops send them). */
  metrics: instanceMetricsSchema.optional(),
});
export const reqFrameSchema = z.object({
  type: z.literal('req'),
  id: frameIdSchema,
  method: z.string().min(1).max(100),
  params: z.unknown().optional(),
  /** Required for mutations (`RPC_METHODS[m].mutation`); same namespace as the REST `Idempotency-Key`. */
  idempotencyKey: idempotencyKeySchema.optional(),
});
export const clientSignalFrameSchema = z.object({
  type: z.literal('signal'),
  /** Echoed as `ref` in an error frame about this signal. */
  id: frameIdSchema.optional(),
  sessionId: z.string().min(1).max(100),
  kind: signalKindSchema,
  /** A viewer addresses a desktop instance; the desktop answers the viewer's connection id. */
  to: signalTargetSchema,
  payload: signalPayloadSchema,
});
export const clientFrameSchema = z.discriminatedUnion('type', [helloFrameSchema, clientHeartbeatFrameSchema, reqFrameSchema, clientSignalFrameSchema]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export const CLIENT_FRAME_TYPES = ['hello', 'heartbeat', 'req', 'signal'] as const;

// --- server → client ----------------------------------------------------------------------------
export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  protocol: z.literal(PROTOCOL_VERSION),
  connectionId: idSchema,
  workspaceId: idSchema,
  principal: z.object({ userId: idSchema, memberId: idSchema, role: roleSchema, instanceId: idSchema.nullable(), scope: sessionScopeSchema }),
  /** Highest event seq of the workspace when the socket was accepted. */
  headSeq: z.number().int().nonnegative(),
  heartbeatIntervalMs: z.number().int().positive(),
  tokenExpiresAt: isoTimeSchema,
  limits: z.object({ maxFrameBytes: z.number().int().positive(), maxFramesPerSecond: z.number().positive() }),
});
export const eventFrameSchema = z.intersection(z.object({ type: z.literal('event') }), eventSchema);
export const resumedFrameSchema = z.object({
  type: z.literal('resumed'),
  /** Replayed events had seq in (fromSeq, toSeq]; live events follow. */
  fromSeq: z.number().int().nonnegative(),
  toSeq: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
});
export const resyncFrameSchema = z.object({
  type: z.literal('resync'),
  reason: z.enum(['gap_too_old', 'seq_ahead']),
  headSeq: z.number().int().nonnegative(),
});
export const serverHeartbeatFrameSchema = z.object({ type: z.literal('heartbeat'), ts: z.number(), headSeq: z.number().int().nonnegative() });
export const resFrameSchema = z.union([
  z.object({ type: z.literal('res'), id: frameIdSchema, ok: z.literal(true), result: z.unknown(), replayed: z.boolean().optional() }),
  z.object({ type: z.literal('res'), id: frameIdSchema, ok: z.literal(false), error: errorBodySchema }),
]);
export const errorFrameSchema = z.object({ type: z.literal('error'), ref: z.string().max(100).nullable(), error: errorBodySchema });
export const serverSignalFrameSchema = z.object({
  type: z.literal('signal'),
  sessionId: z.string().max(100),
  kind: signalKindSchema,
  from: z.object({
    connectionId: idSchema,
    memberId: idSchema,
    instanceId: idSchema.nullable(),
    /** The sender's role, attested by the server: a desktop accepts input only from roles with `agents.use`. */
    role: roleSchema,
  }),
  payload: signalPayloadSchema,
});
export const shutdownFrameSchema = z.object({ type: z.literal('shutdown'), reason: z.string().max(200), restartExpected: z.boolean() });

export const serverFrameSchema = z.union([
  welcomeFrameSchema,
  eventFrameSchema,
  resumedFrameSchema,
  resyncFrameSchema,
  serverHeartbeatFrameSchema,
  resFrameSchema,
  errorFrameSchema,
  serverSignalFrameSchema,
  shutdownFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type ResFrame = z.infer<typeof resFrameSchema>;
export type ServerSignalFrame = z.infer<typeof serverSignalFrameSchema>;
export type ClientSignalFrame = z.infer<typeof clientSignalFrameSchema>;
export type HelloFrame = z.infer<typeof helloFrameSchema>;
export type ClientHeartbeatFrame = z.infer<typeof clientHeartbeatFrameSchema>;
