/** Small host actions of the chat view: why a send was refused, Insert at Cursor. */
import * as vscode from 'vscode';

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
