/**
 * Where the agent's commands run: in one reused "MultiClaw Agent" terminal through shell integration
 * (`executeCommand`, the output stream, the exit code from `onDidEndTerminalShellExecution`), so the
 * user sees each command and its output. Without shell integration (none within ~3 s of creating the
 * terminal, or a shell that has none) a child process runs it instead — in its own process group, so
 * a timeout or Stop ends the whole tree — and its output is still shown, in a Pseudoterminal named
 * "MultiClaw Agent (fallback)". A command never makes the agent wait forever: background mode returns
 * at the timeout leaving it running; otherwise it is interrupted (Ctrl+C, then the terminal is closed)
 * at its timeout.
 */
import * as vscode from 'vscode';
import { OutputCap, ProcessRunner, stripAnsi } from '../../gateway/agent/processRunner';
import type { CommandOptions, CommandResult } from '../../gateway/agent/workspacePort';
import type { Logger } from '../../gateway/ports';
import { Disposable } from '../../gateway/util/disposable';

export const TERMINAL_NAME = 'MultiClaw Agent';
export const FALLBACK_TERMINAL_NAME = 'MultiClaw Agent (fallback)';

export interface AgentTerminalOptions {
  /** How long a new terminal may take to report shell integration (default 3 s). */
  shellIntegrationTimeoutMs?: number;
  /** After Ctrl+C, how long the command may take to end before its terminal is closed (default 2 s). */
  interruptGraceMs?: number;
  /** Always use the child-process fallback (tests; a setting could expose it). */
  forceFallback?: boolean;
}

/** `'it'\''s'`: a POSIX shell word. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Terminal output, for the model: ANSI and the shell-integration markers stripped, CRLF as LF. */
function clean(text: string): string {
  return stripAnsi(text.replace(/\r\n/g, '\n'));
}

