/** For the extension-host suites (they run inside VS Code, where `vscode` resolves). */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'multiclaw.multiclaw-vscode';

/** The activated extension's API; by default once its gateway runs (started when it is stopped). */
export async function api(o: { gateway: 'running' | 'any' } = { gateway: 'running' }): Promise<MultiClawApi> {
  const ext = vscode.extensions.getExtension<MultiClawApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const a = ext.isActive ? ext.exports : await ext.activate();
  if (o.gateway === 'running') await a.gateway.ensureRunning();
  return a;
}
