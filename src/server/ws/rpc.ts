/**
 * WSS `req` → service call → `res`. Mutations need `idempotencyKey`; the key shares its namespace and
 * request hash with the equivalent REST route, so an outbox may retry one update over either channel.
 */
import type { z } from 'zod';
import { roleHas, type ErrorBody, type TaskStatus } from '../../protocol/workspace/common';
import { RPC_METHODS, type reqFrameSchema, type ResFrame, type RpcMethod } from '../../protocol/workspace/frames';
import { turnCredentials } from '../crypto/turn';
import { ApiError, validationError } from '../errors';
import { idempotencyScope, type Access } from '../services/access';
import { requestHash, type IdempotencyKey, type Reply } from '../services/idempotency';
import type { Services } from '../services/registry';

type ReqFrame = z.infer<typeof reqFrameSchema>;

function idemFor(a: Access, frame: ReqFrame, routeId: string, taskId: string, body: unknown): IdempotencyKey {
  if (!frame.idempotencyKey) throw new ApiError('idempotency_key_required', 'mutations need an idempotencyKey');
  return {
    scope: idempotencyScope(a),
    key: frame.idempotencyKey,
    hash: requestHash('POST', `${routeId} ${JSON.stringify({ wid: a.workspaceId, tid: taskId })}`, body),
  };
}

function fromReply(id: string, reply: Reply): ResFrame {
  if (reply.status >= 400) {
    return { type: 'res', id, ok: false, error: (reply.body as { error: ErrorBody }).error };
  }
  return reply.replayed ? { type: 'res', id, ok: true, result: reply.body, replayed: true } : { type: 'res', id, ok: true, result: reply.body };
}

export async function dispatchRpc(s: Services, a: Access, frame: ReqFrame): Promise<ResFrame> {
  const id = frame.id;
  try {
    if (!Object.prototype.hasOwnProperty.call(RPC_METHODS, frame.method))
      throw new ApiError('method_not_found', `unknown method "${frame.method.slice(0, 60)}"`);
    const method = frame.method as RpcMethod;
    const spec = RPC_METHODS[method];
    const parsed = spec.params.safeParse(frame.params ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues, 'params');
    // Every role may watch a cloud desktop (TURN credentials); instances report themselves; lifecycle checks members.manage itself.
    const needed = spec.mutation && method !== 'instance.lifecycle' ? 'agents.use' : 'workspace.read';
    if (!roleHas(a.role, needed)) throw new ApiError('forbidden', `the ${a.role} role cannot do this (needs ${needed})`);
    switch (method) {
      case 'task.update': {
        const { taskId, ...body } = parsed.data as z.infer<(typeof RPC_METHODS)['task.update']['params']>;
        return fromReply(id, await s.tasks.updateStatus(a, taskId, body, idemFor(a, frame, 'tasks.status', taskId, body)));
      }
      case 'task.submitPlan': {
        const { taskId, ...body } = parsed.data as z.infer<(typeof RPC_METHODS)['task.submitPlan']['params']>;
        return fromReply(id, await s.tasks.submitPlan(a, taskId, body, idemFor(a, frame, 'tasks.submitPlan', taskId, body)));
      }
      case 'task.get':
        return { type: 'res', id, ok: true, result: await s.tasks.get(a, (parsed.data as { taskId: string }).taskId) };
      case 'task.list': {
        const p = parsed.data as z.infer<(typeof RPC_METHODS)['task.list']['params']>;
        return { type: 'res', id, ok: true, result: await s.tasks.list(a, { ...p, statuses: p.status as TaskStatus[] | undefined }) };
      }
      case 'config.get':
        return { type: 'res', id, ok: true, result: await s.agents.snapshot(a) };
      case 'turn.credentials':
        return { type: 'res', id, ok: true, result: turnCredentials(s.ctx.settings.turn, a.memberId, s.ctx.now()) };
      case 'instance.report':
        return { type: 'res', id, ok: true, result: await s.instances.report(a, parsed.data as z.infer<(typeof RPC_METHODS)['instance.report']['params']>) };
      case 'instance.lifecycle': {
        const { instanceId, action } = parsed.data as z.infer<(typeof RPC_METHODS)['instance.lifecycle']['params']>;
        return fromReply(id, await s.instances.lifecycle(a, instanceId, action, idemFor(a, frame, 'instances.lifecycle', instanceId, { action })));
      }
      case 'presence.list':
        return { type: 'res', id, ok: true, result: await s.instances.list(a) };
    }
  } catch (err) {
    if (err instanceof ApiError) return { type: 'res', id, ok: false, error: err.toBody() };
    s.ctx.log.error('rpc failed', { method: frame.method, err: err instanceof Error ? err : String(err) });
    return { type: 'res', id, ok: false, error: { code: 'internal', message: 'internal error' } };
  }
}
