/**
 * A POSIX shell line → the simple commands it would run, for the policy engine (`policy.ts`).
 *
 * Handles the separators `&&`, `||`, `;`, `|`, `|&`, `&` and newlines; sub-shells `( … )` and groups
 * `{ …; }`; command substitutions `$(…)` and backticks and process substitutions `<(…)` / `>(…)`, whose
 * inner commands are included (recursively); single, double and `$'…'` quotes and backslash escapes;
 * here-documents (an unquoted one's body is scanned for substitutions). Leading `VAR=value` words and
 * redirections are stripped from each command's words; a redirection that writes names its target in
 * `writes`. Reserved words (`if`, `then`, `do`, `!`, `{`, …) are dropped; `for …`/`select …` headers and
 * function definitions are not commands (their bodies are). Anything not understood is an `error`:
 * the caller then asks the user rather than guessing.
 *
 * Pure: no I/O.
 */

export interface ParsedCommand {
  /** Words after env assignments and redirections are removed, quotes removed. A substitution stays as its source text. */
  words: string[];
  /** The words joined by one space. */
  text: string;
  /** Names assigned by leading `VAR=value` words (`PATH`, `NODE_OPTIONS`, …). */
  assignments: string[];
  /** Commands joined by `|` share a pipeline id; `stage` is the position in it (0 = first). */
  pipeline: number;
  stage: number;
  /** 0 at the top level; > 0 inside `$(…)`, backticks or `<(…)`. */
  depth: number;
  /** Indexes of words that are (or contain) a command or process substitution. */
  substituted: number[];
}

export interface ParsedLine {
  commands: ParsedCommand[];
  /** Targets of redirections that write (`>`, `>>`, `>|`, `&>`, `<>`, `>&file`), as written (quotes removed). */
  writes: string[];
  /** Names of shell functions the line defines (they can shadow any command). */
  functions: string[];
  error?: string;
}

