/**
 * The chat webview's edit and regenerate commands, kept out of chatViewProvider.ts: each forks the
 * shown conversation through the ChatService and has the view show the new branch (a reset) before
 * the turn streams into it.
 */
import type { Gateway } from '../../gateway/gateway';
import type { ChatCommandParams } from '../../protocol/chatView';

export const BRANCH_COMMANDS = ['chat/regenerate', 'chat/edit', 'chat/switchBranch'] as const;
type BranchCommandMethod = (typeof BRANCH_COMMANDS)[number];
type Handlers = { [M in BranchCommandMethod]: (params: ChatCommandParams<M>) => Promise<void> };

export interface BranchHost {
  gateway(): Gateway;
  /** The conversation shown (null: a new one, which has nothing to fork). */
  conversationId(): string | null;
  /** Sends the view the whole conversation again (its shown branch changed). */
  reset(): Promise<void>;
}

export function branchCommandHandlers(host: BranchHost): Handlers {
  const shown = (): string => {
    const id = host.conversationId();
    if (!id) throw new Error('no conversation is shown');
    return id;
  };
  return {
    'chat/regenerate': async (p) => void (await host.gateway().chat.regenerate(shown(), p.messageId, () => host.reset())),
    'chat/edit': async (p) => void (await host.gateway().chat.edit(shown(), p.messageId, p.text, () => host.reset())),
    'chat/switchBranch': async (p) => {
      await host.gateway().chat.switchBranch(shown(), p.messageId, p.offset);
      await host.reset();
    },
  };
}
