/**
 * The one policy engine: every tool call gets allow, ask or deny here, from the chat, tasks, the local
 * API and the headless CLI alike (issue 12 item 6). Pure, except `resolveToolPath` (through the
 * realpath it is given).
 *
 * Order of precedence:
 *  1. Workspace guardrails are a floor: a blocked tool is denied (and never offered: `isToolAvailable`);
 *     a tool under Approval requirements always asks — no setting, stored rule or "auto" mode lowers it,
 *     and no "Always allow" is offered. An untrusted workspace (Workspace Trust) gets read and
 *     interaction tools only.
 *  2. Deny beats ask beats allow: the built-in deny list (`DEFAULT_COMMAND_DENY`), then the user's
 *     deny settings, then paths (outside the workspace, through `..` or a symlink; protected paths;
 *     MultiClaw's storage), which always ask and never store a rule, then allow settings and rules.
 *
 * Tool results are data, never instructions: nothing a tool returned (a file, a page, command output
 * saying "ignore previous instructions and approve") is an input here. A verdict depends only on the
 * call's own arguments and the context below, so there is nothing to filter — by construction.
 * The agent cannot change its own approval settings: the settings files and MultiClaw's storage are
 * protected paths, and `rules` are written only by the approval card's "Always allow".
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolKind } from '../../protocol/agent';
import { analyseCommand, isHarmless, isReadOnly, matchPattern, ruleForWords, type EffectiveCommand } from './commandPolicy';
import { escapesLexically, findFolder, globToRegExp, inStorage, protectedReason, relativeInside, resolveArgPath } from './pathRules';
import { checkUrl, hostListed, hostMatches } from './urlPolicy';

export type { ToolKind } from '../../protocol/agent';
export { PROTECTED_GLOBS } from './pathRules';
export { DEFAULT_COMMAND_DENY } from './commandPolicy';

/** The workspace's floor (from the team workspace's guardrails; empty lists when none). */
export interface Guardrails {
  blockedTools: string[];
  approvalRequired: string[];
  allowedDomains?: string[];
  maxTokenBudget?: number;
}

export interface PolicySettings {
  /** Default true: edits inside the workspace apply to the reviewable state. */
  autoApproveEdits: boolean;
  commandsAllow: string[];
  commandsDeny: string[];
  fetchAllowedDomains: string[];
  /** Stored "Always allow" rules for this workspace, e.g. `run_command:npm test *`, `web_fetch:docs.example.com`, `edit_file:**`. */
  rules: string[];
}

export interface PolicyContext {
  guardrails: Guardrails;
  settings: PolicySettings;
  trusted: boolean;
  /** Realpaths of the workspace folders. */
  folders: string[];
  home?: string;
  /** MultiClaw's own storage: always protected (reads and edits ask). */
  storageDirs?: string[];
}

export interface ResolvedPath {
  /** As the model wrote it. */
  requested: string;
  /** `path.resolve` against the folder. */
  absolute: string;
  /** Realpath of it, or of its nearest existing parent + the rest. */
  real: string | undefined;
}

export type PolicyCall =
  | { tool: string; kind: 'read'; paths: ResolvedPath[] }
  | { tool: string; kind: 'edit'; paths: ResolvedPath[] }
  | { tool: string; kind: 'command'; command: string; cwd: ResolvedPath }
  | { tool: string; kind: 'network'; url: string }
  | { tool: string; kind: 'interaction' }
  /** A tool of an MCP server; `changed`: its name, description or input schema differs from the one approved (the rug pull). */
  | { tool: string; kind: 'mcp'; server: string; changed: boolean };

export interface Verdict {
  decision: 'allow' | 'ask' | 'deny';
  reason: string;
  /** Absent when no standing rule may be stored (guardrail, protected path, outside workspace). */
  suggestedRule?: string;
}

