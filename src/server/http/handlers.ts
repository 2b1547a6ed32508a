/** One handler per REST route: unpack the validated request, call the service, shape the answer. */
import type { z } from 'zod';
import { clip } from '../../protocol/jsonLimits';
import { providerSchema, type Provider, type TaskStatus } from '../../protocol/workspace/common';
import type * as r from '../../protocol/workspace/rest';
import { turnCredentials } from '../crypto/turn';
import { ApiError } from '../errors';
import type { Access, Credential } from '../services/access';
import { listAudit } from '../services/audit';
import type { Reply } from '../services/idempotency';
import type { Services } from '../services/registry';
import type { Readiness } from './readiness';
import type { Handlers, RequestContext } from './router';

/** A body is never a promise (every service read is async: await it first). */
const ok = <T>(body: T extends PromiseLike<unknown> ? never : T, status = 200): Reply => ({ status, body });

function access(c: RequestContext): Access {
  if (!c.access) throw new ApiError('unauthorized', 'missing credentials');
  return c.access;
}

function cred(c: RequestContext): Credential {
  if (!c.cred) throw new ApiError('unauthorized', 'missing credentials');
  return c.cred;
}

function provider(c: RequestContext): Provider {
  const p = providerSchema.safeParse(c.params.provider);
  if (!p.success) throw new ApiError('validation_failed', `unknown provider "${clip(c.params.provider, 40)}"`);
  return p.data;
}

const body = <T>(c: RequestContext): T => c.body as T;

export function createHandlers(s: Services, node: Readiness): Handlers {
  return {
    health: () => ok(node.health()),
    ready: () => node.check(),
    'auth.login': async (c) => {
      const b = body<z.infer<typeof r.loginRequestSchema>>(c);
      return ok(await s.accounts.login(b.email, b.password));
    },
    'auth.logout': async (c) => {
      await s.accounts.logout(cred(c));
      return ok({ ok: true });
    },
    me: async (c) => ok(await s.accounts.me(cred(c).userId)),
    'invites.accept': async (c) => ok(await s.members.accept(c.cred, body(c))),
    'sessionTokens.mint': async (c) => ok(await s.accounts.mintSessionToken(cred(c), body(c))),
    'instance.heartbeat': async (c) => ok(await s.instances.heartbeat(access(c), body<z.infer<typeof r.instanceHeartbeatRequestSchema>>(c)?.metrics)),
    'workspaces.create': (c) => s.workspaces.create(cred(c).userId, body(c), c.idem),
    'workspaces.list': async (c) => ok({ workspaces: await s.accounts.workspacesOf(cred(c).userId) }),
    'workspaces.get': async (c) => ok(await s.workspaces.get(access(c))),
    'workspaces.update': (c) => s.workspaces.update(access(c), body(c), c.idem),
    'workspaces.delete': (c) => s.workspaces.delete(access(c), c.idem),
    'members.list': async (c) => ok(await s.members.list(access(c))),
    'members.update': (c) => s.members.updateRole(access(c), c.params.mid, body<z.infer<typeof r.updateMemberRequestSchema>>(c).role, c.idem),
    'members.remove': (c) => s.members.remove(access(c), c.params.mid, c.idem),
    'invites.create': (c) => s.members.createInvite(access(c), body(c), c.idem),
    'invites.list': async (c) => ok(await s.members.listInvites(access(c))),
    'invites.revoke': (c) => s.members.revokeInvite(access(c), c.params.iid, c.idem),
    'instances.register': (c) => s.instances.register(access(c), body(c), c.idem),
    'instances.list': async (c) => ok(await s.instances.list(access(c))),
    'instances.remove': (c) => s.instances.remove(access(c), c.params.iid, c.idem),
    'instances.lifecycle': (c) => s.instances.lifecycle(access(c), c.params.iid, body<z.infer<typeof r.instanceLifecycleRequestSchema>>(c).action, c.idem),
    'tasks.create': (c) => s.tasks.create(access(c), body(c), c.idem),
    'tasks.list': async (c) => {
      const q = c.query as z.infer<typeof r.taskListQuerySchema>;
      return ok(
        await s.tasks.list(access(c), {
          statuses: q.status
            ? (q.status
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean) as TaskStatus[])
            : undefined,
          assigneeMemberId: q.assigneeMemberId,
          assigneeInstanceId: q.assigneeInstanceId,
          agentId: q.agentId,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
    'tasks.get': async (c) => ok(await s.tasks.get(access(c), c.params.tid)),
    'tasks.delete': (c) => s.tasks.delete(access(c), c.params.tid, c.idem),
    'tasks.assign': (c) => s.tasks.assign(access(c), c.params.tid, body(c), c.idem),
    'tasks.status': (c) => s.tasks.updateStatus(access(c), c.params.tid, body(c), c.idem),
    'tasks.submitPlan': (c) => s.tasks.submitPlan(access(c), c.params.tid, body(c), c.idem),
    'tasks.decidePlan': (c) => s.tasks.decidePlan(access(c), c.params.tid, c.params.pid, body(c), c.idem),
    'audit.list': async (c) => ok(await listAudit(s.ctx, access(c).workspaceId, c.query as z.infer<typeof r.auditQuerySchema>)),
    'agents.list': async (c) => ok(await s.agents.list(access(c))),
    'agents.create': (c) => s.agents.create(access(c), body(c), c.idem),
    'agents.update': (c) => s.agents.update(access(c), c.params.aid, body(c), c.idem),
    'agents.delete': (c) => s.agents.delete(access(c), c.params.aid, c.idem),
    'providerKeys.list': async (c) => ok(await s.agents.listKeys(access(c))),
    'providerKeys.set': (c) => s.agents.setKey(access(c), provider(c), body<z.infer<typeof r.setProviderKeyRequestSchema>>(c).apiKey, c.idem),
    'providerKeys.remove': (c) => s.agents.removeKey(access(c), provider(c), c.idem),
    'config.get': async (c) => ok(await s.agents.snapshot(access(c))),
    'turn.credentials': (c) => ok(turnCredentials(s.ctx.settings.turn, access(c).memberId, s.ctx.now())),
    'events.list': async (c) => {
      const q = c.query as z.infer<typeof r.eventsQuerySchema>;
      return ok(await s.events.list(access(c).workspaceId, q.after ?? 0, q.limit ?? 500));
    },
  };
}
