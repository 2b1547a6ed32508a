/**
 * Runs inside the extension host for `npm run bench -- activation`: activates MultiClaw (not yet
 * active: it is lazy and nothing triggered it) and writes the timings to $MULTICLAW_BENCH_FILE.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../src/extension/extension';

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<MultiClawApi>('multiclaw.multiclaw-vscode');
  if (!ext) throw new Error('extension not found');
  if (ext.isActive) throw new Error('extension was already active: the measurement would be wrong');
  // Load the bundle first (VS Code's loader then finds it in the require cache) to split the cost.
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- measuring the bundle's own load time
  require(path.join(ext.extensionPath, 'dist', 'extension.js'));
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  const api = await ext.activate();
  const activateCallMs = performance.now() - t1; // activate() + VS Code's bookkeeping
  fs.writeFileSync(process.env.MULTICLAW_BENCH_FILE ?? '', JSON.stringify({ loadMs, activateCallMs, activateFnMs: api.activatedInMs }) + '\n');
}