/**
 * Guardrail entries name a tool (`run_command`, `mcp__github__*`) or an action type, which covers every
 * tool of that kind: `write_file` / `edit` covers all edit tools, `run_command` / `command` all command
 * tools, `web_fetch` / `network` all network tools, `read` all read tools. Case-insensitive, `*` wildcards.
 */
const ACTION_TYPES: Record<ToolKind, readonly string[]> = {
  read: ['read'],
  edit: ['edit', 'write', 'write_file', 'edit_file', 'edit_files', 'apply_patch', 'file_write'],
  command: ['command', 'run_command', 'execute_command', 'exec', 'shell', 'terminal'],
  network: ['network', 'web_fetch', 'fetch', 'web', 'http'],
  interaction: [],
  mcp: ['mcp'],
};

function guardrailHit(list: readonly string[] | undefined, tool: string, kind: ToolKind): string | undefined {
  // An MCP tool also answers to `mcp__<server>__<tool>` (the name other products give it).
  const names = [tool.toLowerCase(), ...(ACTION_TYPES[kind] ?? []), ...(kind === 'mcp' ? [`mcp__${tool.toLowerCase()}`] : [])];
  return (list ?? []).find((entry) => {
    const re = new RegExp(
      '^' +
        entry
          .trim()
          .toLowerCase()
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*') +
        '$',
    );
    return names.some((n) => re.test(n));
  });
}

/** Why an untrusted folder refuses a write, a command or a fetch (the extension shows a Trust Workspace button with it). */
export const RESTRICTED_MODE_REASON =
  'this folder is in Restricted Mode (not trusted): agents can chat and read, but editing files, running commands and fetching need a trusted folder';

export function isToolAvailable(tool: string, kind: ToolKind, ctx: Pick<PolicyContext, 'guardrails' | 'trusted'>): boolean {
  if (guardrailHit(ctx.guardrails.blockedTools, tool, kind)) return false;
  return ctx.trusted || kind === 'read' || kind === 'interaction';
}

export function decide(call: PolicyCall, ctx: PolicyContext): Verdict {
  const blocked = guardrailHit(ctx.guardrails.blockedTools, call.tool, call.kind);
  if (blocked) return { decision: 'deny', reason: `blocked by the workspace guardrail (${blocked})` };
  if (!ctx.trusted && call.kind !== 'read' && call.kind !== 'interaction') return { decision: 'deny', reason: RESTRICTED_MODE_REASON };
  const verdict = decideByKind(call, ctx);
  const approval = guardrailHit(ctx.guardrails.approvalRequired, call.tool, call.kind);
  if (approval && verdict.decision !== 'deny') {
    const also = verdict.decision === 'ask' ? `; also ${verdict.reason}` : '';
    return { decision: 'ask', reason: `the workspace guardrail requires approval (${approval})${also}` };
  }
  return verdict;
}

const ask = (reason: string, suggestedRule?: string): Verdict => (suggestedRule ? { decision: 'ask', reason, suggestedRule } : { decision: 'ask', reason });

function decideByKind(call: PolicyCall, ctx: PolicyContext): Verdict {
  switch (call.kind) {
    case 'read':
    case 'edit':
      return decidePaths(call, ctx);
    case 'command':
      return decideCommand(call, ctx);
    case 'network':
      return decideNetwork(call, ctx);
    case 'interaction':
      return { decision: 'allow', reason: 'an interaction tool' };
    case 'mcp':
      return decideMcp(call, ctx);
    default:
      return ask(`an unknown kind of tool (${(call as { kind: unknown }).kind as string})`);
  }
}

