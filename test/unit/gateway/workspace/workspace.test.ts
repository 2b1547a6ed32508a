/**
 * Workspace mode end to end on plain Node, against the reference server and the provider fixture:
 * pushed agents (source 'workspace') and `enc:` keys used by chat, never written or logged, rotated
 * and removed at the next push, guardrails applied live, Sync Provider Key by role; and tasks —
 * assignment → Run → plan → approve (recorded in the workspace as the member) → run in the same
 * conversation → completed; reject; a cancel from the workspace stopping the local run; dispatch to a
 * teammate and to this machine.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../../src/gateway/agent/nodeWorkspace';
import { buildTaskGroups } from '../../../../src/gateway/tasks/taskGroups';
import { wireToolNames } from '../providers/tools';
import type { ResolvedAgent } from '../../../../src/gateway/agents';
import { decidePlan, dispatchToWorkspace, syncProviderKey } from '../../../../src/gateway/workspace/workspaceActions';
import type { LocalTask } from '../../../../src/gateway/tasks/taskService';
import { type ProviderServer } from '../../../fixtures/providerServer';
import {
  call,
  filesContaining,
  signInAs,
  startGateway,
  untilTask,
  waitFor,
  type GatewayHarness,
  type Team,
  type TestServer,
  stopGateway,
  useLinkEnv,
} from './helpers';

function untilLocal(h: GatewayHarness, pred: (t: LocalTask) => boolean, what: string): Promise<LocalTask> {
  const now = h.gateway.tasks.list().find(pred);
  if (now) return Promise.resolve(now);
  return waitFor(h.gateway.tasks.onDidChange, (c) => pred(c.task), 15_000, what).then((c) => c.task);
}

function untilAgents(h: GatewayHarness, pred: (a: ResolvedAgent[]) => boolean, what: string): Promise<void> {
  if (pred(h.gateway.agents())) return Promise.resolve();
  return waitFor(h.gateway.onDidChangeAgents, () => pred(h.gateway.agents()), 10_000, what).then(() => undefined);
}

describe('workspace link: workspace configuration', function () {
  this.timeout(30_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let team: Team;
  const slug = `cfg-${Date.now() % 100000}`;
  let h: GatewayHarness;
  let agentId: string;

  useLinkEnv(
    async (e) => {
      ({ providers, ts, team } = e);
      agentId = await ts.admin.createAgent(slug, 'Reviewer', 'openai', 'gpt-4.1-mini', 'You review code.');
      await ts.admin.setProviderKey(slug, 'openai', providers.keys.openai);
      h = await startGateway(providers);
      await signInAs(h, ts, team.people.member, team.wid);
    },
    { roles: ['admin', 'member'], slug, teardown: () => stopGateway(h) },
  );

  it('lists workspace agents with source "workspace" and chats with the workspace key (decrypted in memory only)', async () => {
    await untilAgents(h, (all) => all.some((a) => a.id === agentId && a.available), 'the workspace agent');
    const agent = h.gateway.agents().find((a) => a.id === agentId)!;
    assert.equal(agent.source, 'workspace');
    assert.equal(agent.name, 'Reviewer');
    assert.equal(h.gateway.keys.has('openai'), false, 'no local OpenAI key: the workspace one is used');
    providers.resetStats();
    const { done } = await h.gateway.chat.send(null, agentId, 'Review this please');
    await done;
    const req = providers.requests.find((r) => r.provider === 'openai');
    assert.equal(req?.headers.authorization, `Bearer ${providers.keys.openai}`);
    assert.equal((req?.body as { model: string }).model, 'gpt-4.1-mini');
    await h.gateway.store.flush();
    assert.deepEqual(filesContaining(h.dir, providers.keys.openai), [], 'never written');
    assert.ok(!h.sink.lines.some((l) => l.includes(providers.keys.openai)), 'never logged');
  });

  it('applies a rotated key and a removed key at the next config push, without a restart', async () => {
    const rotated = 'sk-rotated-workspace-key-000000000000';
    const pushed = waitFor(h.gateway.onDidChangeAgents, () => true, 10_000, 'a config push');
    const r = await call(ts.url, 'PUT', `/v1/workspaces/${team.wid}/provider-keys/openai`, { token: team.owner.token, idem: true, body: { apiKey: rotated } });
    assert.equal(r.status, 200);
    await pushed;
    providers.resetStats();
    const { done } = await h.gateway.chat.send(null, agentId, 'again');
    await done;
    assert.equal(providers.requests.find((x) => x.provider === 'openai')?.headers.authorization, `Bearer ${rotated}`);
    assert.ok(!h.sink.lines.some((l) => l.includes(rotated)), 'the rotated key is not logged either');
    await call(ts.url, 'DELETE', `/v1/workspaces/${team.wid}/provider-keys/openai`, { token: team.owner.token, idem: true });
    await untilAgents(h, (all) => all.find((a) => a.id === agentId)?.available === false, 'the agent without a key');
    assert.equal(h.gateway.link.config.hasKey('openai'), false);
  });

  it('applies agents and guardrails pushed by the workspace live', async () => {
    await ts.admin.setProviderKey(slug, 'openai', providers.keys.openai);
    await untilAgents(h, (all) => all.find((a) => a.id === agentId)?.available === true, 'the key back');
    const g = { allowedDomains: [], blockedTools: [], approvalRequired: [], maxTokenBudget: 500, restrictedProviders: ['openai'] };
    await call(ts.url, 'PATCH', `/v1/workspaces/${team.wid}`, { token: team.owner.token, idem: true, body: { guardrails: g } });
    await untilAgents(h, (all) => all.find((a) => a.id === agentId)?.available === false, 'restricted');
    const a = h.gateway.agents().find((x) => x.id === agentId)!;
    assert.match(a.unavailableReason ?? '', /restricted by the workspace guardrails/);
    assert.equal(a.maxTokens, 500);
    const created = await call<{ agent: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/agents`, {
      token: team.owner.token,
      idem: true,
      body: { name: 'Writer', provider: 'anthropic', model: 'claude-x', emoji: '✍️' },
    });
    await untilAgents(h, (all) => all.some((x) => x.id === created.body.agent.id), 'the new agent');
    assert.equal(h.gateway.agents().find((x) => x.id === created.body.agent.id)?.name, '✍️ Writer');
  });

  it('Sync Provider Key uploads a local key for roles that may, and refuses the others', async () => {
    await assert.rejects(syncProviderKey(h.gateway.link, 'gemini', providers.keys.gemini), /member\) cannot manage/);
    const admin = await startGateway(providers);
    try {
      await signInAs(admin, ts, team.people.admin, team.wid);
      await syncProviderKey(admin.gateway.link, 'gemini', providers.keys.gemini);
      const r = await call<{ keys: Array<{ provider: string }> }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/provider-keys`, { token: team.owner.token });
      assert.ok(r.body.keys.some((k) => k.provider === 'gemini'));
      await untilAgents(h, () => h.gateway.link.config.hasKey('gemini'), "the synced key on the member's machine");
    } finally {
      await admin.stop();
      fs.rmSync(admin.dir, { recursive: true, force: true });
    }
  });
});

describe('workspace link: workspace tasks', function () {
  this.timeout(40_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let team: Team;
  let h: GatewayHarness;
  let wsDir: string;
  let port: NodeWorkspace;

  useLinkEnv(
    async (e) => {
      ({ providers, ts, team } = e);
      wsDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-link-ws-')));
      port = new NodeWorkspace({ folders: [wsDir] });
      h = await startGateway(providers, { workspace: port });
      await signInAs(h, ts, team.people.member, team.wid);
    },
    {
      roles: ['member', 'viewer'],
      teardown: async () => {
        await stopGateway(h);
        port.dispose();
        fs.rmSync(wsDir, { recursive: true, force: true });
      },
    },
  );

  async function assignToMe(title: string, prompt = title): Promise<string> {
    const r = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title, prompt, assignee: { type: 'member', memberId: team.people.member.memberId } },
    });
    return r.body.task.id;
  }

  it('assignment → Run → plan → approve (recorded as the member) → run in the same conversation → completed', async () => {
    const id = await assignToMe('Write the changelog');
    const link = h.gateway.link;
    await untilTask(link, id, (t) => t.status === 'assigned');
    assert.ok(link.workspaceTasks!.isAssignedHere(link.workspaceTasks!.get(id)!));
    const plan = await link.runner!.run(id);
    assert.equal(plan.phase, 'plan');
    const waiting = await untilTask(link, id, (t) => t.status === 'awaiting_approval' && t.plan?.state === 'pending');
    assert.equal(waiting.plan?.submittedBy.id, link.instance!.id);
    await decidePlan(link, id, 'approved', 'go ahead');
    const run = await untilLocal(h, (t) => t.workspaceTaskId === id && t.phase === 'run' && t.status === 'completed', 'the run');
    const planned = h.gateway.tasks.get(plan.id)!;
    assert.equal(run.conversationId, planned.conversationId, 'one conversation');
    const done = await untilTask(link, id, (t) => t.status === 'completed');
    assert.ok(done.result?.summary);
    const conv = await h.gateway.store.open(run.conversationId!);
    assert.equal(conv.messages.length, 4);
    assert.match(conv.messages[2]!.text, /plan was approved[\s\S]*go ahead/);
    const detail = await call<{ plans: Array<{ state: string; decidedBy: { type: string; id: string } }>; task: { result: { output?: string } } }>(
      ts.url,
      'GET',
      `/v1/workspaces/${team.wid}/tasks/${id}`,
      { token: team.owner.token },
    );
    assert.deepEqual(detail.body.plans[0]!.decidedBy, { type: 'member', id: team.people.member.memberId });
    assert.match(detail.body.task.result.output ?? '', /You said/);
    const audit = await call<{ entries: Array<{ action: string }> }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/audit?action=plan.approved`, {
      token: team.owner.token,
    });
    assert.ok(audit.body.entries.length >= 1, 'in the audit trail');
  });

  it('plans with read-only tools, acts after Approve Plan; a call that needs approval pauses the task and is audited', async () => {
    const id = await assignToMe('Make the marker file');
    const link = h.gateway.link;
    await untilTask(link, id, (t) => t.status === 'assigned');
    const s = providers.script([
      { text: 'Create the marker.\n1. Run `touch marker.txt`' },
      { toolCalls: [{ name: 'run_command', arguments: { command: 'touch marker.txt' } }] },
      { text: 'Marker created.' },
    ]);
    try {
      await link.runner!.run(id);
      await untilTask(link, id, (t) => t.status === 'awaiting_approval' && t.plan?.state === 'pending');
      const planTools = wireToolNames(s.requests[0]!.body);
      assert.ok(planTools.includes('read_file') && !planTools.includes('run_command') && !planTools.includes('edit_file'), planTools.join(','));
      const asked = waitFor(h.gateway.onDidChangeApprovals, (e) => e.kind === 'requested', 15_000, 'the approval request');
      await decidePlan(link, id, 'approved');
      const req = (await asked).request;
      assert.equal(req.taskId, id);
      assert.ok(wireToolNames(s.requests[1]!.body).includes('run_command'), 'the run acts');
      const paused = await untilTask(link, id, (t) => t.status === 'awaiting_approval' && t.plan?.state === 'approved');
      assert.equal(paused.plan?.state, 'approved');
      const groups = buildTaskGroups({
        local: h.gateway.localTasks(),
        workspace: h.gateway.workspaceTasks(),
        me: h.gateway.workspaceIdentity(),
        approvals: h.gateway.pendingApprovals(),
      });
      const row = groups.groups.flatMap((g) => g.rows).find((r) => r.id === id)!;
      assert.equal(row.approval?.id, req.id);
      assert.equal(row.waitingForMe, true);
      assert.ok(h.gateway.resolveApproval(req.id, { decision: 'allow', via: 'test' }));
      const done = await untilTask(link, id, (t) => t.status === 'completed');
      assert.match(done.result?.summary ?? '', /Marker created/);
      assert.ok(fs.existsSync(path.join(wsDir, 'marker.txt')));
      const audit = await call<{ entries: Array<{ action: string; resource: { id: string }; details: Record<string, unknown> }> }>(
        ts.url,
        'GET',
        `/v1/workspaces/${team.wid}/audit?limit=100`,
        { token: team.owner.token },
      );
      const mine = audit.body.entries
        .filter((e) => e.resource.id === id && e.action.startsWith('agent.approval.'))
        .map((e) => [e.action, e.details.via ?? null]);
      assert.deepEqual(mine, [
        ['agent.approval.granted', 'test'],
        ['agent.approval.requested', null],
      ]);
    } finally {
      providers.reset();
    }
  });

  it('a rejected plan sends the task back to assigned; nothing runs', async () => {
    const id = await assignToMe('Refactor everything');
    const link = h.gateway.link;
    await untilTask(link, id, () => true);
    await link.runner!.run(id);
    await untilTask(link, id, (t) => t.status === 'awaiting_approval');
    await decidePlan(link, id, 'rejected', 'too broad');
    const back = await untilTask(link, id, (t) => t.status === 'assigned' && t.plan?.state === 'rejected');
    assert.equal(back.plan?.comment, 'too broad');
    assert.ok(!h.gateway.tasks.list().some((t) => t.workspaceTaskId === id && t.phase === 'run'));
  });

  it('a cancel in the workspace stops the local run', async () => {
    const id = await assignToMe('Slow one', 'count #scenario:slow:40');
    const link = h.gateway.link;
    await untilTask(link, id, () => true);
    await link.runner!.run(id);
    await untilTask(link, id, (t) => t.status === 'awaiting_approval');
    // The run's last user message carries no directive: make the run's reply stall, so it is still running when the cancel arrives.
    providers.setScenario('stall');
    try {
      await decidePlan(link, id, 'approved');
      await untilLocal(h, (t) => t.workspaceTaskId === id && t.phase === 'run' && t.status === 'running', 'running');
      const r = await call(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks/${id}/status`, {
        token: team.owner.token,
        idem: true,
        body: { status: 'cancelled', note: 'not needed' },
      });
      assert.equal(r.status, 200);
      const stopped = await untilLocal(h, (t) => t.workspaceTaskId === id && t.phase === 'run' && t.status === 'cancelled', 'the local run cancelled');
      assert.equal(stopped.status, 'cancelled');
    } finally {
      providers.setScenario(undefined);
    }
  });

  it('dispatches to a teammate (listed as created by me) and to this machine (plans at once)', async () => {
    const link = h.gateway.link;
    const { task } = await dispatchToWorkspace(link, {
      title: 'For the viewer',
      prompt: 'read this',
      assignee: { type: 'member', memberId: team.people.viewer.memberId },
    });
    assert.equal(task.status, 'assigned');
    assert.ok(link.workspaceTasks!.get(task.id), 'in my list (I created it)');
    assert.equal(link.workspaceTasks!.isAssignedHere(task), false);
    const here = await dispatchToWorkspace(link, { title: 'Here', prompt: 'do it here', context: { file: 'src/a.ts' }, assignee: 'here' });
    assert.equal(here.local?.phase, 'plan');
    const t = await untilTask(link, here.task.id, (x) => x.status === 'awaiting_approval');
    assert.deepEqual(t.assignee, { type: 'instance', instanceId: link.instance!.id });
  });
});
