/**
 * The chat composer's slash commands: what the completion list offers and what each one sends.
 * Pure (no DOM, no zod) so the webview, the host and the tests read the same table. An unknown
 * `/word` is not a command: it is sent as the text it is, so nothing typed is lost.
 */

export interface SlashCommandInfo {
  /** Without the slash: `plan`, or a skill's name. */
  name: string;
  /** One line for the completion list. */
  description: string;
  /** A codicon name. */
  icon: string;
  /** The command takes text after it (`/plan <text>`): accepting it leaves a space to type after. */
  takesText: boolean;
  kind: 'builtin' | 'skill';
}

export const BUILTIN_SLASH_COMMANDS: readonly SlashCommandInfo[] = [
  { name: 'new', description: 'Start a new conversation', icon: 'add', takesText: false, kind: 'builtin' },
  { name: 'clear', description: 'Clear the view (kept in Conversations)', icon: 'clear-all', takesText: false, kind: 'builtin' },
  { name: 'plan', description: 'Plan only: read-only tools, no changes', icon: 'checklist', takesText: true, kind: 'builtin' },
  { name: 'explain', description: 'Explain the attached selection or file', icon: 'lightbulb', takesText: true, kind: 'builtin' },
  { name: 'fix', description: 'Fix the Problems of the attached code', icon: 'wrench', takesText: true, kind: 'builtin' },
];

/** What a composer text asks for. */
export type SlashAction =
  /** `/new`, `/clear`: show a new, empty conversation (the old one stays in the list). */
  | { kind: 'newConversation' }
  /**
   * Send `text`. `mode: 'plan'` sends with read-only tools; `needsActive` says the active editor's
   * chip must go along (`/explain`, `/fix`); `problems` asks the host to attach its Problems.
   */
  | { kind: 'send'; text: string; mode?: 'plan'; needsActive?: boolean; problems?: boolean }
  /** A command that cannot be sent as typed (the composer keeps the text and shows why). */
  | { kind: 'invalid'; reason: string };

const COMMAND = /^\/([A-Za-z0-9][\w.-]*)(?:\s+([\s\S]*))?$/;

/** The command list for a `/` prefix typed at the start of the composer (the skills after the built-ins). */
export function slashCompletions(prefix: string, skills: readonly string[]): SlashCommandInfo[] {
  const all = [
    ...BUILTIN_SLASH_COMMANDS,
    ...skills
      .filter((s) => !BUILTIN_SLASH_COMMANDS.some((b) => b.name === s))
      .map((name): SlashCommandInfo => ({ name, description: `Use the skill ${name}`, icon: 'book', takesText: true, kind: 'skill' })),
  ];
  const p = prefix.toLowerCase();
  return all.filter((c) => c.name.toLowerCase().startsWith(p));
}

/** Reads the composer's text: a known command becomes its action; anything else is sent as typed. */
export function parseSlash(input: string, skills: readonly string[], attachedKind?: 'file' | 'selection'): SlashAction {
  const m = COMMAND.exec(input.trim());
  if (!m) return { kind: 'send', text: input };
  const name = m[1]!;
  const rest = (m[2] ?? '').trim();
  const what = attachedKind === 'selection' ? 'selection' : 'file';
  switch (name.toLowerCase()) {
    case 'new':
    case 'clear':
      return rest ? { kind: 'send', text: input } : { kind: 'newConversation' };
    case 'plan':
      return rest ? { kind: 'send', text: rest, mode: 'plan' } : { kind: 'invalid', reason: 'Type what to plan after /plan.' };
    case 'explain':
      return { kind: 'send', text: `Explain the attached ${what}.${rest ? `\n\n${rest}` : ''}`, needsActive: true };
    case 'fix':
      return {
        kind: 'send',
        text: `Fix the problems listed in the attached Problems in the attached ${what}.${rest ? `\n\n${rest}` : ''}`,
        needsActive: true,
        problems: true,
      };
  }
  if (skills.includes(name)) return { kind: 'send', text: rest ? `Use the skill ${name}: ${rest}` : `Use the skill ${name}.` };
  return { kind: 'send', text: input };
}
