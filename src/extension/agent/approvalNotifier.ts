/**
 * Approvals outside the chat card: when the Chat view is hidden, or the request is a workspace
 * task's (the task is paused "Waiting for approval"), a notification asks with Allow / Deny (and
 * Always allow "<rule>" when the request suggests one). Whoever answers first wins; a late click on a
 * notification that was answered elsewhere says so.
 */
import * as vscode from 'vscode';
import type { ApprovalRequest } from '../../protocol/agent';
import type { Logger } from '../../gateway/ports';
import { Disposable } from '../../gateway/util/disposable';
import type { AgentGatewayApi } from './agentApi';

const ALLOW = 'Allow';
const DENY = 'Deny';

export class ApprovalNotifier extends Disposable {
  private readonly shown = new Set<string>();

  constructor(
    private readonly api: Pick<AgentGatewayApi, 'pendingApprovals' | 'resolveApproval' | 'onDidChangeApprovals'>,
    private readonly chatVisible: () => boolean,
    private readonly log: Logger,
  ) {
    super();
    this._register(api.onDidChangeApprovals(() => this.check()));
  }

  /** Notifies for each new pending request the chat card cannot show; forgets answered ones. */
  check(): void {
    const pending = this.api.pendingApprovals();
    const ids = new Set(pending.map((r) => r.id));
    for (const id of this.shown) if (!ids.has(id)) this.shown.delete(id);
    for (const r of pending) {
      if (this.shown.has(r.id) || (this.chatVisible() && !r.taskId)) continue;
      this.shown.add(r.id);
      void this.ask(r);
    }
  }

  private async ask(r: ApprovalRequest): Promise<void> {
    const always = r.suggestedRule ? `Always allow "${r.suggestedRule}"` : undefined;
    const where = r.taskId ? 'A MultiClaw task is waiting for approval' : 'MultiClaw asks';
    const pick = await vscode.window.showInformationMessage(`${where}: ${r.title} (${r.reason})`, ALLOW, DENY, ...(always ? [always] : []));
    if (!pick) return; // dismissed: the card (or the local API / CLI) can still answer
    const ok = this.api.resolveApproval(r.id, { decision: pick === DENY ? 'deny' : 'allow', always: pick === always || undefined, via: 'notification' });
    if (ok) this.log.info(`approval ${r.id} ${pick === DENY ? 'denied' : 'granted'} from a notification`);
    else vscode.window.setStatusBarMessage('$(info) That request was already answered', 3000);
  }
}
