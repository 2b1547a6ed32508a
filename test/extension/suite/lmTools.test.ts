/**
 * MultiClaw's Language Model Tools in a real VS Code, called as another agent would call them
 * (`vscode.lm.invokeTool`): `multiclaw_dispatchTask` hands a task to a MultiClaw agent (a local task
 * through the real gateway and the provider fixture), `multiclaw_listTasks` lists it with its status;
 * a bad input is answered with an error the calling model can read, and nothing is dispatched.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../../src/extension/extension';
import { api, connectOpenAi, disconnectOpenAi } from '../../support/extensionApi';
import { until } from '../../support/wait';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

const resultText = (r: vscode.LanguageModelToolResult): string => r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');

describe('Language Model Tools (in a real VS Code, through the gateway)', function () {
  this.timeout(120_000);
  let server: ProviderServer;
  let a: MultiClawApi;
  const invoke = async (name: string, input: object): Promise<string> =>
    resultText(await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token));

  before(async function () {
    if (typeof vscode.lm?.invokeTool !== 'function') this.skip();
    server = await startProviderServer();
    a = await api({ gateway: 'any' });
    await connectOpenAi(a, server);
  });

  after(async () => {
    if (!server) return;
    await disconnectOpenAi();
    await server.close();
  });

  it('are registered for other agents with their schemas', () => {
    const names = vscode.lm.tools.map((t) => t.name);
    assert.ok(names.includes('multiclaw_dispatchTask') && names.includes('multiclaw_listTasks'), names.join(','));
    const dispatch = vscode.lm.tools.find((t) => t.name === 'multiclaw_dispatchTask')!;
    assert.deepEqual((dispatch.inputSchema as { required?: string[] }).required, ['prompt']);
  });

  it('dispatches a task that a MultiClaw agent runs, then lists it as completed', async () => {
    const before = a.gateway.localTasks().length;
    const answer = await invoke('multiclaw_dispatchTask', {
      prompt: 'Summarise the README for a newcomer',
      title: 'README summary',
      agentId: 'default-openai',
    });
    assert.match(answer, /^Dispatched to MultiClaw \(.+\): local task \S+\.$/);
    const task = await until(
      a.gateway.onDidChangeLocalTasks,
      () => a.gateway.localTasks().find((t) => t.title === 'README summary' && t.status === 'completed'),
      60_000,
      'the task completed',
    );
    assert.equal(a.gateway.localTasks().length, before + 1);
    const list = await invoke('multiclaw_listTasks', {});
    assert.ok(list.includes(`- [local] README summary — completed (id ${task.id})`), list);
  });

  it('answers a bad input with an error the model can read, and dispatches nothing', async () => {
    const before = a.gateway.localTasks().length;
    const answer = await invoke('multiclaw_dispatchTask', { prompt: '   ' });
    assert.match(answer, /^Error: "prompt" must be a non-empty string/);
    assert.equal(a.gateway.localTasks().length, before);
  });
});
