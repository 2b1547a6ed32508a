/** The Tasks tree model: what it lists for this machine, and for a cloud desktop the user is connected to. */
import assert from 'node:assert/strict';
import { buildTaskGroups } from '../../../../src/gateway/tasks/taskGroups';
import type { LocalTask } from '../../../../src/gateway/tasks/taskService';
import type { WorkspaceTask } from '../../../../src/gateway/workspace/workspaceTasks';

const at = '2026-12-04T00:00:00.000Z';
const ws = (id: string, assignee: WorkspaceTask['assignee'], status: WorkspaceTask['status'] = 'assigned'): WorkspaceTask => ({
  id,
  workspaceId: 'w1',
  title: `task ${id}`,
  agentId: null,
  assignee,
  status,
  progress: null,
  result: null,
  createdBy: { type: 'member', id: 'm1' },
  createdAt: at,
  updatedAt: at,
  version: 1,
});
const local: LocalTask = {
  id: 'l1',
  title: 'a local task',
  prompt: 'p',
  agentId: 'a1',
  context: null,
  status: 'running',
  conversationId: null,
  createdAt: at,
  updatedAt: at,
  startedAt: at,
  finishedAt: null,
  result: null,
  error: null,
  workspaceTaskId: null,
};
const me = { memberId: 'm1', instanceId: 'i-here' };
const workspace = [
  ws('t1', { type: 'member', memberId: 'm1' }),
  ws('t2', { type: 'instance', instanceId: 'i-desk' }),
  ws('t3', { type: 'instance', instanceId: 'i-other' }),
];
const ids = (m: ReturnType<typeof buildTaskGroups>): string[] => m.groups.flatMap((g) => g.rows.map((r) => r.key)).sort();

describe('Tasks tree model', () => {
  it("lists this machine's local tasks and the workspace's tasks", () => {
    const m = buildTaskGroups({ local: [local], workspace, me });
    assert.deepEqual(ids(m), ['l:l1', 'w:t1', 'w:t2', 'w:t3']);
    assert.equal(m.waitingForMe, 1);
  });

  it('switches to the connected cloud desktop: only its tasks, named, none waiting for me', () => {
    const m = buildTaskGroups({ local: [local], workspace, me, focus: { instanceId: 'i-desk', name: 'Build box' } });
    assert.deepEqual(ids(m), ['w:t2']);
    assert.equal(m.groups[0]!.rows[0]!.assignee, 'Build box');
    assert.equal(m.waitingForMe, 0);
  });
});
