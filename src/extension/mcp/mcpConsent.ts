/**
 * The question before an MCP server's first start (and again after its command, URL, environment or
 * headers changed): a modal naming what runs or what is contacted and who defined it. One question
 * per server at a time; the gateway stores the answer bound to the config's hash.
 */
import * as vscode from 'vscode';
import type { McpServerConfig } from '../../gateway/mcp/mcpConfig';

const START = 'Start Server';

export class McpConsentUi {
  private readonly asking = new Map<string, Promise<boolean>>();

  /** What the gateway calls (replaceable by the extension-host tests, which cannot click a modal). */
  ask = (server: McpServerConfig): Promise<boolean> => {
    const key = server.name;
    let p = this.asking.get(key);
    if (!p) {
      p = this.prompt(server).finally(() => this.asking.delete(key));
      this.asking.set(key, p);
    }
    return p;
  };

  private async prompt(server: McpServerConfig): Promise<boolean> {
    const what =
      server.transport === 'stdio'
        ? `It runs this command on your machine:\n${[server.command ?? '', ...(server.args ?? [])].join(' ')}${server.cwd ? `\n(in ${server.cwd})` : ''}`
        : `It connects to ${server.url ?? ''}`;
    const env = Object.keys({ ...server.env, ...server.headers });
    const from =
      server.source === 'workspace'
        ? "It is defined by this folder's .vscode/mcp.json, not by you: start it only if you trust this repository."
        : 'It is in your settings (multiclaw.mcp.servers).';
    const detail = [
      what,
      env.length ? `With ${server.transport === 'stdio' ? 'environment variables' : 'headers'}: ${env.join(', ')}` : '',
      from,
      'Agents can use its tools; each call asks first unless you allow that tool always. You are asked again if its command, URL, environment or headers change.',
    ]
      .filter(Boolean)
      .join('\n\n');
    const pick = await vscode.window.showWarningMessage(`Start the MCP server "${server.name}"?`, { modal: true, detail }, START);
    return pick === START;
  }
}
