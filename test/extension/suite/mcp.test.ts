/**
 * MCP servers and skills in a real VS Code: a stdio server from `multiclaw.mcp.servers` (the MCP test
 * server, built on the SDK) goes Starting → Running · N tools in the MCP Servers view after consent,
 * its tools have checkboxes, one is used in a chat turn through the real gateway and the provider
 * fixture, Stop from the command stops it, and a folder's `.vscode/mcp.json` server is listed as
 * such. A SKILL.md in the folder shows in the Skills view and a switched-off skill stays listed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../../src/extension/extension';
import type { McpNode } from '../../../src/extension/mcp/mcpTree';
import { api, connectOpenAi, disconnectOpenAi } from '../../support/extensionApi';
import { until } from '../../support/wait';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

const STDIO_SERVER = path.resolve(__dirname, '../../fixtures/mcp/stdioServer.js');

describe('MCP servers and skills (in a real VS Code, through the gateway)', function () {
  this.timeout(120_000);
  let server: ProviderServer;
  let a: MultiClawApi;
  let folder: string;
  const asked: string[] = [];
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('multiclaw');
  const created: string[] = [];

  const serverNode = (name: string): Extract<McpNode, { server: unknown }> | undefined =>
    a.mcp.tree.getChildren().find((n): n is Extract<McpNode, { server: unknown }> => 'server' in n && n.server.name === name);

  before(async () => {
    server = await startProviderServer();
    a = await api({ gateway: 'any' });
    a.mcp.consent.ask = async (s) => {
      asked.push(s.name);
      return true;
    };
    const ws = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ws, 'the test window has a workspace folder');
    folder = ws.uri.fsPath;
    await connectOpenAi(a, server);
  });

  after(async () => {
    await cfg().update('mcp.servers', undefined, vscode.ConfigurationTarget.Global);
    await disconnectOpenAi();
    await server?.close();
    for (const f of created) fs.rmSync(f, { recursive: true, force: true });
    await a.gateway.reloadSkills();
  });

  it('lists a configured stdio server as Running · N tools after consent, with a checkbox per tool, and Stop stops it', async () => {
    await cfg().update(
      'mcp.servers',
      [{ name: 'tests', command: process.execPath, args: [STDIO_SERVER, 'tools'], env: { ELECTRON_RUN_AS_NODE: '1' } }],
      vscode.ConfigurationTarget.Global,
    );
    const node = await until(
      a.gateway.onDidChangeMcp,
      () => serverNode('tests')?.server.state.status === 'running' && serverNode('tests'),
      60_000,
      'tests running',
    );
    assert.deepEqual(asked, ['tests'], 'consent was asked once, before the first start');
    const item = a.mcp.tree.getTreeItem(node);
    assert.match(String(item.description), /^Running · \d+ tools$/);
    assert.match(String(item.contextValue), /\brunning\b/);
    const tools = a.mcp.tree.getChildren(node);
    const labels = tools.map((t) => String(a.mcp.tree.getTreeItem(t).label));
    assert.ok(labels.includes('echo') && labels.includes('add'), labels.join(','));
    for (const t of tools) assert.equal(a.mcp.tree.getTreeItem(t).checkboxState, vscode.TreeItemCheckboxState.Checked);

    await a.gateway.setMcpToolEnabled('tests__add', false);
    const add = a.mcp.tree.getChildren(serverNode('tests')!).find((t) => 'tool' in t && t.tool.name === 'add')!;
    assert.equal(a.mcp.tree.getTreeItem(add).checkboxState, vscode.TreeItemCheckboxState.Unchecked);

    // a chat turn uses a tool of it: the approval is answered, the result reaches the provider
    const sub = a.gateway.onDidChangeApprovals((e) => {
      if (e.kind === 'requested' && e.request.toolName === 'tests__echo') a.gateway.resolveApproval(e.request.id, { decision: 'allow', via: 'test' });
    });
    try {
      const s = server.script([{ toolCalls: [{ name: 'tests__echo', arguments: { text: 'FROM-MCP-IN-VSCODE' } }] }, { text: 'done' }]);
      await a.chatView.show(null, false);
      const { done } = await a.chatView.send('use the echo tool', 'default-openai');
      await done;
      const sent = JSON.stringify(s.requests[0]!.body);
      assert.match(sent, /tests__echo/);
      assert.doesNotMatch(sent, /tests__add/, 'a switched-off tool is not sent');
      assert.match(JSON.stringify(s.requests[1]!.body), /FROM-MCP-IN-VSCODE/);
    } finally {
      sub.dispose();
    }

    await vscode.commands.executeCommand('multiclaw.stopMcpServer', 'tests');
    await until(a.gateway.onDidChangeMcp, () => serverNode('tests')?.server.state.status === 'stopped', 30_000, 'tests stopped');
    assert.match(String(a.mcp.tree.getTreeItem(serverNode('tests')!).description), /^Stopped/);
  });

  it("lists the folder's .vscode/mcp.json servers, marked as such", async () => {
    const dir = path.join(folder, '.vscode');
    const file = path.join(dir, 'mcp.json');
    assert.equal(fs.existsSync(file), false, 'the test folder has no mcp.json of its own');
    fs.mkdirSync(dir, { recursive: true });
    created.push(file);
    // disabled: listed, never started
    fs.writeFileSync(
      file,
      '{\n  // VS Code format\n  "servers": { "fromfolder": { "type": "stdio", "command": "node", "args": ["x.js"], "disabled": true } },\n}\n',
    );
    const node = await until(a.gateway.onDidChangeMcp, () => serverNode('fromfolder'), 30_000, 'the mcp.json server');
    const item = a.mcp.tree.getTreeItem(node);
    assert.equal(item.description, 'Disabled · .vscode/mcp.json');
    assert.match(String(item.contextValue), /\bworkspace\b/);
    assert.ok(!asked.includes('fromfolder'), 'a disabled server is not even asked about');
  });

  it('shows a SKILL.md of the folder in the Skills view; a switched-off skill stays listed, unchecked', async () => {
    const dir = path.join(folder, '.multiclaw', 'skills', 'ext-review');
    fs.mkdirSync(dir, { recursive: true });
    created.push(dir);
    fs.writeFileSync(path.join(dir, 'SKILL.md'), '---\nname: ext-review\ndescription: Review steps for the extension test.\n---\nBODY\n');
    await a.gateway.reloadSkills();
    const skill = await until(a.gateway.onDidChangeSkills, () => a.gateway.skills().find((s) => s.name === 'ext-review'), 30_000, 'the skill');
    assert.equal(skill.enabled, true);
    const row = (): vscode.TreeItem => {
      const n = a.mcp.skills.getChildren().find((x) => 'skill' in x && x.skill.name === 'ext-review');
      assert.ok(n, 'the skill is listed');
      return a.mcp.skills.getTreeItem(n);
    };
    assert.equal(row().checkboxState, vscode.TreeItemCheckboxState.Checked);
    assert.match(String(row().description), /^Workspace · Review steps/);
    await a.gateway.setSkillEnabled('ext-review', false);
    assert.equal(row().checkboxState, vscode.TreeItemCheckboxState.Unchecked, 'a disabled skill stays in the library');
  });
});