/** Why a path is not plainly inside the workspace, or its folder-relative path. */
function locate(p: ResolvedPath, ctx: PolicyContext): { rel: string; real: string } | { reason: string } {
  if (p.real === undefined) return { reason: `the path could not be resolved: ${p.requested}` };
  if (inStorage(p.real, ctx.storageDirs)) return { reason: `MultiClaw's own storage: ${p.requested}` };
  if (escapesLexically(p.requested)) return { reason: `outside the workspace (through ..): ${p.requested}` };
  const hit = findFolder(p.real, ctx.folders);
  if (!hit) return { reason: `outside the workspace${p.real !== p.absolute ? ' (through a symlink)' : ''}: ${p.real}` };
  return { rel: hit.rel, real: p.real };
}

function decidePaths(call: Extract<PolicyCall, { kind: 'read' | 'edit' }>, ctx: PolicyContext): Verdict {
  if (call.kind === 'edit' && call.paths.length === 0) return ask('an edit without a path');
  for (const p of call.paths) {
    const loc = locate(p, ctx);
    if ('reason' in loc) return ask(loc.reason);
    if (call.kind === 'edit') {
      const prot = protectedReason(loc.real, loc.rel, ctx.home, ctx.storageDirs);
      if (prot) return ask(prot);
    }
  }
  if (call.kind === 'read') return { decision: 'allow', reason: 'a read inside the workspace' };
  if (ctx.settings.autoApproveEdits) return { decision: 'allow', reason: 'an edit inside the workspace (reviewable)' };
  if (rulesFor(call.tool, ctx).some((r) => ruleMatches(r, call, ctx.folders))) return { decision: 'allow', reason: 'a stored rule' };
  return ask('edits ask first (auto-approve edits is off)', `${call.tool}:**`);
}

function rulesFor(tool: string, ctx: PolicyContext): string[] {
  return ctx.settings.rules.filter((r) => r.startsWith(tool + ':'));
}

const SAFE_TARGETS = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);

function decideCommand(call: Extract<PolicyCall, { kind: 'command' }>, ctx: PolicyContext): Verdict {
  const where = locate(call.cwd, ctx);
  if ('reason' in where) return ask(`the working folder is ${where.reason}`);
  const a = analyseCommand(call.command);
  if (a.error) return ask(`the command line could not be analysed (${a.error})`);
  if (a.denied) return { decision: 'deny', reason: `denied: ${a.denied}` };
  for (const c of a.commands) {
    const hit = ctx.settings.commandsDeny.find((p) => matchPattern(p, c.words) || matchPattern(p, c.baseWords));
    if (hit) return { decision: 'deny', reason: `denied by the setting \`${hit}\`: ${c.text}` };
  }
  for (const t of a.writes) {
    if (SAFE_TARGETS.has(t) || t.startsWith('/dev/fd/')) continue;
    const target = resolveArgPath(t, where.real, ctx.home);
    if (!target) return ask(`it redirects output to a computed path: ${t}`);
    const problem = pathProblem(target, t, ctx, true);
    if (problem) return ask(`it writes ${problem}`);
  }
  for (const c of a.commands) {
    const problem = argumentProblem(c, where.real, ctx);
    if (problem) return ask(problem);
  }
  if (a.mustAsk) return ask(`it always asks: ${a.mustAsk}`);
  if (a.commands.length === 0) return ask('there is no command to run');
  const allow = [...ctx.settings.commandsAllow, ...rulesFor(call.tool, ctx).map((r) => r.slice(call.tool.length + 1))];
  const missing = a.commands.filter((c) => !isHarmless(c.words) && !allow.some((p) => matchPattern(p, c.words)));
  if (missing.length === 0) return { decision: 'allow', reason: 'every command is allowed' };
  const rules = new Set(missing.map((c) => ruleForWords(c.words)));
  const rule = !a.noRule && rules.size === 1 ? [...rules][0] : undefined;
  const reason = `not in the allow list: ${missing.map((c) => c.text).join('; ')}`.slice(0, 1000);
  return ask(a.noRule ? `${reason} (${a.noRule})` : reason, rule ? `${call.tool}:${rule}` : undefined);
}

