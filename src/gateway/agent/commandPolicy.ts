/**
 * The command half of the policy engine: what a `run_command` line really runs, the built-in deny list,
 * rule patterns and the suggested "Always allow" rule. Pure: no I/O.
 *
 * A line is split by `parseCommandLine` into simple commands (every `&&`, `;`, `|`, newline, `$(…)`,
 * backtick and `<(…)` part). Wrappers are looked through (`env`, `nohup`, `timeout`, `nice`, `xargs`,
 * `command`, `exec`, `stdbuf`, `sh -c '…'`, `find -exec … ;`), so `env rm -rf ~` is `rm -rf ~`.
 */
import path from 'node:path';
import { parseCommandLine, type ParsedCommand } from './commandLine';

/**
 * Built-in deny patterns: always applied, a setting cannot remove them. `*` alone matches any number of
 * words (also none); inside a word it matches any characters. Matched against each sub-command, with the
 * first word also taken by its base name (`/bin/rm` is `rm`). On top of these, `analyseCommand` denies
 * `rm -r` of `/`, `~`, `$HOME` or a system folder (any flag spelling, `--no-preserve-root`), a fork bomb,
 * a download piped (or `<(…)`-fed) into a shell or interpreter, and redirections into a block device.
 */
export const DEFAULT_COMMAND_DENY: readonly string[] = [
  'sudo *',
  'su *',
  'doas *',
  'pkexec *',
  'mkfs*',
  'mkfs* *',
  'wipefs *',
  'fdisk *',
  'sfdisk *',
  'parted *',
  'dd *',
  'shutdown *',
  'reboot *',
  'halt *',
  'poweroff *',
  'chmod -R 777 *',
  'chmod * 777 /',
  'chown -R * /',
  'git push * --force* *',
  'git push * -f *',
  'git push * --mirror *',
  'git push * --delete *',
  'crontab -r *',
  'kill * -1',
];

