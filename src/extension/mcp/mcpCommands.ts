/**
 * The MCP and Skills views and their commands: Add MCP Server… (Name, Command, Arguments — as the
 * desktop app asks — or a URL), Start / Stop / Restart, Enable / Disable, Show Log, Open Settings;
 * New Skill…, Open SKILL.md, Reload Skills. `.vscode/mcp.json` and SKILL.md changes are watched.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import { errorMessage } from '../../gateway/errors';
import type { Logger } from '../../gateway/ports';
import { CMD, VIEW } from '../commandIds';
import type { McpConsentUi } from './mcpConsent';
import { addServerSetting, setServerEnabledSetting } from './mcpSettings';
import { McpTree, type McpNode } from './mcpTree';
import { SkillsTree } from './skillsTree';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Splits an argument line like a shell would for plain words and "quoted strings" (no expansion). */
export function splitArguments(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  return out;
}

async function addServer(gateway: Gateway): Promise<void> {
  const kind = await vscode.window.showQuickPick(
    [
      {
        label: '$(terminal) Command (stdio)',
        detail: 'A program MultiClaw starts on this machine, e.g. npx -y @modelcontextprotocol/server-filesystem .',
        id: 'stdio',
      },
      { label: '$(globe) URL (HTTP)', detail: 'A server MultiClaw connects to (Streamable HTTP, with SSE as the fallback).', id: 'http' },
    ],
    { title: 'Add MCP Server (1/3)', placeHolder: 'How does this server run?', ignoreFocusOut: true },
  );
  if (!kind) return;
  const taken = new Set(gateway.mcpServers().map((s) => s.name));
  const name = await vscode.window.showInputBox({
    title: 'Add MCP Server (2/3)',
    prompt: 'Name (its tools are called <name>__<tool>)',
    ignoreFocusOut: true,
    validateInput: (v) =>
      !NAME_RE.test(v.trim())
        ? 'Letters, digits, _ . - (up to 64), starting with a letter or digit'
        : taken.has(v.trim())
          ? 'A server of that name exists'
          : undefined,
  });
  if (!name) return;
  let entry: Record<string, unknown>;
  if (kind.id === 'stdio') {
    const command = await vscode.window.showInputBox({
      title: 'Add MCP Server (3/3)',
      prompt: 'Command',
      placeHolder: 'npx',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'A command is required'),
    });
    if (!command) return;
    const args = await vscode.window.showInputBox({
      title: 'Add MCP Server (3/3)',
      prompt: 'Arguments (quote one that has spaces)',
      placeHolder: '-y @modelcontextprotocol/server-filesystem .',
      ignoreFocusOut: true,
    });
    if (args === undefined) return;
    entry = { name: name.trim(), command: command.trim(), args: splitArguments(args), enabled: true };
  } else {
    const url = await vscode.window.showInputBox({
      title: 'Add MCP Server (3/3)',
      prompt: 'URL',
      placeHolder: 'https://mcp.example.com/mcp',
      ignoreFocusOut: true,
      validateInput: (v) => (/^https?:\/\/[^\s]+$/i.test(v.trim()) ? undefined : 'An http(s) URL'),
    });
    if (!url) return;
    entry = { name: name.trim(), url: url.trim(), enabled: true };
  }
  await addServerSetting(entry);
  void vscode.window.showInformationMessage(
    `MCP server "${name.trim()}" added to your settings. It starts once you allow it; a secret goes in env or headers as \${secret:NAME}.`,
  );
}

async function newSkill(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return void vscode.window.showWarningMessage('MultiClaw: open a folder first; its skills live in .multiclaw/skills.');
  const name = await vscode.window.showInputBox({
    title: 'New Skill',
    prompt: 'Name: lowercase letters, digits and single hyphens (it is also the folder name)',
    validateInput: (v) => (/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(v) && v.length <= 64 ? undefined : 'e.g. review-checklist'),
  });
  if (!name) return;
  const uri = vscode.Uri.joinPath(folder.uri, '.multiclaw', 'skills', name, 'SKILL.md');
  const text = `---\nname: ${name}\ndescription: When to use this skill, in one sentence the agent reads while planning.\n---\n\n# ${name}\n\nThe steps the agent follows.\n`;
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  }
  await vscode.window.showTextDocument(uri);
}

