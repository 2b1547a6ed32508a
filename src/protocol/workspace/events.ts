/**
 * Workspace protocol v1: server → client events. Every event is persisted with a per-workspace
 * sequence number before it is sent, so a client that reconnects with the last seq it saw receives
 * exactly what it missed (over WSS `hello.lastSeq`, or REST `GET /v1/workspaces/{wid}/events?after=`).
 */
import { z } from 'zod';
import { idSchema, isoTimeSchema, lifecycleActionSchema } from './common';
import { instanceSchema, memberSchema, planSchema, progressNoteSchema, taskSchema, taskStateSchema, workspaceSchema } from './models';

export const EVENT_DATA = {
  'task.created': z.object({ task: taskSchema }),
  /**
   * Assignment, status, progress or result changed; `note` is the progress note it added, if any.
   * The task comes without its immutable prompt and context (see `task.created`).
   */
  'task.updated': z.object({ task: taskStateSchema, note: progressNoteSchema.nullable() }),
  'task.plan': z.object({ taskId: idSchema, plan: planSchema }),
  /** An Owner/Admin deleted the task: forget it. */
  'task.deleted': z.object({ taskId: idSchema }),
  /**
   * Agents, guardrails or provider keys changed, or a member's role did (`member_role`: what a snapshot
   * holds depends on the role): fetch `GET /config` (or WSS `config.get`).
   */
  'config.changed': z.object({ version: z.number().int().nonnegative(), reason: z.enum(['agent', 'provider_key', 'guardrails', 'member_role']) }),
  'workspace.updated': z.object({ workspace: workspaceSchema.omit({ role: true }) }),
  'member.joined': z.object({ member: memberSchema.omit({ email: true }) }),
  'member.updated': z.object({ member: memberSchema.omit({ email: true }) }),
  'member.removed': z.object({ memberId: idSchema }),
  'instance.registered': z.object({ instance: instanceSchema }),
  'instance.removed': z.object({ instanceId: idSchema }),
  /** Status, reason or label changed (`instance.report`); metrics alone do not produce events. */
  'instance.updated': z.object({ instance: instanceSchema }),
  /** A lifecycle command for a cloud desktop; the desktop carries it out and reports its new status. */
  'instance.command': z.object({ instanceId: idSchema, commandId: idSchema, action: lifecycleActionSchema, by: idSchema.describe('member id') }),
  /** Online/offline transitions (heartbeats alone do not produce events). */
  'instance.presence': z.object({ instanceId: idSchema, online: z.boolean(), lastHeartbeatAt: isoTimeSchema.nullable() }),
} as const;

export type EventName = keyof typeof EVENT_DATA;
export const EVENT_NAMES = Object.keys(EVENT_DATA) as [EventName, ...EventName[]];
export const eventNameSchema = z.enum(EVENT_NAMES);
export type EventData<N extends EventName> = z.infer<(typeof EVENT_DATA)[N]>;

const eventBase = { seq: z.number().int().positive(), ts: isoTimeSchema, workspaceId: idSchema };

function variant<N extends EventName>(name: N) {
  return z.object({ ...eventBase, name: z.literal(name), data: EVENT_DATA[name] });
}

/** One event, discriminated on `name`. */
export const eventSchema = z.discriminatedUnion('name', [
  variant('task.created'),
  variant('task.updated'),
  variant('task.plan'),
  variant('task.deleted'),
  variant('config.changed'),
  variant('workspace.updated'),
  variant('member.joined'),
  variant('member.updated'),
  variant('member.removed'),
  variant('instance.registered'),
  variant('instance.removed'),
  variant('instance.updated'),
  variant('instance.command'),
  variant('instance.presence'),
]);
export type WorkspaceEvent = z.infer<typeof eventSchema>;
