/** For the extension-host suites (they run inside VS Code, where `vscode` resolves). */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../src/extension/extension';
import { until } from './wait';

export const EXTENSION_ID = 'multiclaw.multiclaw-vscode';

/** The activated extension's API; by default once its gateway runs (started when it is stopped). */
export async function api(o: { gateway: 'running' | 'any' } = { gateway: 'running' }): Promise<MultiClawApi> {
  const ext = vscode.extensions.getExtension<MultiClawApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const a = ext.isActive ? ext.exports : await ext.activate();
  if (o.gateway === 'running') await a.gateway.ensureRunning();
  return a;
}

/** Points the OpenAI provider at a fixture server, sets its key and starts the gateway; waits until the URL is applied. */
export async function connectOpenAi(a: MultiClawApi, server: { baseUrls: { openai: string }; keys: { openai: string } }): Promise<void> {
  await vscode.workspace.getConfiguration('multiclaw').update('providers.openai.baseUrl', server.baseUrls.openai, vscode.ConfigurationTarget.Global);
  // Applied once the gateway's config has it (another agents change may come first).
  await until(a.gateway.onDidChangeAgents, () => a.gateway.config.providers.openai.baseUrl === server.baseUrls.openai, 30_000, 'the provider URL applied');
  await vscode.commands.executeCommand('multiclaw.setProviderKey', 'openai', server.keys.openai);
  await a.gateway.ensureRunning();
}

/** Undoes connectOpenAi: the key removed, the default URL back. */
export async function disconnectOpenAi(): Promise<void> {
  await vscode.commands.executeCommand('multiclaw.removeProviderKey', 'openai', true);
  await vscode.workspace.getConfiguration('multiclaw').update('providers.openai.baseUrl', undefined, vscode.ConfigurationTarget.Global);
}