const MAX_LINE = 100_000;
const MAX_DEPTH = 32;
const RESERVED_PREFIX = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time']);
const RESERVED_ALONE = new Set(['fi', 'done', 'esac', '}', 'then', 'else', 'do']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

interface Word {
  value: string;
  /** Any part was quoted or escaped (a quoted `if` is not a reserved word, `'FOO=1'` is not an assignment). */
  quoted: boolean;
  /** The unquoted prefix, for the assignment test. */
  plainPrefix: string;
  substituted: boolean;
}

class ShellError extends Error {}

class Scanner {
  private pos = 0;
  private readonly heredocs: { delimiter: string; quoted: boolean; stripTabs: boolean }[] = [];

  constructor(
    private readonly src: string,
    private readonly out: ParsedLine,
    private readonly depth: number,
    private readonly counter: { next: number },
  ) {}

  /** Parses commands until `end` (`)` or end of input); returns with pos after `end`. */
  parseList(end: ')' | ''): void {
    if (this.depth > MAX_DEPTH) throw new ShellError('the line nests substitutions too deeply');
    let words: Word[] = [];
    let cur: Word | undefined;
    let pendingRedirect: 'write' | 'read' | 'dup' | 'heredoc' | 'heredoc-' | undefined;
    let pipeline = this.counter.next++;
    let stage = 0;
    const endWord = (): void => {
      if (!cur) return;
      const w = cur;
      cur = undefined;
      if (pendingRedirect) {
        const kind = pendingRedirect;
        pendingRedirect = undefined;
        if (kind === 'write') this.out.writes.push(w.value);
        else if (kind === 'dup' && !/^(\d+|-)$/.test(w.value)) this.out.writes.push(w.value);
        else if (kind === 'heredoc' || kind === 'heredoc-') this.heredocs.push({ delimiter: w.value, quoted: w.quoted, stripTabs: kind === 'heredoc-' });
        return;
      }
      words.push(w);
    };
    const endCommand = (next: 'pipe' | 'list'): void => {
      endWord();
      if (pendingRedirect) throw new ShellError('a redirection has no target');
      this.emit(words, pipeline, stage);
      words = [];
      if (next === 'pipe') stage++;
      else {
        pipeline = this.counter.next++;
        stage = 0;
      }
    };
    const word = (): Word => (cur ??= { value: '', quoted: false, plainPrefix: '', substituted: false });
    const addPlain = (s: string): void => {
      const w = word();
      if (!w.quoted && !w.substituted) w.plainPrefix += s;
      w.value += s;
    };

    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      const next = this.src[this.pos + 1];
      if (c === ' ' || c === '\t' || c === '\r') {
        endWord();
        this.pos++;
      } else if (c === '\n') {
        endCommand('list');
        this.pos++;
        this.readHeredocs();
      } else if (c === '#' && !cur) {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else if (c === '\\') {
        if (next === '\n') this.pos += 2;
        else {
          const w = word();
          w.quoted = true;
          w.value += next ?? '';
          this.pos += 2;
        }
      } else if (c === "'") {
        const close = this.src.indexOf("'", this.pos + 1);
        if (close < 0) throw new ShellError('an unterminated single quote');
        const w = word();
        w.quoted = true;
        w.value += this.src.slice(this.pos + 1, close);
        this.pos = close + 1;
      } else if (c === '"') {
        this.pos++;
        const w = word();
        w.quoted = true;
        this.readDouble(w, '"');
      } else if (c === '$') {
        this.readDollar(word(), false);
      } else if (c === '`') {
        this.readBacktick(word());
      } else if (c === ';') {
        if (next === ';') throw new ShellError('`case` statements are not analysed');
        endCommand('list');
        this.pos++;
      } else if (c === '&') {
        if (next === '>') {
          endWord();
          this.pos += this.src[this.pos + 2] === '>' ? 3 : 2;
          pendingRedirect = 'write';
        } else {
          endCommand('list');
          this.pos += next === '&' ? 2 : 1;
        }
      } else if (c === '|') {
        if (next === '|') {
          endCommand('list');
          this.pos += 2;
        } else {
          endCommand('pipe');
          this.pos += next === '&' ? 2 : 1;
        }
      } else if (c === '(') {
        const isDefinition = /^\s*\)/.test(this.src.slice(this.pos + 1));
        if (isDefinition && ((cur && words.length === 0) || (!cur && words.length === 1))) {
          // name() { body }: a function definition; the body's commands are parsed as usual.
          this.out.functions.push(cur ? cur.value : words[0].value);
          cur = undefined;
          words = [];
          this.pos = this.src.indexOf(')', this.pos) + 1;
        } else if (!cur && words.length === 0 && !pendingRedirect) {
          this.pos++;
          this.parseList(')');
        } else throw new ShellError('an unexpected `(`');
      } else if (c === ')') {
        if (end !== ')') throw new ShellError('an unbalanced `)`');
        endCommand('list');
        this.pos++;
        return;
      } else if (c === '<' || c === '>') {
        if (next === '(') {
          this.readSubstitution(word());
          continue;
        }
        if (cur && /^\d+$/.test(cur.value) && !cur.quoted) cur = undefined;
        else endWord();
        if (pendingRedirect) throw new ShellError('a redirection has no target');
        const op = /^(<<<|<<-|<<|<>|<&|>>|>\||>&|<|>)/.exec(this.src.slice(this.pos))![1];
        this.pos += op.length;
        pendingRedirect =
          op === '<<<' || op === '<' || op === '<&' ? 'read' : op === '<<' ? 'heredoc' : op === '<<-' ? 'heredoc-' : op === '>&' ? 'dup' : 'write';
      } else {
        addPlain(c);
        this.pos++;
      }
    }
    if (end === ')') throw new ShellError('an unbalanced `(` or `$(`');
    endCommand('list');
    if (this.heredocs.length > 0) throw new ShellError(`a here-document with no body (${this.heredocs[0].delimiter})`);
  }

  private emit(words: Word[], pipeline: number, stage: number): void {
    const assignments: string[] = [];
    let i = 0;
    while (i < words.length && ASSIGNMENT.test(words[i].plainPrefix)) assignments.push(/^[A-Za-z_][A-Za-z0-9_]*/.exec(words[i++].value)![0]);
    let rest = words.slice(i);
    while (rest.length > 0 && !rest[0].quoted && RESERVED_PREFIX.has(rest[0].value)) rest = rest.slice(1);
    if (rest.length > 0 && !rest[0].quoted) {
      const first = rest[0].value;
      if (rest.length === 1 && RESERVED_ALONE.has(first)) rest = [];
      else if (first === 'for' || first === 'select') rest = [];
      else if (first === 'case' || first === 'coproc' || first === '[[' || first === '((') throw new ShellError(`\`${first}\` is not analysed`);
      else if (first === 'function') {
        if (rest[1]) this.out.functions.push(rest[1].value.replace(/\(\)$/, ''));
        rest = [];
      }
    }
    if (rest.length === 0 && assignments.length === 0) return;
    const substituted: number[] = [];
    rest.forEach((w, k) => w.substituted && substituted.push(k));
    const values = rest.map((w) => w.value);
    this.out.commands.push({ words: values, text: values.join(' '), assignments, pipeline, stage, depth: this.depth, substituted });
  }

  /** Inside double quotes (or an unquoted here-document body when `close` is ''): `\`, `$`, backticks. */
  private readDouble(w: Word, close: '"' | ''): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === close) {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const n = this.src[this.pos + 1];
        if (n === '\n') this.pos += 2;
        else if (n !== undefined && '$`"\\'.includes(n)) {
          w.value += n;
          this.pos += 2;
        } else {
          w.value += c;
          this.pos++;
        }
      } else if (c === '$') this.readDollar(w, true);
      else if (c === '`') this.readBacktick(w);
      else {
        w.value += c;
        this.pos++;
      }
    }
    if (close) throw new ShellError('an unterminated double quote');
  }

  private readDollar(w: Word, inDouble: boolean): void {
    const rest = this.src.slice(this.pos);
    if (rest.startsWith('$((')) {
      // Arithmetic: not a command, but it may hold substitutions.
      const start = this.pos;
      let depth = 0;
      let i = this.pos + 1;
      for (; i < this.src.length; i++) {
        if (this.src[i] === '(') depth++;
        else if (this.src[i] === ')' && --depth === 0) break;
      }
      if (i >= this.src.length) throw new ShellError('an unbalanced `$((`');
      const body = this.src.slice(start + 3, i - 1);
      if (/[`$]\(|`/.test(body)) throw new ShellError('a substitution inside `$((…))` is not analysed');
      w.value += this.src.slice(start, i + 1);
      this.pos = i + 1;
    } else if (rest.startsWith('$(')) {
      this.readSubstitution(w);
    } else if (rest.startsWith('${')) {
      const start = this.pos;
      this.pos += 2;
      const inner: Word = { value: '', quoted: true, plainPrefix: '', substituted: false };
      let depth = 1;
      while (this.pos < this.src.length) {
        const c = this.src[this.pos];
        if (c === '}' && --depth === 0) break;
        if (c === '{') depth++;
        if (c === '$') this.readDollar(inner, true);
        else if (c === '`') this.readBacktick(inner);
        else if (c === '\\') {
          inner.value += this.src.slice(this.pos, this.pos + 2);
          this.pos += 2;
        } else if (c === "'" && !inDouble) {
          const close = this.src.indexOf("'", this.pos + 1);
          if (close < 0) throw new ShellError('an unterminated single quote');
          inner.value += this.src.slice(this.pos, close + 1);
          this.pos = close + 1;
        } else {
          inner.value += c;
          this.pos++;
        }
      }
      if (this.pos >= this.src.length) throw new ShellError('an unbalanced `${`');
      this.pos++;
      if (/^[!#]?[A-Za-z_]\w*@[PEAKaQ]/.test(inner.value) || /^!/.test(inner.value))
        throw new ShellError('an indirect or prompt expansion (`${!x}`, `${x@P}`) is not analysed');
      if (inner.substituted) w.substituted = true;
      w.value += this.src.slice(start, this.pos);
    } else if (!inDouble && (rest.startsWith("$'") || rest.startsWith('$"'))) {
      this.pos++;
      w.quoted = true;
      if (rest[1] === '"') {
        this.pos++;
        this.readDouble(w, '"');
      } else {
        let i = this.pos + 1;
        let text = '';
        for (; i < this.src.length && this.src[i] !== "'"; i++) {
          if (this.src[i] === '\\') text += unescapeAnsi(this.src[++i] ?? '');
          else text += this.src[i];
        }
        if (i >= this.src.length) throw new ShellError("an unterminated $'…' quote");
        w.value += text;
        this.pos = i + 1;
      }
    } else {
      w.value += '$';
      this.pos++;
    }
  }

  /** `$(`, `<(` or `>(` at pos: parses the inner list into the same output, one level deeper. */
  private readSubstitution(w: Word): void {
    const start = this.pos;
    const inner = new Scanner(this.src, this.out, this.depth + 1, this.counter);
    inner.pos = this.pos + 2;
    inner.parseList(')');
    this.pos = inner.pos;
    w.substituted = true;
    w.value += this.src.slice(start, this.pos);
  }

  private readBacktick(w: Word): void {
    let i = this.pos + 1;
    let body = '';
    for (; i < this.src.length && this.src[i] !== '`'; i++) {
      if (this.src[i] === '\\' && i + 1 < this.src.length && '$`\\'.includes(this.src[i + 1])) body += this.src[++i];
      else body += this.src[i];
    }
    if (i >= this.src.length) throw new ShellError('an unterminated backtick');
    const inner = new Scanner(body, this.out, this.depth + 1, this.counter);
    inner.parseList('');
    w.substituted = true;
    w.value += this.src.slice(this.pos, i + 1);
    this.pos = i + 1;
  }

  private readHeredocs(): void {
    while (this.heredocs.length > 0) {
      const doc = this.heredocs.shift()!;
      const bodyStart = this.pos;
      for (;;) {
        if (this.pos >= this.src.length) throw new ShellError(`an unterminated here-document (${doc.delimiter})`);
        const eol = this.src.indexOf('\n', this.pos);
        const lineEnd = eol < 0 ? this.src.length : eol;
        const line = this.src.slice(this.pos, lineEnd);
        const lineStart = this.pos;
        this.pos = eol < 0 ? this.src.length : eol + 1;
        if ((doc.stripTabs ? line.replace(/^\t+/, '') : line).replace(/\r$/, '') === doc.delimiter) {
          if (!doc.quoted) {
            const body = new Scanner(this.src.slice(bodyStart, lineStart), this.out, this.depth + 1, this.counter);
            body.readDouble({ value: '', quoted: true, plainPrefix: '', substituted: false }, '');
          }
          break;
        }
      }
    }
  }
}

function unescapeAnsi(c: string): string {
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"' };
  return map[c] ?? '\\' + c;
}

/** Parses a shell line into its simple commands with their structure (pipelines, depth, assignments). */
export function parseCommandLine(line: string): ParsedLine {
  const out: ParsedLine = { commands: [], writes: [], functions: [] };
  if (line.length > MAX_LINE) return { ...out, error: `the command line is longer than ${MAX_LINE} characters` };
  if (line.includes('\0')) return { ...out, error: 'the command line contains a NUL character' };
  try {
    new Scanner(line, out, 0, { next: 0 }).parseList('');
  } catch (err) {
    if (!(err instanceof ShellError)) throw err;
    out.error = err.message;
  }
  return out;
}

/**
 * The simple commands a shell line would run, each normalised (words joined by one space, quotes
 * removed, env assignments and redirections stripped). `writes` lists redirection targets that write.
 */
export function splitCommandLine(line: string): { commands: string[]; writes: string[]; error?: string } {
  const parsed = parseCommandLine(line);
  const commands = parsed.commands.filter((c) => c.words.length > 0).map((c) => c.text);
  return parsed.error === undefined ? { commands, writes: parsed.writes } : { commands, writes: parsed.writes, error: parsed.error };
}

/** The words of one simple command (the first, if the text holds several), quotes removed, env assignments and redirections stripped. */
export function commandWords(cmd: string): string[] {
  const parsed = parseCommandLine(cmd);
  return parsed.commands.find((c) => c.depth === 0 && c.words.length > 0)?.words ?? [];
}
