/**
 * Where the `multiclaw` CLI looks for a running gateway, shared by the CLI and the extension (cheap:
 * no zod). The headless gateway writes `$MULTICLAW_HOME/local-api.json`; the VS Code extension writes
 * its own file in its global storage and a copy next to the headless one,
 * `$MULTICLAW_HOME/vscode-local-api.json` (MULTICLAW_HOME defaults to ~/.multiclaw), so `multiclaw
 * status` finds it whatever user-data folder the editor runs with (code-server, `npm start`, portable).
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const VSCODE_DISCOVERY_FILE_NAME = 'vscode-local-api.json';

export function multiclawHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.MULTICLAW_HOME || path.join(os.homedir(), '.multiclaw'));
}

/** The VS Code extension's discovery file in the CLI's default location. */
export function vscodeDiscoveryFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(multiclawHome(env), VSCODE_DISCOVERY_FILE_NAME);
}