/** A Pseudoterminal that shows what the fallback's child processes print (nothing is lost before it opens). */
class FallbackPty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private opened = false;
  private backlog: string[] = [];
  /** Ctrl+C typed into the terminal stops the running command. */
  onInterrupt: (() => void) | undefined;

  open(): void {
    this.opened = true;
    for (const t of this.backlog) this.writeEmitter.fire(t);
    this.backlog = [];
  }

  close(): void {
    this.opened = false;
  }

  handleInput(data: string): void {
    if (data.includes('\x03')) this.onInterrupt?.();
  }

  write(text: string): void {
    const t = text.replace(/\r?\n/g, '\r\n');
    if (this.opened) this.writeEmitter.fire(t);
    else this.backlog.push(t);
  }

  dispose(): void {
    this.writeEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

export class AgentTerminal extends Disposable {
  private terminal: vscode.Terminal | undefined;
  /** Terminals whose command still runs (backgrounded): the next command gets a new terminal. */
  private readonly busy = new Set<vscode.Terminal>();
  /** Terminals that got no shell integration in time: their commands use the fallback. */
  private readonly noIntegration = new WeakSet<vscode.Terminal>();
  private fallback: { terminal: vscode.Terminal; pty: FallbackPty } | undefined;
  private readonly runner = new ProcessRunner();
  private readonly opts: Required<AgentTerminalOptions>;

  constructor(
    private readonly log: Logger,
    options: AgentTerminalOptions = {},
  ) {
    super();
    this.opts = { shellIntegrationTimeoutMs: 3000, interruptGraceMs: 2000, forceFallback: false, ...options };
    this._register(
      vscode.window.onDidCloseTerminal((t) => {
        this.busy.delete(t);
        if (t === this.terminal) this.terminal = undefined;
        if (t === this.fallback?.terminal) this.fallback = undefined;
      }),
    );
  }

  async run(o: CommandOptions, forceFallback = this.opts.forceFallback): Promise<CommandResult> {
    if (o.signal.aborted) return { exitCode: undefined, output: '', ended: 'cancelled', via: forceFallback ? 'pseudoterminal' : 'shell-integration' };
    if (!forceFallback) {
      const t = await this.integratedTerminal(o.cwd);
      if (t) {
        try {
          return await this.runIntegrated(t.terminal, t.integration, o);
        } catch (err) {
          this.log.warn(`shell integration failed, running "${o.command}" as a child process: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return this.runFallback(o);
  }

  /** The reusable terminal with shell integration, or undefined when the shell offers none in time. */
  private async integratedTerminal(cwd: string): Promise<{ terminal: vscode.Terminal; integration: vscode.TerminalShellIntegration } | undefined> {
    let t = this.terminal;
    if (t && (t.exitStatus !== undefined || this.busy.has(t))) t = undefined;
    if (t?.shellIntegration) return { terminal: t, integration: t.shellIntegration };
    if (t && this.noIntegration.has(t)) return undefined;
    if (!t) {
      t = vscode.window.createTerminal({ name: TERMINAL_NAME, cwd, iconPath: new vscode.ThemeIcon('hubot') });
      this.terminal = t;
    }
    const integration = await this.waitForIntegration(t);
    if (!integration) {
      this.noIntegration.add(t);
      this.log.info(`no shell integration in "${TERMINAL_NAME}" after ${this.opts.shellIntegrationTimeoutMs} ms: commands run as child processes`);
    }
    return integration ? { terminal: t, integration } : undefined;
  }

  private waitForIntegration(t: vscode.Terminal): Promise<vscode.TerminalShellIntegration | undefined> {
    if (t.shellIntegration) return Promise.resolve(t.shellIntegration);
    return new Promise((resolve) => {
      const done = (si: vscode.TerminalShellIntegration | undefined): void => {
        clearTimeout(timer);
        sub.dispose();
        closed.dispose();
        resolve(si);
      };
      const sub = vscode.window.onDidChangeTerminalShellIntegration((e) => {
        if (e.terminal === t) done(e.shellIntegration);
      });
      const closed = vscode.window.onDidCloseTerminal((c) => {
        if (c === t) done(undefined);
      });
      const timer = setTimeout(() => done(t.shellIntegration), this.opts.shellIntegrationTimeoutMs);
    });
  }

  private runIntegrated(terminal: vscode.Terminal, si: vscode.TerminalShellIntegration, o: CommandOptions): Promise<CommandResult> {
    const here = si.cwd?.scheme === 'file' ? si.cwd.fsPath : undefined;
    const line = here === o.cwd ? o.command : `cd ${shellQuote(o.cwd)} && ${o.command}`;
    terminal.show(true);
    return new Promise<CommandResult>((resolve, reject) => {
      const cap = new OutputCap();
      let settled = false;
      let ended: CommandResult['ended'] = 'exited';
      let exitCode: number | undefined;
      let streamDone = false;
      let drainTimer: NodeJS.Timeout | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let execution: vscode.TerminalShellExecution;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(drainTimer);
        clearTimeout(killTimer);
        startSub.dispose();
        o.signal.removeEventListener('abort', onAbort);
        resolve({ exitCode, output: cap.text(), ended, via: 'shell-integration' });
      };
      // VS Code does not always report our own execution object: a command sent while the first
      // prompt is still drawing (or the second one in a reused terminal) may start and end as another
      // execution of this terminal. Those count as ours; the first stream that yields output is read.
      const adopted = new Set<vscode.TerminalShellExecution>();
      const reading = new Set<vscode.TerminalShellExecution>();
      let source: vscode.TerminalShellExecution | undefined;
      let openStreams = 0;
      const isOurs = (e: { terminal: vscode.Terminal; execution: vscode.TerminalShellExecution }): boolean =>
        e.execution === execution || adopted.has(e.execution) || (e.terminal === terminal && e.execution.commandLine.value.trim() === line.trim());
      const startSub = vscode.window.onDidStartTerminalShellExecution((e) => {
        if (e.terminal !== terminal || settled) return;
        adopted.add(e.execution);
        readFrom(e.execution);
      });
      const endSub = vscode.window.onDidEndTerminalShellExecution((e) => {
        if (!isOurs(e)) return;
        endSub.dispose();
        startSub.dispose();
        this.busy.delete(terminal);
        exitCode = ended === 'exited' ? e.exitCode : undefined;
        // The stream may still hold the last chunk: finish once it is drained (or soon after).
        clearTimeout(killTimer);
        if (streamDone) finish();
        else drainTimer = setTimeout(finish, 500);
      });
      const readFrom = (ex: vscode.TerminalShellExecution | undefined): void => {
        if (!ex || reading.has(ex)) return;
        reading.add(ex);
        openStreams++;
        void (async () => {
          try {
            for await (const chunk of ex.read()) {
              if (settled) break;
              const text = clean(chunk);
              if (!text) continue;
              source ??= ex;
              if (source !== ex) break;
              cap.push(text);
              o.onOutput?.(text);
            }
          } catch (err) {
            this.log.warn(`reading "${o.command}" output failed: ${err instanceof Error ? err.message : String(err)}`);
          }
          openStreams--;
          // Done when the stream we read ended, or every stream ended without output.
          if (source === ex || (source === undefined && openStreams === 0)) {
            streamDone = true;
            if (drainTimer) finish();
          }
        })();
      };
      const interrupt = (why: CommandResult['ended']): void => {
        if (settled || killTimer) return;
        ended = why;
        terminal.sendText('\x03', false);
        killTimer = setTimeout(() => {
          // Ctrl+C did not end it: closing the terminal ends the shell and what it runs.
          this.log.warn(`"${o.command}" ignored Ctrl+C; closing its terminal`);
          endSub.dispose();
          this.busy.delete(terminal);
          terminal.dispose();
          finish();
        }, this.opts.interruptGraceMs);
      };
      const onAbort = (): void => interrupt('cancelled');
      o.signal.addEventListener('abort', onAbort);
      const timer = setTimeout(
        () => {
          if (!o.background) return interrupt('timeout');
          ended = 'background';
          endSub.dispose();
          finish(); // leaves it running: the terminal stays busy until it ends
          const later = vscode.window.onDidEndTerminalShellExecution((e) => {
            if (e.execution !== execution) return;
            later.dispose();
            this.busy.delete(terminal);
          });
          this._register(later);
        },
        Math.max(1, o.timeoutMs),
      );
      try {
        this.busy.add(terminal);
        execution = si.executeCommand(line);
      } catch (err) {
        this.busy.delete(terminal);
        endSub.dispose();
        startSub.dispose();
        clearTimeout(timer);
        o.signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      o.onStart?.({ terminal: terminal.name });
      readFrom(execution);
    });
  }

  private fallbackPty(): { terminal: vscode.Terminal; pty: FallbackPty } {
    if (this.fallback && this.fallback.terminal.exitStatus === undefined) return this.fallback;
    const pty = new FallbackPty();
    const terminal = vscode.window.createTerminal({ name: FALLBACK_TERMINAL_NAME, pty, iconPath: new vscode.ThemeIcon('hubot') });
    this.fallback = { terminal, pty };
    return this.fallback;
  }

  private async runFallback(o: CommandOptions): Promise<CommandResult> {
    const { terminal, pty } = this.fallbackPty();
    terminal.show(true);
    pty.write(`\x1b[1m$ ${o.command}\x1b[0m  \x1b[2m(${o.cwd})\x1b[0m\n`);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    o.signal.addEventListener('abort', onAbort);
    pty.onInterrupt = onAbort;
    try {
      const r = await this.runner.run({
        ...o,
        signal: stop.signal,
        onOutput: (chunk) => {
          pty.write(chunk);
          o.onOutput?.(chunk);
        },
        onStart: (info) => o.onStart?.({ ...info, terminal: FALLBACK_TERMINAL_NAME }),
      });
      const how = r.ended === 'exited' ? `exit ${r.exitCode ?? '?'}` : r.ended === 'background' ? 'still running in the background' : r.ended;
      pty.write(`\x1b[2m[${how}]\x1b[0m\n\n`);
      return { ...r, via: 'pseudoterminal' };
    } finally {
      o.signal.removeEventListener('abort', onAbort);
      if (pty.onInterrupt === onAbort) pty.onInterrupt = undefined;
    }
  }

  override dispose(): void {
    this.runner.dispose();
    this.fallback?.pty.dispose();
    super.dispose();
  }
}
