/**
 * Workspace mode inside a real VS Code, against the reference workspace server (a child process with
 * the demo workspace) and the provider fixture: Sign In from the command (SecretStorage only, the
 * MultiClaw account in the Accounts menu), the status bar state machine, a task created on the server
 * in the Tasks tree, Dispatch Task… → plan → Approve Plan → completed in the workspace, updates queued
 * while the server is down delivered after a gateway restart, Sign Out, and a revoked member.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api } from '../../support/extensionApi';
import { until } from '../../support/wait';
import type { TaskRow } from '../../../src/gateway/tasks/taskGroups';
import { login, rest, startServerProcess, type ServerProcess } from '../../fixtures/serverProcess';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('MultiClaw workspace mode (in a real VS Code)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let providers: ProviderServer;
  let ownerToken: string;
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('multiclaw');

  const statusText = async (re: RegExp, what: string, ms = 20_000): Promise<string> => {
    const a = await api();
    const text = await until(
      (l) => a.gateway.linkStatus.onDidChange(l),
      () => (re.test(a.statusBar.text) ? a.statusBar.text : undefined),
      ms,
      `${what} (status bar: ${a.statusBar.text})`,
    );
    // One wording for every state: the codicon, then "MultiClaw: ".
    assert.match(text, /^\$\([\w~-]+\) MultiClaw: \S/, 'the same prefix in every state');
    return text;
  };
  const row = async (pred: (r: TaskRow) => boolean, what: string): Promise<TaskRow> => {
    const a = await api();
    return until(
      (l) => a.tasksTree.onDidUpdate(l),
      () => a.tasksTree.allRows().find(pred),
      20_000,
      what,
    );
  };

  before(async () => {
    providers = await startProviderServer();
    server = await startServerProcess();
    ownerToken = await login(server.url, server.users.owner);
    await cfg().update('providers.openaiCompatible.baseUrl', providers.baseUrls['openai-compatible'], vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.commands.executeCommand('multiclaw.signOut', true).then(undefined, () => undefined);
    await cfg().update('workspace.url', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('providers.openaiCompatible.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await server?.dispose();
    await providers?.close();
  });

  it('shows Local · Running until a workspace is configured, then Signed out', async () => {
    const a = await api();
    await statusText(/Local · Running/, 'local mode');
    await cfg().update('workspace.url', server.url, vscode.ConfigurationTarget.Global);
    await statusText(/Signed out/, 'signed out');
    assert.equal(a.gateway.linkStatus.current.phase, 'signedOut');
  });

  it('signs in from MultiClaw: Sign In: Connected · <workspace>, a MultiClaw account, tokens only in SecretStorage', async () => {
    const a = await api();
    const ok = await vscode.commands.executeCommand<boolean>('multiclaw.signIn', {
      url: server.url,
      email: server.users.member.email,
      password: server.users.member.password,
    });
    assert.equal(ok, true);
    await statusText(/Connected · Demo workspace/, 'connected');
    // The tooltip shows the latency (the heartbeat round trip) at once, not after the server's first 15 s heartbeat.
    await until(
      (l) => a.gateway.linkStatus.onDidChange(l),
      () => /Latency: \d+ ms/.test(a.statusBar.tooltip),
      10_000,
      `the latency in the tooltip: ${a.statusBar.tooltip}`,
    );
    const accounts = await vscode.authentication.getAccounts('multiclaw');
    assert.ok(
      accounts.some((x) => /member@demo\.multiclaw\.local \(Demo workspace\)/.test(x.label)),
      `a MultiClaw account in the Accounts menu: ${JSON.stringify(accounts)}`,
    );
    const token = a.gateway.link.instance!.workspaceToken;
    assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('multiclaw')).includes(token), 'not in settings');
  });

  it('shows a task created on the server in the Tasks tree, waiting for me', async () => {
    const a = await api();
    const me = a.gateway.linkStatus.current.memberId!;
    const r = await rest<{ task: { id: string } }>(server.url, 'POST', `/v1/workspaces/${server.workspaceId}/tasks`, {
      token: ownerToken,
      body: { title: 'Triage the flaky test', prompt: 'Find why it flakes', assignee: { type: 'member', memberId: me } },
    });
    assert.equal(r.status, 201);
    const t = await row((x) => x.id === r.body.task.id, 'the new task in the tree');
    assert.equal(t.status, 'assigned');
    assert.equal(t.waitingForMe, true);
    assert.ok(t.actions.includes('run'));
  });

  it('Dispatch Task… → a plan in a chat conversation → Approve Plan (from the chat) → completed in the workspace', async () => {
    const a = await api();
    const res = await vscode.commands.executeCommand<{ workspaceTaskId?: string; localTaskId?: string }>('multiclaw.dispatchTask', {
      agentId: 'default-openai-compatible',
      prompt: 'Write the onboarding notes',
      target: 'here',
    });
    assert.ok(res?.workspaceTaskId, 'a workspace task');
    const id = res.workspaceTaskId;
    const waiting = await row((x) => x.id === id && x.status === 'awaiting_approval', 'the plan');
    assert.ok(waiting.actions.includes('approve') && waiting.conversationId);
    assert.equal(a.chatView.conversationId, waiting.conversationId, 'the chat shows the task conversation');
    // Approve from the Chat view's title bar: no argument, the task of the conversation it shows.
    await vscode.commands.executeCommand('multiclaw.approvePlan');
    await row((x) => x.id === id && x.status === 'completed', 'completed');
    const d = await rest<{ task: { status: string }; plans: Array<{ state: string }> }>(server.url, 'GET', `/v1/workspaces/${server.workspaceId}/tasks/${id}`, {
      token: ownerToken,
    });
    assert.equal(d.body.task.status, 'completed');
    assert.equal(d.body.plans[0]?.state, 'approved');
  });

  it('reads Connected → Reconnecting → Offline → Connected across a server restart; updates queued meanwhile are delivered after a gateway restart', async function () {
    this.timeout(120_000);
    const a = await api();
    const link = a.gateway.link;
    const r = await rest<{ task: { id: string } }>(server.url, 'POST', `/v1/workspaces/${server.workspaceId}/tasks`, {
      token: ownerToken,
      body: { title: 'Offline updates', prompt: 'p', assignee: { type: 'instance', instanceId: link.instance!.id } },
    });
    await row((x) => x.id === r.body.task.id, 'the task');
    await server.stop();
    await statusText(/Reconnecting in \d+s \(attempt \d+\)|Reconnecting…/, 'reconnecting');
    const reconnectingAt = Date.now();
    await statusText(/MultiClaw: Offline/, 'offline after 15 s of failed reconnects', 45_000);
    assert.ok(Date.now() - reconnectingAt >= 10_000, `Offline ${Date.now() - reconnectingAt} ms after Reconnecting: a short restart stays Reconnecting`);
    assert.match(a.gateway.linkStatus.current.message ?? '', /refused|ECONNREFUSED|connect/i);
    for (let i = 1; i <= 20; i++) await a.gateway.link.runner!.update(r.body.task.id, { status: 'running', note: `queued ${i}` });
    await vscode.commands.executeCommand('multiclaw.restartGateway');
    await server.start();
    await statusText(/Connected · Demo workspace/, 'connected again');
    const outbox = a.gateway.link.outbox!;
    await until(
      (l) => outbox.onDidChange(l),
      () => outbox.size === 0,
      20_000,
      'the outbox drained',
    );
    const d = await rest<{ progress: Array<{ note: string | null }> }>(server.url, 'GET', `/v1/workspaces/${server.workspaceId}/tasks/${r.body.task.id}`, {
      token: ownerToken,
    });
    assert.deepEqual(
      d.body.progress.map((p) => p.note).filter((n) => n?.startsWith('queued ')),
      Array.from({ length: 20 }, (_, i) => `queued ${i + 1}`),
    );
  });

  it('Sign Out revokes on the server and shows Signed out', async () => {
    const a = await api();
    const token = a.gateway.link.instance!.workspaceToken;
    await vscode.commands.executeCommand('multiclaw.signOut', true);
    await statusText(/Signed out/, 'signed out');
    assert.deepEqual(await vscode.authentication.getAccounts('multiclaw'), [], 'the account left the Accounts menu');
    const r = await rest(server.url, 'POST', '/v1/session-tokens', { token, body: { scope: 'daemon' } });
    assert.equal(r.status, 401);
  });

  it('a viewer is refused with a clear message; a revoked member is signed out at once (no reconnect storm)', async () => {
    const a = await api();
    // A viewer cannot connect a machine (registering an instance needs agents.use): a clear refusal.
    assert.equal(
      await vscode.commands.executeCommand('multiclaw.signIn', { url: server.url, email: server.users.viewer.email, password: server.users.viewer.password }),
      false,
    );
    assert.equal(a.gateway.linkStatus.current.phase, 'signedOut');
    assert.equal(
      await vscode.commands.executeCommand('multiclaw.signIn', { url: server.url, email: server.users.member.email, password: server.users.member.password }),
      true,
    );
    await statusText(/Connected · Demo workspace/, 'connected again');
    const mid = a.gateway.linkStatus.current.memberId!;
    const wsBefore = a.gateway.ledger.list().filter((e) => e.purpose === 'workspace:ws').length;
    const r = await rest(server.url, 'DELETE', `/v1/workspaces/${server.workspaceId}/members/${mid}`, { token: ownerToken });
    assert.equal(r.status, 200);
    await statusText(/Signed out/, 'signed out');
    assert.equal(a.gateway.linkStatus.current.signedOutReason, 'revoked');
    assert.equal(a.gateway.ledger.list().filter((e) => e.purpose === 'workspace:ws').length, wsBefore, 'no new connection attempt');
  });
});
