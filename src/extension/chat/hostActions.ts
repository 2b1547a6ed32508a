/** Small host actions of the chat view: why a send was refused, Copy, Insert at Cursor, links, commands. */
import * as vscode from 'vscode';
import type { ChatCommandParams } from '../../protocol/chatView';
import { CMD } from '../commandIds';

type HostCommandMethod = 'chat/copy' | 'chat/insertAtCursor' | 'chat/openLink' | 'chat/command';
type Handlers = { [M in HostCommandMethod]: (params: ChatCommandParams<M>) => Promise<void> };

/** The commands that only need VS Code: the clipboard, the editor, the browser, other commands. */
export function hostCommandHandlers(): Handlers {
  return {
    'chat/copy': async (p) => {
      await vscode.env.clipboard.writeText(p.text);
      vscode.window.setStatusBarMessage('$(check) Copied to clipboard', 2000);
    },
    'chat/insertAtCursor': (p) => insertAtCursor(p.text),
    'chat/openLink': async (p) => {
      const url = vscode.Uri.parse(p.url);
      if (url.scheme === 'https' || url.scheme === 'http') await vscode.env.openExternal(url);
    },
    'chat/command': async (p) => {
      const map = {
        setProviderKey: CMD.setProviderKey,
        openLogs: CMD.openLogs,
        openSettings: 'workbench.action.openSettings',
        startGateway: CMD.startGateway,
      } as const;
      const extra = p.command === 'openSettings' ? ['multiclaw'] : p.command === 'setProviderKey' && p.provider ? [p.provider] : [];
      await vscode.commands.executeCommand(map[p.command], ...extra);
    },
  };
}

/** Why a `chat/send` failed the protocol schema, in words the composer shows. */
export function sendRefusal(params: unknown, max: number): string {
  const text = params && typeof params === 'object' ? (params as { text?: unknown }).text : undefined;
  if (typeof text === 'string' && text.length > max)
    return `Not sent: the message has ${text.length.toLocaleString('en-US')} characters; the limit is ${max.toLocaleString('en-US')}.`;
  return 'Not sent: the message or its agent was not valid. Pick an agent and try again.';
}

export async function insertAtCursor(text: string): Promise<void> {
  const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
  if (!editor) {
    const doc = await vscode.workspace.openTextDocument({ content: text });
    await vscode.window.showTextDocument(doc);
    return;
  }
  await editor.edit((b) => {
    for (const sel of editor.selections) b.replace(sel, text);
  });
  await vscode.window.showTextDocument(editor.document, editor.viewColumn);
}
