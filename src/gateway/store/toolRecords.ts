/** Tool calls and results in a conversation: the card a stored call shows, and what a result changes on it. */
import type { ToolCallView } from '../../protocol/agent';
import type { CallRecord, ResultRecord } from './records';

const ARGUMENTS_JSON_MAX = 20_000;
const PREVIEW_MAX = 4000;
const PREVIEW_LINES = 8;

/** The card of a call as stored (status `running` until its result arrives). */
export function viewFromCall(r: CallRecord): ToolCallView {
  const view: ToolCallView = {
    id: r.call.id,
    messageId: r.id,
    name: r.call.name,
    kind: r.kind ?? 'read',
    subject: r.subject ?? '',
    status: 'running',
    argumentsJson: JSON.stringify(r.call.arguments).slice(0, ARGUMENTS_JSON_MAX),
  };
  if (r.url !== undefined) view.url = r.url;
  return view;
}

/** The first lines of a result, capped, for the collapsed card. */
export function previewOf(content: string): string {
  let end = -1;
  for (let i = 0; i < PREVIEW_LINES; i++) {
    end = content.indexOf('\n', end + 1);
    if (end === -1) break;
  }
  const head = end === -1 ? content : content.slice(0, end);
  return head.length > PREVIEW_MAX ? head.slice(0, PREVIEW_MAX - 1) + '…' : head;
}

/** Applies a result to a card (in place). */
export function applyResult(view: ToolCallView, r: Pick<ResultRecord, 'status' | 'content' | 'durationMs' | 'exitCode' | 'diffStat'>): void {
  view.status = r.status;
  view.durationMs = r.durationMs;
  view.result = r.content.slice(0, 50_000);
  view.preview = previewOf(r.content);
  delete view.approval;
  if (r.exitCode !== undefined) view.exitCode = r.exitCode;
  if (r.diffStat !== undefined) view.diffStat = r.diffStat;
}
