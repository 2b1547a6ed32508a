/**
 * MultiClaw in VS Code's own AI surfaces, each feature-detected (nothing breaks where the API is
 * missing): the Language Model Tools `multiclaw_dispatchTask` and `multiclaw_listTasks`, so other
 * agents in VS Code can hand work to MultiClaw (dispatching asks for confirmation first, as any
 * action does), and the chat participant `@multiclaw`, which hands the request to a MultiClaw agent
 * and streams its reply and tool steps into VS Code's Chat view. A follow-up to `@multiclaw` goes on
 * in the same MultiClaw conversation.
 */
import * as vscode from 'vscode';
import type { ChatEvent } from '../gateway/chat/chatService';
import { errorMessage } from '../gateway/errors';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import type { ChatViewProvider } from './chat/chatViewProvider';
import { CMD } from './commandIds';
import { dispatchTask } from './workspace/dispatch';

export const LM_TOOLS = { dispatchTask: 'multiclaw_dispatchTask', listTasks: 'multiclaw_listTasks' } as const;
export const PARTICIPANT_ID = 'multiclaw.agent';

interface DispatchInput {
  prompt: string;
  title?: string;
  agentId?: string;
}

const text = (s: string): vscode.LanguageModelToolResult => new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(s)]);

function firstAgent(gateway: Gateway, wanted?: string): { id: string; name: string } | undefined {
  const agents = gateway.agents().filter((a) => a.available);
  return (wanted ? agents.find((a) => a.id === wanted) : undefined) ?? agents[0];
}

/** The tasks of this machine and the workspace tasks assigned to me, one line each. */
export function taskListText(gateway: Gateway): string {
  const lines: string[] = [];
  for (const t of gateway.localTasks()) lines.push(`- [local] ${t.title} — ${t.status} (id ${t.id})`);
  const me = gateway.workspaceIdentity();
  for (const t of gateway.workspaceTasks()) {
    const a = t.assignee;
    const mine = !me || (a?.type === 'member' && a.memberId === me.memberId) || (a?.type === 'instance' && a.instanceId === me.instanceId);
    if (mine) lines.push(`- [workspace] ${t.title} — ${t.status} (id ${t.id})`);
  }
  return lines.length ? lines.join('\n') : 'No MultiClaw tasks.';
}

