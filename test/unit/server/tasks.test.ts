import * as assert from 'node:assert/strict';
import { taskSchema } from '../../../src/protocol/workspace/models';
import { call, makeTeam, registerInstance, sessionToken, WsClient, type Person, type Team, type TestServer, useTeamServer } from '../../support/server';

type Task = { id: string; status: string; version: number; assignee: unknown; progress: number | null; result: unknown };
const code = (r: { body: Record<string, unknown> }): string => (r.body.error as { code: string }).code;

describe('server tasks: lifecycle, filters, plans, audit', () => {
  let ts: TestServer;
  let team: Team;
  let base: string;

  useTeamServer(async (e) => {
    ({ ts, team } = e);
    base = `/v1/workspaces/${team.wid}`;
  });

  const create = async (who: Person, body: Record<string, unknown>): Promise<Task> => {
    const r = await call<{ task: Task }>(ts.url, 'POST', `${base}/tasks`, { token: who.token, idem: true, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(taskSchema.safeParse(r.body.task).success);
    return r.body.task;
  };
  const status = (who: { token: string }, id: string, body: Record<string, unknown>) =>
    call<{ task: Task }>(ts.url, 'POST', `${base}/tasks/${id}/status`, { token: who.token, idem: true, body });

  it('creates queued or assigned tasks and checks the agent and assignee exist', async () => {
    const queued = await create(team.people.member, { title: 'q', prompt: 'p', context: { repo: 'x' } });
    assert.equal(queued.status, 'queued');
    const assigned = await create(team.people.member, { title: 'a', prompt: 'p', assignee: { type: 'member', memberId: team.people.admin.memberId } });
    assert.equal(assigned.status, 'assigned');
    const badAssignee = await call(ts.url, 'POST', `${base}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'x', prompt: 'p', assignee: { type: 'member', memberId: 'mem_nope' } },
    });
    assert.equal(badAssignee.status, 404);
    const badAgent = await call(ts.url, 'POST', `${base}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'x', prompt: 'p', agentId: 'agt_nope' },
    });
    assert.equal(badAgent.status, 404);
  });

  it('runs the status machine: claim, progress notes, result, terminal states, version checks', async () => {
    const t = await create(team.owner, { title: 'work', prompt: 'do it' });
    const notAllowed = await status(team.people.viewer, t.id, { status: 'running' });
    assert.equal(notAllowed.status, 403);
    const claim = await status(team.people.member, t.id, { status: 'running', note: 'claimed', progress: 0.1 });
    assert.equal(claim.status, 200);
    assert.deepEqual(claim.body.task.assignee, { type: 'member', memberId: team.people.member.memberId });
    const stranger = await status(team.people.admin, t.id, { status: 'running', note: 'admins may' });
    assert.equal(stranger.status, 200);
    const stale = await status(team.people.member, t.id, { status: 'running', expectedVersion: 1 });
    assert.equal(code(stale), 'version_conflict');
    const done = await status(team.people.member, t.id, {
      status: 'completed',
      result: { summary: 'done', output: 'ok' },
      expectedVersion: stranger.body.task.version,
    });
    assert.equal(done.status, 200);
    assert.equal(done.body.task.status, 'completed');
    assert.equal(done.body.task.progress, 1);
    assert.deepEqual(done.body.task.result, { summary: 'done', output: 'ok' });
    const after = await status(team.people.member, t.id, { status: 'running' });
    assert.equal(code(after), 'invalid_transition');
    const detail = await call<{ progress: Array<{ note: string | null; status: string }> }>(ts.url, 'GET', `${base}/tasks/${t.id}`, {
      token: team.people.viewer.token,
    });
    assert.deepEqual(
      detail.body.progress.map((p) => [p.status, p.note]),
      [
        ['running', 'claimed'],
        ['running', 'admins may'],
        ['completed', null],
      ],
    );
  });

  it('lets a Member change only tasks assigned to them (or their instances); the creator may cancel', async () => {
    const t = await create(team.people.member, { title: 'theirs', prompt: 'p', assignee: { type: 'member', memberId: team.people.admin.memberId } });
    const meddle = await status(team.people.viewer, t.id, { status: 'running' });
    assert.equal(meddle.status, 403);
    const cancel = await status(team.people.member, t.id, { status: 'cancelled', note: 'not needed' });
    assert.equal(cancel.status, 200);
    const reg = await registerInstance(team, team.people.member);
    const viaInstance = await create(team.owner, { title: 'for gw', prompt: 'p', assignee: { type: 'instance', instanceId: reg.instanceId } });
    const byOwnerOfInstance = await status(team.people.member, viaInstance.id, { status: 'running' });
    assert.equal(byOwnerOfInstance.status, 200);
    const byInstance = await status({ token: reg.workspaceToken }, viaInstance.id, { status: 'running', note: 'from the gateway' });
    assert.equal(byInstance.status, 200);
  });

  it('assigns, reassigns and unassigns, refusing finished tasks', async () => {
    const t = await create(team.owner, { title: 'hop', prompt: 'p' });
    const path = `${base}/tasks/${t.id}/assign`;
    const a1 = await call<{ task: Task }>(ts.url, 'POST', path, {
      token: team.people.member.token,
      idem: true,
      body: { assignee: { type: 'member', memberId: team.people.member.memberId } },
    });
    assert.equal(a1.body.task.status, 'assigned');
    const a2 = await call<{ task: Task }>(ts.url, 'POST', path, {
      token: team.people.member.token,
      idem: true,
      body: { assignee: { type: 'member', memberId: team.people.admin.memberId } },
    });
    assert.deepEqual(a2.body.task.assignee, { type: 'member', memberId: team.people.admin.memberId });
    const notTheirs = await call(ts.url, 'POST', path, { token: team.people.member.token, idem: true, body: { assignee: null } });
    assert.equal(notTheirs.status, 403, 'handed on: no longer the member’s to change');
    const un = await call<{ task: Task }>(ts.url, 'POST', path, { token: team.people.admin.token, idem: true, body: { assignee: null } });
    assert.equal(un.body.task.status, 'queued');
    assert.equal(un.body.task.assignee, null);
    await status(team.owner, t.id, { status: 'cancelled' });
    const late = await call(ts.url, 'POST', path, { token: team.owner.token, idem: true, body: { assignee: null } });
    assert.equal(code(late), 'invalid_transition');
  });

  it('lists newest first with filters and cursor pages', async () => {
    const t2 = await makeTeam(ts, ['member']);
    const p = `/v1/workspaces/${t2.wid}/tasks`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const body = { title: `t${i}`, prompt: 'p', ...(i % 2 ? { assignee: { type: 'member', memberId: t2.people.member.memberId } } : {}) };
      ids.push((await call<{ task: Task }>(ts.url, 'POST', p, { token: t2.owner.token, idem: true, body })).body.task.id);
    }
    const page1 = await call<{ tasks: Task[]; nextCursor: string }>(ts.url, 'GET', `${p}?limit=3`, { token: t2.owner.token });
    const page2 = await call<{ tasks: Task[]; nextCursor: string }>(ts.url, 'GET', `${p}?limit=3&cursor=${page1.body.nextCursor}`, { token: t2.owner.token });
    const page3 = await call<{ tasks: Task[]; nextCursor: string | null }>(ts.url, 'GET', `${p}?limit=3&cursor=${page2.body.nextCursor}`, {
      token: t2.owner.token,
    });
    assert.deepEqual(
      [...page1.body.tasks, ...page2.body.tasks, ...page3.body.tasks].map((t) => t.id),
      [...ids].reverse(),
    );
    assert.equal(page3.body.nextCursor, null);
    const mine = await call<{ tasks: Task[] }>(ts.url, 'GET', `${p}?assigneeMemberId=${t2.people.member.memberId}&status=assigned`, {
      token: t2.people.member.token,
    });
    assert.deepEqual(mine.body.tasks.map((t) => t.id).sort(), [ids[1], ids[3], ids[5]].sort());
    const queued = await call<{ tasks: Task[] }>(ts.url, 'GET', `${p}?status=queued,failed`, { token: t2.owner.token });
    assert.equal(queued.body.tasks.length, 4);
    const bad = await call(ts.url, 'GET', `${p}?status=bogus`, { token: t2.owner.token });
    assert.equal(code(bad), 'validation_failed');
    const badLimit = await call(ts.url, 'GET', `${p}?limit=-4`, { token: t2.owner.token });
    assert.equal(badLimit.status, 400);
  });

  it('records plans and approvals; an instance cannot approve its own plan', async () => {
    const reg = await registerInstance(team, team.people.member);
    const t = await create(team.owner, { title: 'planned', prompt: 'p', assignee: { type: 'instance', instanceId: reg.instanceId } });
    const gw = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    const sub1 = await gw.rpc('task.submitPlan', { taskId: t.id, summary: 'first', steps: [{ title: 'look' }] }, `plan-1-${t.id}`);
    assert.equal(sub1.ok, true, JSON.stringify(sub1));
    const sub2 = await gw.rpc(
      'task.submitPlan',
      { taskId: t.id, summary: 'second', steps: [{ title: 'look' }, { title: 'fix', detail: 'carefully' }] },
      `plan-2-${t.id}`,
    );
    const plan2 = sub2.result as { plan: { id: string; state: string }; task: Task };
    assert.equal(plan2.task.status, 'awaiting_approval');
    const selfApprove = await call(ts.url, 'POST', `${base}/tasks/${t.id}/plans/${plan2.plan.id}/decision`, {
      token: reg.workspaceToken,
      idem: true,
      body: { decision: 'approved' },
    });
    assert.equal(selfApprove.status, 403);
    const viewer = await call(ts.url, 'POST', `${base}/tasks/${t.id}/plans/${plan2.plan.id}/decision`, {
      token: team.people.viewer.token,
      idem: true,
      body: { decision: 'approved' },
    });
    assert.equal(viewer.status, 403);
    const ok = await call<{ task: Task; plan: { state: string; comment: string } }>(ts.url, 'POST', `${base}/tasks/${t.id}/plans/${plan2.plan.id}/decision`, {
      token: team.people.member.token,
      idem: true,
      body: { decision: 'approved', comment: 'go' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.task.status, 'running');
    assert.equal(ok.body.plan.state, 'approved');
    const twice = await call(ts.url, 'POST', `${base}/tasks/${t.id}/plans/${plan2.plan.id}/decision`, {
      token: team.owner.token,
      idem: true,
      body: { decision: 'rejected' },
    });
    assert.equal(code(twice), 'conflict');
    const detail = await call<{ plans: Array<{ summary: string; state: string }> }>(ts.url, 'GET', `${base}/tasks/${t.id}`, { token: team.owner.token });
    assert.deepEqual(
      detail.body.plans.map((p) => [p.summary, p.state]),
      [
        ['first', 'superseded'],
        ['second', 'approved'],
      ],
    );
    const ev = await gw.next((f) => f.type === 'event' && f.name === 'task.plan' && (f.data as { plan: { state: string } }).plan.state === 'approved');
    assert.equal((ev.data as { taskId: string }).taskId, t.id);
    gw.close();
  });

  it('keeps an append-only audit trail visible to Owners and Admins only', async () => {
    const t = await create(team.people.member, { title: 'audited', prompt: 'p' });
    await status(team.people.member, t.id, { status: 'running' });
    await status(team.people.member, t.id, { status: 'failed', result: { summary: 'nope', error: 'boom' } });
    const r = await call<{ entries: Array<{ action: string; resource: { id: string }; actor: { id: string }; details: Record<string, unknown> }> }>(
      ts.url,
      'GET',
      `${base}/audit?limit=50`,
      { token: team.people.admin.token },
    );
    const mine = r.body.entries.filter((e) => e.resource.id === t.id);
    assert.deepEqual(
      mine.map((e) => e.action),
      ['task.failed', 'task.running', 'task.assigned', 'task.created'],
    );
    assert.equal(mine[0].details.outcome, 'error');
    assert.equal(mine[0].actor.id, team.people.member.memberId);
    const filtered = await call<{ entries: Array<{ action: string }> }>(ts.url, 'GET', `${base}/audit?action=member.joined`, { token: team.owner.token });
    assert.ok(filtered.body.entries.length >= 3 && filtered.body.entries.every((e) => e.action === 'member.joined'));
    assert.equal((await call(ts.url, 'GET', `${base}/audit`, { token: team.people.member.token })).status, 403);
    await assert.rejects(ts.server.services.ctx.db.run("UPDATE audit SET action = 'forged'"), /append-only/);
  });

  it('audits agent approvals reported with a status update: requested (the task waits), granted, denied', async () => {
    const t = await create(team.people.member, { title: 'agent asks', prompt: 'p' });
    await status(team.people.member, t.id, { status: 'running' });
    const ask = { tool: 'run_command', title: 'Run npm publish', reason: 'not in the allow list' };
    const waiting = await status(team.people.member, t.id, {
      status: 'awaiting_approval',
      note: 'Waiting for approval: Run npm publish',
      approval: { event: 'requested', ...ask },
    });
    assert.equal(waiting.body.task.status, 'awaiting_approval');
    await status(team.people.member, t.id, { status: 'running', approval: { event: 'granted', ...ask, via: 'chat', always: true } });
    await status(team.people.member, t.id, { status: 'awaiting_approval', approval: { event: 'requested', ...ask } });
    await status(team.people.member, t.id, { status: 'running', approval: { event: 'denied', ...ask, via: 'cli' } });
    const bad = await status(team.people.member, t.id, { status: 'running', approval: { event: 'maybe', tool: 'x', title: 'y' } });
    assert.equal(bad.status, 400);
    const r = await call<{ entries: Array<{ action: string; resource: { id: string }; actor: { id: string }; details: Record<string, unknown> }> }>(
      ts.url,
      'GET',
      `${base}/audit?limit=50`,
      { token: team.people.admin.token },
    );
    const approvals = r.body.entries.filter((e) => e.resource.id === t.id && e.action.startsWith('agent.approval.'));
    assert.deepEqual(
      approvals.map((e) => e.action),
      ['agent.approval.denied', 'agent.approval.requested', 'agent.approval.granted', 'agent.approval.requested'],
    );
    assert.deepEqual(approvals[2]!.details, { ...ask, via: 'chat', always: true });
    assert.equal(approvals[0]!.actor.id, team.people.member.memberId);
    const only = await call<{ entries: Array<{ action: string }> }>(ts.url, 'GET', `${base}/audit?action=agent.approval.granted`, { token: team.owner.token });
    assert.equal(only.body.entries.length, 1);
  });

  it('answers a REST heartbeat from an instance and marks it online', async () => {
    const reg = await registerInstance(team, team.people.member);
    const hb = await call<{ instance: { online: boolean; lastHeartbeatAt: string } }>(ts.url, 'POST', '/v1/instance/heartbeat', {
      token: reg.workspaceToken,
      body: { status: 'idle' },
    });
    assert.equal(hb.status, 200);
    assert.equal(hb.body.instance.online, true);
    assert.ok(hb.body.instance.lastHeartbeatAt);
    const byUser = await call(ts.url, 'POST', '/v1/instance/heartbeat', { token: team.people.member.token, body: {} });
    assert.equal(byUser.status, 403);
  });
});
