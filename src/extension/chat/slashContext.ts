/**
 * What a slash command adds to a message on the host side: `/fix` attaches the Problems of the
 * attached file or selection (VS Code's diagnostics for that document, filtered to its lines).
 * Kept out of chatViewProvider.ts.
 */
import * as vscode from 'vscode';
import type { DiagnosticSeverity } from '../../gateway/agent/workspacePort';
import { ChatInputError } from '../../gateway/chat/errors';
import { problemsContextItem, type ProblemInfo } from '../../gateway/chat/problemsContext';
import type { ContextItem } from '../../gateway/store/model';
import type { ActiveRef, EditorContext } from './editorContext';

/** What `/plan` and `/fix` add to `chat/send` (tests pass them to `ChatViewProvider.send`). */
export interface SlashOptions {
  /** `/plan`: read-only tools, no actions. */
  mode?: 'plan';
  /** `/fix`: attach the Problems of the attached file or selection. */
  problems?: boolean;
}

const SEVERITY: Record<vscode.DiagnosticSeverity, DiagnosticSeverity> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

/** The Problems VS Code reports for a document, 1-based. */
export function documentProblems(uri: vscode.Uri): ProblemInfo[] {
  return vscode.languages.getDiagnostics(uri).map((d) => {
    const code = typeof d.code === 'object' ? d.code.value : d.code;
    return {
      line: d.range.start.line + 1,
      endLine: d.range.end.line + 1,
      column: d.range.start.character + 1,
      severity: SEVERITY[d.severity],
      message: d.message,
      ...(d.source ? { source: d.source } : {}),
      ...(code === undefined ? {} : { code: String(code) }),
    };
  });
}

/** The context items of a `chat/send`: the attached chip (read now) and, for `/fix`, its Problems. */
export function sendContext(editor: EditorContext, attach: ActiveRef | undefined, problems: boolean | undefined): ContextItem[] | undefined {
  if (!attach) {
    if (problems) throw new ChatInputError('/fix works on the attached file or selection: open one in the editor and try again.');
    return undefined;
  }
  const item = editor.resolve(attach);
  if (!problems) return [item];
  return [item, problemsContextItem(item.label, documentProblems(vscode.Uri.parse(attach.uri)), attach.range)];
}