function registerTools(o: { gateway: Gateway; chatView: ChatViewProvider; logger: Logger }): vscode.Disposable[] {
  const { gateway, chatView, logger } = o;
  const dispatch: vscode.LanguageModelTool<DispatchInput> = {
    prepareInvocation(options) {
      const agent = firstAgent(gateway, options.input.agentId);
      const title = options.input.title?.trim() || options.input.prompt.split('\n')[0]!.slice(0, 80);
      return {
        invocationMessage: `Dispatching “${title}” to MultiClaw`,
        confirmationMessages: {
          title: 'Dispatch a MultiClaw task?',
          message: new vscode.MarkdownString(
            `MultiClaw runs **${title.replace(/[*_`[\]]/g, '')}** on this machine with ${agent?.name ?? 'its first available agent'}, plan first.`,
          ),
        },
      };
    },
    async invoke(options) {
      const input = options.input;
      if (typeof input?.prompt !== 'string' || !input.prompt.trim()) return text('Error: "prompt" must be a non-empty string describing the task.');
      await gateway.ensureRunning();
      const agent = firstAgent(gateway, input.agentId);
      if (!agent) return text('Error: no MultiClaw agent is available; the user must set a provider key first (MultiClaw: Set Provider API Key).');
      try {
        const r = await dispatchTask(gateway, chatView, logger, { agentId: agent.id, prompt: input.prompt, title: input.title, target: 'here' });
        if (!r) return text('The task was not dispatched.');
        return text(
          `Dispatched to MultiClaw (${agent.name}): ${r.workspaceTaskId ? `workspace task ${r.workspaceTaskId}` : `local task ${r.localTaskId ?? '?'}`}.`,
        );
      } catch (err) {
        return text(`Error: the task could not be dispatched: ${errorMessage(err)}`);
      }
    },
  };
  const list: vscode.LanguageModelTool<Record<string, never>> = {
    prepareInvocation: () => ({ invocationMessage: 'Listing MultiClaw tasks' }),
    async invoke() {
      return text(taskListText(gateway));
    },
  };
  return [vscode.lm.registerTool(LM_TOOLS.dispatchTask, dispatch), vscode.lm.registerTool(LM_TOOLS.listTasks, list)];
}

function registerParticipant(o: { gateway: Gateway; logger: Logger }): vscode.Disposable {
  const { gateway, logger } = o;
  const handler: vscode.ChatRequestHandler = async (request, context, stream, token) => {
    await gateway.ensureRunning();
    const agent = firstAgent(gateway);
    if (!agent) {
      stream.markdown('No MultiClaw agent is available yet: set a provider key, or use a local model.');
      stream.button({ command: CMD.setProviderKey, title: 'Set Provider API Key' });
      return {};
    }
    // A follow-up continues the conversation the last @multiclaw answer came from.
    const previous = [...context.history]
      .reverse()
      .find((h): h is vscode.ChatResponseTurn => h instanceof vscode.ChatResponseTurn && typeof h.result.metadata?.conversationId === 'string');
    const conversationId = (previous?.result.metadata?.conversationId as string | undefined) ?? null;
    let id: string | undefined;
    const shown = new Set<string>();
    const sub = gateway.onChatEvent((e: ChatEvent) => {
      if (e.conversationId !== id) return;
      if (e.type === 'delta') stream.markdown(e.text);
      else if (e.type === 'toolCall' && !shown.has(`${e.call.id}:${e.call.status}`)) {
        shown.add(`${e.call.id}:${e.call.status}`);
        if (e.call.status === 'running' || e.call.status === 'awaiting_approval')
          stream.progress(`${e.call.name} ${e.call.subject}${e.call.status === 'awaiting_approval' ? ' — waiting for your approval in MultiClaw' : ''}`.trim());
      }
    });
    try {
      // A conversation keeps its agent; a new one gets the first available.
      const prior = conversationId ? await gateway.conversation(conversationId).catch(() => undefined) : undefined;
      const agentId = prior?.meta.agentId ?? agent.id;
      const { conversation, done } = await gateway.chat.send(prior ? prior.id : null, agentId, request.prompt);
      id = conversation.id;
      const cancel = token.onCancellationRequested(() => gateway.stopReply(conversation.id));
      await done;
      cancel.dispose();
      const last = conversation.messages.at(-1);
      if (last?.status === 'error') stream.markdown(`\n\n**MultiClaw:** ${last.error?.message ?? 'the reply failed'}`);
      stream.button({ command: CMD.openConversation, title: 'Open in MultiClaw', arguments: [conversation.id] });
      return { metadata: { conversationId: conversation.id } };
    } catch (err) {
      logger.warn('@multiclaw failed:', errorMessage(err));
      stream.markdown(`**MultiClaw:** ${errorMessage(err)}`);
      return { errorDetails: { message: errorMessage(err) } };
    } finally {
      sub.dispose();
    }
  };
  const p = vscode.chat.createChatParticipant(PARTICIPANT_ID, handler);
  p.iconPath = new vscode.ThemeIcon('hubot');
  return p;
}

/** Registers what this VS Code supports; logs what it does not. */
export function registerAiSurfaces(o: { gateway: Gateway; chatView: ChatViewProvider; logger: Logger }): vscode.Disposable[] {
  const out: vscode.Disposable[] = [];
  const lm = (vscode as { lm?: Partial<typeof vscode.lm> }).lm;
  if (typeof lm?.registerTool === 'function') out.push(...registerTools(o));
  else o.logger.info('this VS Code has no Language Model Tools API: MultiClaw tools are not offered to other agents');
  const chat = (vscode as { chat?: Partial<typeof vscode.chat> }).chat;
  if (typeof chat?.createChatParticipant === 'function') out.push(registerParticipant(o));
  else o.logger.info('this VS Code has no chat participant API: @multiclaw is not available');
  return out;
}