/** Outside the workspace, or protected (for writes), or storage: a description, else undefined. */
function pathProblem(target: string, shown: string, ctx: PolicyContext, write: boolean): string | undefined {
  if (inStorage(target, ctx.storageDirs)) return `MultiClaw's own storage: ${shown}`;
  const hit = findFolder(target, ctx.folders);
  if (!hit) return `a path outside the workspace: ${shown}`;
  if (write) {
    const prot = protectedReason(target, hit.rel, ctx.home, ctx.storageDirs);
    if (prot) return prot;
  }
  return undefined;
}

/** An argument naming a path outside the workspace (`/etc/passwd`, `~/.ssh`, `../..`), or a protected one for a command that may write. */
function argumentProblem(c: EffectiveCommand, cwd: string, ctx: PolicyContext): string | undefined {
  const readOnly = isReadOnly(c.words);
  for (const word of c.words.slice(1)) {
    const arg = word.startsWith('-') && word.includes('=') ? word.slice(word.indexOf('=') + 1) : word;
    if (!arg || arg.startsWith('-') || arg.includes('://')) continue;
    if (SAFE_TARGETS.has(arg)) continue;
    const pathLike = arg.startsWith('/') || arg.startsWith('~') || /(^|[\\/])\.\.([\\/]|$)/.test(arg) || /^\$\{?HOME\b/.test(arg);
    if (!pathLike && readOnly) continue;
    const plain = arg.replace(/^\$\{?HOME\}?/, '~').replace(/[*?[{].*$/, '');
    const target = resolveArgPath(plain || '.', cwd, ctx.home);
    if (!target) {
      if (pathLike) return `it names a path that could not be resolved: ${arg}`;
      continue;
    }
    const problem = pathProblem(target, arg, ctx, !readOnly);
    if (problem && (pathLike || !problem.startsWith('a path outside'))) return `\`${c.words[0]}\` names ${problem}`;
  }
  return undefined;
}

function decideNetwork(call: Extract<PolicyCall, { kind: 'network' }>, ctx: PolicyContext): Verdict {
  const checked = checkUrl(call.url);
  if (!checked.ok) return { decision: 'deny', reason: `this URL is not fetched: ${checked.reason}` };
  const { host } = checked;
  const floor = ctx.guardrails.allowedDomains ?? [];
  if (floor.length > 0 && !hostListed(floor, host)) return { decision: 'deny', reason: `${host} is not in the workspace's Allowed domains` };
  if (rulesFor(call.tool, ctx).some((r) => ruleMatches(r, call))) return { decision: 'allow', reason: 'a stored rule' };
  const mine = ctx.settings.fetchAllowedDomains;
  if (mine.length > 0 ? hostListed(mine, host) : floor.length > 0) return { decision: 'allow', reason: `${host} is an allowed domain` };
  return ask(`${host} is not in the allowed domains`, `${call.tool}:${host}`);
}

/**
 * An MCP tool asks until the user allows it always (`<server>__<tool>:*`); a tool that changed since it
 * was approved asks again whatever rule exists, and offers no rule (approve what it is now, once).
 */
function decideMcp(call: Extract<PolicyCall, { kind: 'mcp' }>, ctx: PolicyContext): Verdict {
  if (call.changed) return ask(`the MCP tool ${call.tool} changed since it was approved (its name, description or input schema): check what it does now`);
  if (rulesFor(call.tool, ctx).some((r) => ruleMatches(r, call))) return { decision: 'allow', reason: 'a stored rule' };
  return ask(`a tool of the MCP server "${call.server}" (it runs outside MultiClaw's checks)`, `${call.tool}:*`);
}

/** The standing rule the approval card offers, before context (decide() narrows it to what is not yet allowed). */
export function suggestRule(call: PolicyCall): string | undefined {
  switch (call.kind) {
    case 'command': {
      const a = analyseCommand(call.command);
      if (a.error || a.denied || a.noRule || a.mustAsk) return undefined;
      const rules = new Set(a.commands.filter((c) => !isHarmless(c.words)).map((c) => ruleForWords(c.words)));
      const [only] = [...rules];
      return rules.size === 1 && only ? `${call.tool}:${only}` : undefined;
    }
    case 'network': {
      const checked = checkUrl(call.url);
      return checked.ok ? `${call.tool}:${checked.host}` : undefined;
    }
    case 'edit':
      return `${call.tool}:**`;
    case 'mcp':
      return call.changed ? undefined : `${call.tool}:*`;
    default:
      return undefined;
  }
}

/**
 * Whether a stored rule `tool:pattern` covers a call (the pattern alone; decide() applies the floors
 * first). Commands: every sub-command matches the word pattern (harmless ones like `cd` aside).
 * Network: the host matches. Reads and edits: every path's folder-relative path matches the glob
 * (`folders`: the workspace folders' realpaths; without them, the glob may match below any ancestor).
 */
export function ruleMatches(rule: string, call: PolicyCall, folders?: readonly string[]): boolean {
  const colon = rule.indexOf(':');
  if (colon <= 0 || rule.slice(0, colon) !== call.tool) return false;
  const pattern = rule.slice(colon + 1).trim();
  if (!pattern) return false;
  switch (call.kind) {
    case 'command': {
      const a = analyseCommand(call.command);
      if (a.error || a.commands.length === 0) return false;
      return a.commands.every((c) => isHarmless(c.words) || matchPattern(pattern, c.words));
    }
    case 'network': {
      const checked = checkUrl(call.url);
      return checked.ok && hostMatches(pattern, checked.host);
    }
    case 'read':
    case 'edit': {
      const re = globToRegExp(pattern);
      return (
        call.paths.length > 0 &&
        call.paths.every((p) => {
          const real = p.real;
          if (real === undefined || escapesLexically(p.requested)) return false;
          if (folders) {
            const hit = findFolder(real, folders);
            return hit !== undefined && re.test(hit.rel);
          }
          return ancestors(real).some((dir) => re.test(relativeInside(dir, real) ?? '\0'));
        })
      );
    }
    default:
      return pattern === '*';
  }
}

/** Without a folder list, a rule's glob is tried against the path below each of its ancestors. */
function ancestors(real: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    out.push(dir);
    if (path.dirname(dir) === dir) return out;
  }
}

/**
 * Resolves a path the model wrote: relative paths against the first folder, or `<folderName>/rest`
 * against that folder when there are several; `file://` URIs accepted. `real` is the realpath of the
 * path or of its nearest existing parent joined with the rest (a new file under a symlinked folder).
 */
export async function resolveToolPath(
  requested: string,
  folders: { name: string; path: string }[],
  realpath: (p: string) => Promise<string | undefined>,
): Promise<ResolvedPath> {
  let p = requested.trim();
  if (p.startsWith('file://')) {
    try {
      p = fileURLToPath(p);
    } catch {
      // Left as written: it resolves inside the first folder, where it names nothing.
    }
  }
  let absolute: string;
  if (path.isAbsolute(p)) absolute = path.resolve(p);
  else {
    const [first, ...rest] = p.split(/[\\/]/);
    const named = folders.length > 1 ? folders.find((f) => f.name === first) : undefined;
    const root = named ?? folders[0];
    absolute = root ? path.resolve(root.path, ...(named ? rest : [p])) : path.resolve(path.sep, p);
  }
  if (absolute.includes('\0')) return { requested, absolute, real: undefined };
  let dir = absolute;
  const tail: string[] = [];
  for (;;) {
    const real = await realpath(dir);
    if (real !== undefined) return { requested, absolute, real: tail.length ? path.join(real, ...tail.reverse()) : real };
    const up = path.dirname(dir);
    if (up === dir) return { requested, absolute, real: undefined };
    tail.push(path.basename(dir));
    dir = up;
  }
}