/** Harmless on their own (their path arguments and redirections are still checked): count as allowed. */
const HARMLESS = new Set(['cd', 'pwd', 'true', 'false', ':', 'echo', 'printf', 'test', '[', 'exit', 'sleep', 'wait', 'shift']);
/** Commands that only read (a protected path as an argument is fine; outside the workspace still asks). */
const READ_ONLY = new Set(['ls', 'cat', 'head', 'tail', 'grep', 'rg', 'wc', 'stat', 'file', 'less', 'more', 'diff', 'tree', 'du', 'find']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish', 'csh', 'tcsh', 'ash', 'pwsh', 'powershell']);
const INTERPRETERS = new Set([...SHELLS, 'python', 'python3', 'node', 'perl', 'ruby', 'php', 'deno', 'bun', 'lua', 'Rscript']);
const DOWNLOADERS = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https', 'nc', 'ncat', 'socat', 'ftp', 'tftp']);
/** Never offered as an "Always allow" rule: a wildcard over these allows too much. */
const NEVER_RULE = new Set([
  ...SHELLS,
  ...DOWNLOADERS,
  'rm',
  'rmdir',
  'shred',
  'sudo',
  'su',
  'doas',
  'eval',
  'exec',
  'source',
  '.',
  'chmod',
  'chown',
  'dd',
  'kill',
  'pkill',
  'killall',
  'ssh',
  'scp',
  'sftp',
  'rsync',
  'alias',
  'export',
  'trap',
]);
/** Tools with sub-commands: the rule needs one (`git status *`), never `git *` from `git -c x=y …`. */
const MULTI_COMMAND = new Set([
  'git',
  'npm',
  'pnpm',
  'yarn',
  'npx',
  'docker',
  'podman',
  'kubectl',
  'cargo',
  'go',
  'dotnet',
  'gh',
  'bun',
  'deno',
  'pip',
  'pip3',
  'uv',
  'poetry',
]);
/** Tools whose second word is usually a file or option, not a sub-command: the rule is `tool *`. */
const SINGLE_WORD_TOOLS = new Set([
  ...READ_ONLY,
  'touch',
  'mkdir',
  'cp',
  'mv',
  'sed',
  'awk',
  'jq',
  'sort',
  'uniq',
  'tsc',
  'eslint',
  'prettier',
  'pytest',
  'jest',
  'vitest',
  'mocha',
]);
/** Environment variables that change which program runs or what it loads. */
const DANGEROUS_ENV =
  /^(PATH|LD_\w+|DYLD_\w+|NODE_OPTIONS|NODE_PATH|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|BASH_ENV|ENV|BASHOPTS|SHELLOPTS|PS4|PROMPT_COMMAND|IFS|GIT_\w+|npm_config_\w+|NPM_CONFIG_\w+|HOME|ZDOTDIR|EDITOR|VISUAL|PAGER)$/;
const SAFE_DEVICES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/zero']);

export interface EffectiveCommand {
  words: string[];
  text: string;
  /** The words with the first one by its base name, for deny matching. */
  baseWords: string[];
}

export interface CommandAnalysis {
  error?: string;
  commands: EffectiveCommand[];
  /** Redirection targets that write. */
  writes: string[];
  /** A built-in deny reason. */
  denied?: string;
  /** Why no standing rule may cover this line (it still may be allowed once). */
  noRule?: string;
  /** Why it must ask even when every sub-command is allowed (dangerous env, function definitions). */
  mustAsk?: string;
}

const base = (w: string): string => (w.includes('/') ? path.posix.basename(w) : w);
const isFlag = (w: string): boolean => w.startsWith('-') && w !== '-';

/** Matches a rule pattern (`npm test *`) against a command's words. */
export function matchPattern(pattern: string, words: readonly string[]): boolean {
  const pw = pattern.trim().split(/\s+/).filter(Boolean);
  if (pw.length === 0) return false;
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (words.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === pw.length) r = j === words.length;
    else if (pw[i] === '*') r = go(i + 1, j) || (j < words.length && go(i, j + 1));
    else r = j < words.length && wordGlob(pw[i]).test(words[j]) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

const globCache = new Map<string, RegExp>();
function wordGlob(g: string): RegExp {
  let re = globCache.get(g);
  if (!re) {
    re = new RegExp(
      '^' +
        g
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$',
      's',
    );
    globCache.set(g, re);
  }
  return re;
}

function effective(words: string[]): EffectiveCommand {
  return { words, text: words.join(' '), baseWords: [base(words[0] ?? ''), ...words.slice(1)] };
}

/** Skips a wrapper's options; `withValue` lists options that take the next word as their value. */
function skipOptions(words: string[], from: number, withValue: readonly string[]): number {
  let i = from;
  while (i < words.length && isFlag(words[i])) {
    if (words[i] === '--') return i + 1;
    if (withValue.includes(words[i])) i++;
    i++;
  }
  return i;
}

interface Unwrapped {
  commands: string[][];
  assignments: string[];
  lines: string[];
}

/** Looks through wrappers: the commands that really run (several for `find -exec`), inline shell scripts in `lines`. */
function unwrap(words: string[]): Unwrapped {
  const out: Unwrapped = { commands: [], assignments: [], lines: [] };
  let w = words;
  for (let guard = 0; guard < 20 && w.length > 0; guard++) {
    const b = base(w[0]);
    let i = -1;
    if (b === 'env') {
      i = 1;
      while (i < w.length && (isFlag(w[i]) || /^[A-Za-z_]\w*=/.test(w[i]))) {
        if (/^[A-Za-z_]\w*=/.test(w[i])) out.assignments.push(w[i].split('=')[0]);
        if ((w[i] === '-S' || w[i] === '--split-string') && w[i + 1] !== undefined) out.lines.push(w[i + 1]);
        else if (/^(-S|--split-string=)./.test(w[i])) out.lines.push(w[i].replace(/^(-S|--split-string=)/, ''));
        if (w[i] === '-u' || w[i] === '-C' || w[i] === '-S' || w[i] === '--split-string') i++;
        i++;
      }
    } else if (b === 'nohup' || b === 'builtin') i = 1;
    else if (b === 'exec') i = skipOptions(w, 1, ['-a']);
    else if (b === 'command' && !w.slice(1).some((x) => x === '-v' || x === '-V')) i = skipOptions(w, 1, []);
    else if (b === 'nice') i = skipOptions(w, 1, ['-n']);
    else if (b === 'ionice') i = skipOptions(w, 1, ['-c', '-n', '-p']);
    else if (b === 'stdbuf') i = skipOptions(w, 1, ['-i', '-o', '-e']);
    else if (b === 'time') i = skipOptions(w, 1, ['-f', '-o']);
    else if (b === 'timeout') i = skipOptions(w, 1, ['-s', '-k', '--signal', '--kill-after']) + 1;
    else if (b === 'xargs') {
      i = skipOptions(w, 1, ['-I', '-n', '-P', '-L', '-d', '-s', '-E', '-a', '--delimiter', '--max-args', '--max-procs', '--arg-file']);
      if (i >= w.length) w = [...w, 'echo'];
    } else if (SHELLS.has(b)) {
      const c = w.findIndex((x, k) => k > 0 && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(x));
      if (c > 0 && w[c + 1] !== undefined) {
        // The shell itself is a wrapper here: what counts is the script it is given.
        out.lines.push(w[c + 1]);
        return out;
      }
    } else if (b === 'find') {
      const rest = [...w];
      for (let k = 1; k < rest.length; k++) {
        if (['-exec', '-execdir', '-ok', '-okdir'].includes(rest[k])) {
          let e = k + 1;
          while (e < rest.length && rest[e] !== ';' && rest[e] !== '+') e++;
          out.commands.push(...unwrap(rest.slice(k + 1, e)).commands);
          k = e;
        } else if (rest[k] === '-delete') out.commands.push(['rm', '--', '{}']);
      }
      out.commands.push(w);
      return out;
    }
    if (i < 0) break;
    w = w.slice(i);
  }
  if (w.length > 0) out.commands.push(w);
  return out;
}

function rmDenied(words: readonly string[]): string | undefined {
  if (base(words[0]) !== 'rm') return undefined;
  if (words.includes('--no-preserve-root')) return 'rm with --no-preserve-root';
  const recursive = words.some((w) => /^-[a-zA-Z]*[rR]/.test(w) || w === '--recursive');
  if (!recursive) return undefined;
  const vital = new Set([
    '/',
    '~',
    '$HOME',
    '${HOME}',
    '/home',
    '/Users',
    '/root',
    '/usr',
    '/etc',
    '/var',
    '/bin',
    '/sbin',
    '/boot',
    '/lib',
    '/opt',
    '/System',
    'C:',
    'C:\\',
  ]);
  for (const w of words.slice(1)) {
    if (isFlag(w)) continue;
    const t = w.replace(/(\/\*?)+$/, '') || '/';
    const norm = t.startsWith('/') ? path.posix.normalize(t).replace(/\/+$/, '') || '/' : t;
    if (vital.has(norm) || vital.has(t)) return `rm -r of ${w}`;
  }
  return undefined;
}

/** What a command line runs, and what the built-in rules say about it. */
export function analyseCommand(line: string, depth = 0): CommandAnalysis {
  const parsed = parseCommandLine(line);
  const result: CommandAnalysis = { commands: [], writes: [...parsed.writes] };
  if (parsed.error) return { ...result, error: parsed.error };
  if (depth > 4) return { ...result, error: 'shell scripts nested too deeply' };
  const flag = (key: 'denied' | 'noRule' | 'mustAsk', reason: string): void => {
    result[key] ??= reason;
  };
  if (/([^\s(){}|;&]+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*&?\s*\1/.test(line)) flag('denied', 'a fork bomb');
  if (parsed.functions.length > 0) flag('mustAsk', `it defines a shell function (${parsed.functions[0]})`);
  const downloads = parsed.commands.some((c) => c.words.length > 0 && DOWNLOADERS.has(base(c.words[0])));
  for (const pc of parsed.commands) {
    for (const a of pc.assignments) if (DANGEROUS_ENV.test(a)) flag('mustAsk', `it sets ${a}`);
    if (pc.words.length === 0) continue;
    const u = unwrap(pc.words);
    for (const a of u.assignments) if (DANGEROUS_ENV.test(a)) flag('mustAsk', `it sets ${a}`);
    if (['export', 'declare', 'typeset', 'local', 'readonly'].includes(pc.words[0])) {
      for (const w of pc.words.slice(1)) if (DANGEROUS_ENV.test(w.split('=')[0])) flag('mustAsk', `it sets ${w.split('=')[0]}`);
    }
    checkExecution(pc, u, downloads, flag);
    for (const words of u.commands) {
      const eff = effective(words);
      result.commands.push(eff);
      const rm = rmDenied(eff.baseWords);
      if (rm) flag('denied', rm);
      const hit = DEFAULT_COMMAND_DENY.find((p) => matchPattern(p, eff.words) || matchPattern(p, eff.baseWords));
      if (hit) flag('denied', `the built-in deny rule \`${hit}\``);
      if (NEVER_RULE.has(eff.baseWords[0]) || /[$`]/.test(eff.words[0])) flag('noRule', `\`${eff.baseWords[0]}\` is never allowed by a standing rule`);
    }
    for (const inline of u.lines) {
      const inner = analyseCommand(inline, depth + 1);
      if (inner.error) return { ...result, error: `inside ${pc.words[0]} -c: ${inner.error}` };
      result.commands.push(...inner.commands);
      result.writes.push(...inner.writes);
      for (const key of ['denied', 'noRule', 'mustAsk'] as const) if (inner[key]) flag(key, inner[key]);
    }
  }
  for (const t of result.writes) if (/^\/dev\//.test(t) && !SAFE_DEVICES.has(t) && !t.startsWith('/dev/fd/')) flag('denied', `it writes to the device ${t}`);
  return result;
}

/** A shell or interpreter running code it did not get from a file: piped in, `<(…)`, `-c "$(…)"`, `eval`. */
function checkExecution(pc: ParsedCommand, u: Unwrapped, downloads: boolean, flag: (key: 'denied' | 'noRule' | 'mustAsk', reason: string) => void): void {
  for (const words of [pc.words, ...u.commands]) {
    const b = base(words[0]);
    const args = words.slice(1);
    // No script file: it reads its code from a pipe or a process substitution (`| sh`, `> >(sh)`).
    const fromStdin = INTERPRETERS.has(b) && (pc.stage > 0 || pc.depth > 0) && args.every((a) => isFlag(a) || a === '-');
    const fromSubst = (INTERPRETERS.has(b) || b === 'source' || b === '.' || b === 'eval') && pc.substituted.length > 0;
    if (fromStdin || fromSubst || b === 'eval') {
      flag('noRule', `it runs code through ${b}`);
      if (downloads) flag('denied', `it downloads code and runs it with ${b}`);
    }
  }
}

/** The rule "Always allow" offers for one command: the first two words + ` *`, or the first word + ` *`. */
export function ruleForWords(words: readonly string[]): string | undefined {
  const first = words[0];
  if (!first || /[$`*?]/.test(first)) return undefined;
  if (NEVER_RULE.has(base(first))) return undefined;
  const second = words[1];
  if (INTERPRETERS.has(base(first))) {
    if (second === '-m' && words[2] && /^[\w.-]+$/.test(words[2])) return `${first} -m ${words[2]} *`;
    if (!second || isFlag(second) || /[$`*?]/.test(second)) return undefined;
    return `${first} ${second} *`;
  }
  if (second && !SINGLE_WORD_TOOLS.has(base(first)) && /^[A-Za-z][\w:-]*$/.test(second)) return `${first} ${second} *`;
  return MULTI_COMMAND.has(base(first)) ? undefined : `${first} *`;
}

export function isHarmless(words: readonly string[]): boolean {
  const b = base(words[0] ?? '');
  if (b === 'printf' && words.some((w) => w.startsWith('-v'))) return false;
  if (b === 'set') return words.slice(1).every((w) => /^[-+][euxvo]+$/.test(w) || w === 'pipefail');
  if (['export', 'declare', 'typeset', 'local', 'readonly'].includes(b)) return words.slice(1).every((w) => /^[A-Za-z_]\w*(=|$)/.test(w) && !/[$`]/.test(w));
  return HARMLESS.has(b);
}

export function isReadOnly(words: readonly string[]): boolean {
  return READ_ONLY.has(base(words[0] ?? ''));
}
