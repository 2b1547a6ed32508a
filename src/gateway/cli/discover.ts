/**
 * Finds the running gateway through its discovery file: an explicit file (flag or
 * MULTICLAW_DISCOVERY_FILE); else $MULTICLAW_HOME/local-api.json (the headless gateway), then
 * $MULTICLAW_HOME/vscode-local-api.json (the VS Code extension writes it there too; see
 * `discoveryPath.ts`); else, only when MULTICLAW_HOME is not set, the extension's global storage in
 * the usual editors' user-data folders. The first file whose process is alive wins.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiscoveryFile } from '../../protocol/localApi';
import { DISCOVERY_FILE_NAME } from '../../protocol/localApi';
import { readDiscoveryFile } from '../localApi/discovery';
import { multiclawHome, VSCODE_DISCOVERY_FILE_NAME } from '../localApi/discoveryPath';
import { CliError, EXIT } from './usage';
import { errorMessage } from '../errors';

const EXTENSION_ID = 'multiclaw.multiclaw-vscode';
const EDITORS = ['Code', 'Code - Insiders', 'VSCodium', 'Cursor', 'Windsurf'];

/** The VS Code user-data folders where the extension's global storage may live. */
function editorStorageCandidates(env: NodeJS.ProcessEnv): string[] {
  const home = os.homedir();
  const roots: string[] = [];
  if (process.platform === 'darwin') roots.push(...EDITORS.map((e) => path.join(home, 'Library', 'Application Support', e)));
  else if (process.platform === 'win32') roots.push(...EDITORS.map((e) => path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), e)));
  else roots.push(...EDITORS.map((e) => path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), e)));
  roots.push(path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'code-server'));
  return roots.map((r) => path.join(r, 'User', 'globalStorage', EXTENSION_ID, DISCOVERY_FILE_NAME));
}

/** Whether a process with this pid exists (EPERM: it exists, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Found extends DiscoveryFile {
  file: string;
}

export async function discover(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Found> {
  const file = explicit ?? env.MULTICLAW_DISCOVERY_FILE;
  const candidates = file
    ? [path.resolve(file)]
    : [
        path.join(multiclawHome(env), DISCOVERY_FILE_NAME),
        path.join(multiclawHome(env), VSCODE_DISCOVERY_FILE_NAME),
        ...(env.MULTICLAW_HOME ? [] : editorStorageCandidates(env)),
      ];
  const stale: string[] = [];
  for (const c of candidates) {
    let d: DiscoveryFile | undefined;
    try {
      d = await readDiscoveryFile(c);
    } catch (err) {
      stale.push(`${c}: ${errorMessage(err)}`);
      continue;
    }
    if (!d) continue;
    if (!isAlive(d.pid)) {
      stale.push(`${c}: its process ${d.pid} has ended`);
      continue;
    }
    return { ...d, file: c };
  }
  throw new CliError(
    EXIT.noGateway,
    [
      'No running MultiClaw gateway found. Start one with "multiclaw gateway", or open VS Code with MultiClaw (setting multiclaw.gateway.localApi on).',
      `Looked for: ${candidates.join(', ')}`,
      ...stale.map((s) => `Skipped ${s}`),
    ].join('\n'),
  );
}
