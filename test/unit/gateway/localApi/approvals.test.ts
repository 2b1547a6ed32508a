/**
 * Approvals over the local API: a task's agent asks, the events stream says so, GET /v1/approvals
 * lists it, POST /v1/approvals/:id decides (always = a stored rule, so the same call runs unasked
 * next time). Hostile requests (no token, a bad Host or Origin, a bad body, an unknown id) are refused
 * by the same guard as every route.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../../src/gateway/agent/nodeWorkspace';
import { approvalsResponseSchema, resolveApprovalResponseSchema, taskResponseSchema } from '../../../../src/protocol/localApi';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { type ApiHarness, errorCode, openEvents, request, startApiGateway } from './helpers';

describe('Local API: approvals', function () {
  this.timeout(30_000);
  let server: ProviderServer;
  let h: ApiHarness;
  let ws: string;
  let port: NodeWorkspace;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-ws-')));
    port = new NodeWorkspace({ folders: [ws] });
    h = await startApiGateway(server, { openaiKey: true, workspace: port });
  });
  afterEach(async () => {
    await h.close();
    port.dispose();
    fs.rmSync(ws, { recursive: true, force: true });
    server.reset();
  });

  const post = (p: string, body: unknown, extra: Parameters<typeof request>[1] extends infer R ? Partial<R> : never = {}): ReturnType<typeof request> =>
    request(h.api, { method: 'POST', path: p, body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });

  it('lists a waiting call, refuses hostile requests, and Always allow stores a rule the next call uses', async () => {
    const touch = { toolCalls: [{ name: 'run_command', arguments: { command: 'touch made.txt' } }] };
    server.script([touch, { text: 'made it' }, touch, { text: 'again' }]);
    const events = await openEvents(h.api);
    const r = await post('/v1/tasks', { agentId: 'default-openai', prompt: 'make a file' });
    const { task } = taskResponseSchema.parse(r.json);
    const requested = await events.next((e) => e.type === 'approval.requested');
    assert.equal(requested.type, 'approval.requested');
    const id = requested.type === 'approval.requested' ? requested.request.id : '';
    const list = approvalsResponseSchema.parse((await request(h.api, { path: '/v1/approvals' })).json).approvals;
    assert.deepEqual(
      list.map((a) => [a.id, a.toolName, a.detail]),
      [[id, 'run_command', 'touch made.txt']],
    );
    assert.ok(list[0]!.suggestedRule, 'a rule is offered for touch');

    // Hostile: each is refused before the route runs, and nothing is decided.
    assert.equal((await request(h.api, { path: '/v1/approvals', token: null })).status, 401);
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, { decision: 'allow' }, { token: 'mcl_wrong' })), 'unauthorized');
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, { decision: 'allow' }, { host: 'evil.example' })), 'bad_host');
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, { decision: 'allow' }, { headers: { origin: 'https://evil.example' } })), 'forbidden_origin');
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, '{"decision": "allow"')), 'invalid_json');
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, { decision: 'maybe' })), 'invalid_request');
    assert.equal(errorCode(await post(`/v1/approvals/${id}`, { decision: 'allow', extra: 1 })), 'invalid_request');
    assert.equal(errorCode(await post('/v1/approvals/no-such-id', { decision: 'allow' })), 'approval_not_found');
    assert.equal(h.gateway.pendingApprovals().length, 1, 'still waiting');

    const ok = await post(`/v1/approvals/${id}`, { decision: 'allow', always: true });
    assert.equal(ok.status, 200);
    assert.equal(resolveApprovalResponseSchema.parse(ok.json).decision.decision, 'allow');
    const resolved = await events.next((e) => e.type === 'approval.resolved');
    assert.equal(resolved.type === 'approval.resolved' && resolved.decision.via, 'local-api');
    await events.next((e) => e.type === 'task.updated' && e.task.id === task.id && e.task.status === 'completed');
    assert.ok(fs.existsSync(path.join(ws, 'made.txt')));
    const rules = JSON.parse(fs.readFileSync(path.join(h.dir, 'agent-rules.json'), 'utf8')) as { workspaces: Record<string, { rules: string[] }> };
    assert.deepEqual(Object.values(rules.workspaces)[0]!.rules, [list[0]!.suggestedRule]);

    // The stored rule: the same call runs without asking.
    const second = taskResponseSchema.parse((await post('/v1/tasks', { agentId: 'default-openai', prompt: 'again' })).json).task;
    await events.next((e) => e.type === 'task.updated' && e.task.id === second.id && e.task.status === 'completed');
    assert.equal(events.frames.filter((e) => e.type === 'approval.requested').length, 1);
    events.close();
  });

  it('a denial over the API reaches the model as a denied result; the task still completes', async () => {
    server.script([{ toolCalls: [{ name: 'run_command', arguments: { command: 'rm -rf build' } }] }, { text: 'left it' }]);
    const events = await openEvents(h.api);
    const { task } = taskResponseSchema.parse((await post('/v1/tasks', { agentId: 'default-openai', prompt: 'clean' })).json);
    const requested = await events.next((e) => e.type === 'approval.requested');
    const id = requested.type === 'approval.requested' ? requested.request.id : '';
    assert.equal((await post(`/v1/approvals/${id}`, { decision: 'deny' })).status, 200);
    const done = await events.next((e) => e.type === 'task.updated' && e.task.id === task.id && e.task.status === 'completed');
    assert.equal(done.type === 'task.updated' && done.task.result?.text, 'left it');
    assert.equal((await post(`/v1/approvals/${id}`, { decision: 'allow' })).status, 404, 'decided once');
    events.close();
  });
});