export function registerMcp(o: { gateway: Gateway; logger: Logger; consent: McpConsentUi; onMcpFilesChanged: () => void }): {
  disposables: vscode.Disposable[];
  consent: McpConsentUi;
  mcpTree: McpTree;
  skillsTree: SkillsTree;
} {
  const { gateway, logger, consent } = o;
  const mcpTree = new McpTree(gateway, logger.child('mcp-view'));
  const mcpView = vscode.window.createTreeView(VIEW.mcp, { treeDataProvider: mcpTree, manageCheckboxStateManually: true });
  mcpTree.attach(mcpView);
  const skillsTree = new SkillsTree(gateway, logger.child('skills-view'));
  const skillsView = vscode.window.createTreeView(VIEW.skills, { treeDataProvider: skillsTree, manageCheckboxStateManually: true });
  skillsTree.attach(skillsView);
  const run = (what: string, fn: () => Promise<unknown>): Promise<void> =>
    fn().then(
      () => undefined,
      (err: unknown) => {
        logger.warn(`${what}:`, errorMessage(err));
        void vscode.window.showErrorMessage(`MultiClaw: ${errorMessage(err)}`);
      },
    );
  const nameOf = (n: McpNode | string | undefined): string | undefined => (typeof n === 'string' ? n : n && 'server' in n ? n.server.name : undefined);
  const pickServer = async (n: McpNode | string | undefined): Promise<string | undefined> =>
    nameOf(n) ??
    (await vscode.window.showQuickPick(
      gateway.mcpServers().map((s) => s.name),
      { placeHolder: 'MCP server' },
    ));
  const enable = (on: boolean) => async (n?: McpNode | string) => {
    const name = await pickServer(n);
    if (!name) return;
    if (!(await setServerEnabledSetting(name, on)))
      void vscode.window.showInformationMessage(
        `"${name}" comes from .vscode/mcp.json (read-only here): edit that file to change it, or add a server of that name in your settings.`,
      );
  };
  const mcpWatcher = vscode.workspace.createFileSystemWatcher('**/.vscode/mcp.json');
  const skillWatcher = vscode.workspace.createFileSystemWatcher('**/.multiclaw/skills/*/SKILL.md');
  const reloadSkills = (): void => void run('reload skills', () => gateway.reloadSkills());
  return {
    consent,
    mcpTree,
    skillsTree,
    disposables: [
      mcpTree,
      mcpView,
      skillsTree,
      skillsView,
      mcpWatcher,
      skillWatcher,
      mcpWatcher.onDidChange(o.onMcpFilesChanged),
      mcpWatcher.onDidCreate(o.onMcpFilesChanged),
      mcpWatcher.onDidDelete(o.onMcpFilesChanged),
      skillWatcher.onDidChange(reloadSkills),
      skillWatcher.onDidCreate(reloadSkills),
      skillWatcher.onDidDelete(reloadSkills),
      vscode.commands.registerCommand(CMD.addMcpServer, () => run('add an MCP server', () => addServer(gateway))),
      vscode.commands.registerCommand(CMD.startMcpServer, (n?: McpNode | string) =>
        run('start the MCP server', async () => {
          const name = await pickServer(n);
          if (name) await gateway.startMcpServer(name);
        }),
      ),
      vscode.commands.registerCommand(CMD.stopMcpServer, (n?: McpNode | string) =>
        run('stop the MCP server', async () => {
          const name = await pickServer(n);
          if (name) await gateway.stopMcpServer(name);
        }),
      ),
      vscode.commands.registerCommand(CMD.restartMcpServer, (n?: McpNode | string) =>
        run('restart the MCP server', async () => {
          const name = await pickServer(n);
          if (name) await gateway.restartMcpServer(name);
        }),
      ),
      vscode.commands.registerCommand(CMD.enableMcpServer, (n?: McpNode | string) => run('enable the MCP server', () => enable(true)(n))),
      vscode.commands.registerCommand(CMD.disableMcpServer, (n?: McpNode | string) => run('disable the MCP server', () => enable(false)(n))),
      vscode.commands.registerCommand(CMD.showMcpLog, () => vscode.commands.executeCommand(CMD.openLogs)),
      vscode.commands.registerCommand(CMD.openMcpSettings, () =>
        vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'multiclaw.mcp.servers' } }),
      ),
      vscode.commands.registerCommand(CMD.newSkill, () => run('create a skill', newSkill)),
      vscode.commands.registerCommand(CMD.openSkill, (p: string) => vscode.window.showTextDocument(vscode.Uri.file(p))),
      vscode.commands.registerCommand(CMD.reloadSkills, reloadSkills),
    ],
  };
}
