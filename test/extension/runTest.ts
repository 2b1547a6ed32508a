/**
 * `npm run test:ext`: the standard @vscode/test-electron flow, with an offline fallback.
 *   1. VSCODE_EXECUTABLE_PATH set            -> use it (a desktop `code`, or any compatible executable).
 *   2. else, the VS Code download host resolves -> runTests() downloads desktop VS Code (the normal path;
 *      MULTICLAW_VSCODE_VERSION=<engines minimum> runs against the oldest supported version).
 *   3. else                                   -> the code-server shim (test/harness/code-server-as-vscode).
 * The mocha suite (test/extension/suite) is identical in all three cases.
 */
import dns from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(__dirname, '../../..');

async function canDownload(): Promise<boolean> {
  try {
    await Promise.race([
      dns.lookup('update.code.visualstudio.com'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('dns timeout')), 3000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  let vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH || undefined;
  if (!vscodeExecutablePath && !(await canDownload())) {
    vscodeExecutablePath = path.join(root, 'test/harness/code-server-as-vscode');
    process.stderr.write(`[test:ext] offline: running the extension-host suite in code-server via ${path.relative(root, vscodeExecutablePath)}\n`);
  }
  await runTests({
    vscodeExecutablePath,
    version: process.env.MULTICLAW_VSCODE_VERSION,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out/test/extension/suite/index.js'),
    // A workspace folder for the agent suites (code-server opens its own temp folder instead).
    launchArgs: [fs.mkdtempSync(path.join(os.tmpdir(), 'multiclaw-ext-ws-')), '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: {
      MULTICLAW_RESULT_FILE: process.env.MULTICLAW_RESULT_FILE ?? '',
      MULTICLAW_TEST_PROVIDER_URL: process.env.MULTICLAW_TEST_PROVIDER_URL ?? '',
      // The workspace server (better-sqlite3, built for this Node) runs as a child on this Node, not VS Code's.
      MULTICLAW_TEST_NODE: process.env.MULTICLAW_TEST_NODE ?? process.execPath,
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`[test:ext] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
