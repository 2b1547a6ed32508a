/** What the composer's text sends once slash commands are read (`parseSlash`): a protocol command, or why not. */
import type { ChatCommandParams } from '../../protocol/chatView';
import { parseSlash } from '../../protocol/slashCommands';

type Attachment = NonNullable<ChatCommandParams<'chat/send'>['attachActive']>;
export type SlashSend = { newConversation: true; params?: undefined } | { newConversation?: undefined; params: ChatCommandParams<'chat/send'> };

/** A string is the reason nothing is sent (the composer keeps the text and shows it). */
export function slashSend(text: string, agentId: string, skills: readonly string[], attached: Attachment | undefined): SlashSend | string {
  const action = parseSlash(text, skills, attached?.range ? 'selection' : 'file');
  if (action.kind === 'invalid') return action.reason;
  if (action.kind === 'newConversation') return { newConversation: true };
  if (action.needsActive && !attached) {
    const name = text.trim().split(/\s/, 1)[0];
    return `${name} works on the attached file or selection: open one in the editor (or add its chip with +) and try again.`;
  }
  return {
    params: {
      text: action.text,
      agentId,
      ...(attached ? { attachActive: attached } : {}),
      ...(action.mode ? { mode: action.mode } : {}),
      ...(action.problems ? { problems: true } : {}),
    },
  };
}
