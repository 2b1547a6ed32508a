/**
 * What Diagnose Connection checks in workspace mode: exactly the server the link uses (its REST
 * origin and its WebSocket endpoint), whatever the link's phase — Offline and Reconnecting are when a
 * report matters most. Pure functions of the LinkStatus, so the report never says "nothing to check"
 * while signed in.
 */
import { WS_PATH } from '../../protocol/workspace/common';
import type { DiagnoseTarget } from '../net/diagnose';
import type { LinkStatus } from './linkState';

export function workspaceDiagnoseTargets(s: LinkStatus): DiagnoseTarget[] {
  if (s.phase === 'local' || !s.serverUrl) return [];
  let base: URL;
  try {
    base = new URL(s.serverUrl);
  } catch {
    return [];
  }
  const origin = `${base.protocol}//${base.host}`;
  const ws = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${WS_PATH}`;
  return [
    { label: 'Workspace server (REST)', url: `${origin}/v1/health`, purpose: 'workspace:api' },
    { label: 'Workspace server (WebSocket)', url: ws, purpose: 'workspace:ws' },
  ];
}

/** The report's configuration line about the workspace. */
export function workspaceEnvironment(s: LinkStatus): string {
  if (s.phase === 'local' || !s.serverUrl) return 'Workspace: local mode: no workspace server to check';
  const who = s.workspace ? ` (${s.workspace.name})` : '';
  return `Workspace server: ${s.serverUrl}${who}; link ${s.phase}${s.message ? ` — ${s.message}` : ''}`;
}
