/**
 * The MCP servers the gateway gets: the user's `multiclaw.mcp.servers` (application scope, so a
 * folder's settings.json cannot add a command to run) and, read-only, each workspace folder's
 * `.vscode/mcp.json` (VS Code's own format) when `multiclaw.mcp.importWorkspaceConfig` is on. A name
 * used by both keeps the user's entry. What was left out is kept as notes for the MCP view and the log.
 */
import os from 'node:os';
import * as vscode from 'vscode';
import { MCP_DEFAULTS, readServerConfigs, type McpServerConfig, type McpSettings } from '../../gateway/mcp/mcpConfig';
import { parseMcpJson } from '../../gateway/mcp/mcpJson';
import type { Logger } from '../../gateway/ports';

/** The notes of the last read (bad entries, unsupported mcp.json fields), shown in the MCP view. */
let lastNotes: string[] = [];

export function mcpNotes(): readonly string[] {
  return lastNotes;
}

function readLimit(cfg: vscode.WorkspaceConfiguration, key: string, fallback: number, min: number, max: number, notes: string[]): number {
  const v = cfg.get<unknown>(key);
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  notes.push(`setting multiclaw.${key} must be a whole number from ${min} to ${max}; using ${fallback}`);
  return fallback;
}

async function readWorkspaceServers(notes: string[]): Promise<McpServerConfig[]> {
  const out: McpServerConfig[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json');
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      continue; // no mcp.json in this folder
    }
    const parsed = parseMcpJson(text, { workspaceFolder: folder.uri.fsPath, userHome: os.homedir(), env: process.env });
    notes.push(...parsed.notes.map((n) => `${folder.name}: ${n}`));
    out.push(...parsed.servers);
  }
  return out;
}

export async function readMcpSettings(logger: Logger): Promise<McpSettings> {
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  const notes: string[] = [];
  const { servers, problems } = readServerConfigs(cfg.get<unknown>('mcp.servers'), 'settings');
  notes.push(...problems);
  if (cfg.get<boolean>('mcp.importWorkspaceConfig') !== false) {
    for (const s of await readWorkspaceServers(notes)) {
      if (servers.some((x) => x.name === s.name)) notes.push(`.vscode/mcp.json server "${s.name}": a server of that name is in your settings; yours is used`);
      else servers.push(s);
    }
  }
  const settings: McpSettings = {
    servers,
    maxTools: readLimit(cfg, 'mcp.maxTools', MCP_DEFAULTS.maxTools, 1, 512, notes),
    requestTimeoutMs: readLimit(cfg, 'mcp.requestTimeoutSeconds', MCP_DEFAULTS.requestTimeoutMs / 1000, 1, 3600, notes) * 1000,
    connectTimeoutMs: MCP_DEFAULTS.connectTimeoutMs,
    maxResultChars: MCP_DEFAULTS.maxResultChars,
  };
  for (const n of notes) if (!lastNotes.includes(n)) logger.warn(n);
  lastNotes = notes;
  return settings;
}

/** Adds a server to the user's `multiclaw.mcp.servers` (the raw entries kept as they are). */
export async function addServerSetting(entry: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  const current = cfg.inspect<unknown>('mcp.servers')?.globalValue;
  const list = Array.isArray(current) ? [...(current as unknown[])] : [];
  list.push(entry);
  await cfg.update('mcp.servers', list, vscode.ConfigurationTarget.Global);
}

/** Switches a server of the user's settings on or off; false when it is not there (a workspace server). */
export async function setServerEnabledSetting(name: string, enabled: boolean): Promise<boolean> {
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  const current = cfg.inspect<unknown>('mcp.servers')?.globalValue;
  if (!Array.isArray(current)) return false;
  let hit = false;
  const list = (current as unknown[]).map((e) => {
    if (e && typeof e === 'object' && (e as { name?: unknown }).name === name) {
      hit = true;
      return { ...(e as object), enabled };
    }
    return e;
  });
  if (hit) await cfg.update('mcp.servers', list, vscode.ConfigurationTarget.Global);
  return hit;
}
