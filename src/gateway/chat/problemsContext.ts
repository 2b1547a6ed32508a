/**
 * `/fix`'s Problems attachment: the diagnostics of the attached file (or of the selected lines) as one
 * context item of kind `problems`, the way the Problems panel lists them. Pure: the host reads the
 * diagnostics (VS Code's `languages.getDiagnostics`) and passes them in.
 */
import type { DiagnosticSeverity } from '../agent/workspacePort';
import type { ContextItem } from '../store/model';

export interface ProblemInfo {
  /** 1-based lines (inclusive) and start column. */
  line: number;
  endLine: number;
  column: number;
  severity: DiagnosticSeverity;
  message: string;
  source?: string;
  code?: string;
}

/** The most problems one item lists (the rest are counted, not dropped silently). */
export const MAX_PROBLEMS = 200;
const SEVERITY_ORDER: Record<DiagnosticSeverity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

/**
 * `label` names the file or selection (`src/a.ts:10-24`); `range` keeps the problems that touch those
 * lines. No problem still gives an item that says so, so the model does not go looking for one.
 */
export function problemsContextItem(label: string, problems: readonly ProblemInfo[], range?: { start: number; end: number }): ContextItem {
  const touching = problems
    .filter((p) => !range || (p.line <= range.end && p.endLine >= range.start))
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.line - b.line || a.column - b.column);
  const shown = touching.slice(0, MAX_PROBLEMS);
  const lines = shown.map(
    (p) => `${p.line}:${p.column} ${p.severity}: ${p.message.replace(/\s+/g, ' ').trim()}${p.source ? ` [${p.source}${p.code ? ` ${p.code}` : ''}]` : ''}`,
  );
  const more = touching.length - shown.length;
  const text = touching.length ? `${lines.join('\n')}${more > 0 ? `\n(${more} more not listed)` : ''}` : `No problems are reported in ${label}.`;
  return {
    kind: 'problems',
    label: `Problems: ${label}`.slice(0, 500),
    ref: label,
    text,
    tokens: Math.ceil(text.length / 4),
    truncated: more > 0,
  };
}
