/**
 * Runs the agent's shell commands as child processes (the headless gateway, and VS Code's fallback):
 * `bash -c <command>` (not a login shell: a profile that waits must not hang the agent; else `/bin/sh -c`), detached in its own process group so that Stop and a
 * timeout end the whole tree (SIGTERM, then SIGKILL after 2 s). stdin is closed (an interactive
 * prompt gets EOF instead of hanging). Output is ANSI-stripped and kept as head + tail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { CommandOptions, CommandResult } from './workspacePort';

export const OUTPUT_HEAD = 8 * 1024;
export const OUTPUT_TAIL = 8 * 1024;
export const KILL_GRACE_MS = 2_000;

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-character escapes, and stray C1/backspace controls.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Keeps the first `head` and the last `tail` characters of a stream, and counts the rest. */
export class OutputCap {
  private headText = '';
  private tailText = '';
  private total = 0;

  constructor(
    private readonly head = OUTPUT_HEAD,
    private readonly tail = OUTPUT_TAIL,
  ) {}

  push(text: string): void {
    this.total += text.length;
    if (this.headText.length < this.head) {
      const room = this.head - this.headText.length;
      this.headText += text.slice(0, room);
      text = text.slice(room);
      if (!text) return;
    }
    this.tailText = (this.tailText.length + text.length > 2 * this.tail ? this.tailText.slice(-this.tail) : this.tailText) + text;
    if (this.tailText.length > 2 * this.tail) this.tailText = this.tailText.slice(-this.tail);
  }

  get length(): number {
    return this.total;
  }

  text(): string {
    const tail = this.tailText.slice(-this.tail);
    const elided = this.total - this.headText.length - tail.length;
    if (elided <= 0) return this.headText + tail;
    return `${this.headText}\n… [${elided} characters of output elided] …\n${tail}`;
  }
}

const SHELL = existsSync('/bin/bash') ? { file: '/bin/bash', args: ['-c'] } : { file: '/bin/sh', args: ['-c'] };

/** Sends `signal` to the process group of `pid` (falls back to the process itself). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Owns the processes it started: `dispose()` ends the background ones too. */
export class ProcessRunner {
  private readonly live = new Set<ChildProcess>();

  /** Runs a command to its end, its timeout, or its abort. Never rejects for the command's own failure. */
  run(o: CommandOptions & { head?: number; tail?: number; env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      if (o.signal.aborted) {
        resolve({ exitCode: undefined, output: '', ended: 'cancelled', via: 'process' });
        return;
      }
      let child: ChildProcess;
      try {
        child = spawn(SHELL.file, [...SHELL.args, o.command], {
          cwd: o.cwd,
          detached: process.platform !== 'win32',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, ...o.env, TERM: 'dumb', NO_COLOR: '1', FORCE_COLOR: '0', GIT_PAGER: 'cat', PAGER: 'cat' },
        });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const pid = child.pid;
      this.live.add(child);
      const cap = new OutputCap(o.head, o.tail);
      let settled = false;
      let ended: CommandResult['ended'] = 'exited';
      let killTimer: NodeJS.Timeout | undefined;
      const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')];
      const onData = (i: number) => (buf: Buffer) => {
        if (settled) return;
        const text = stripAnsi(decoders[i]!.write(buf));
        if (!text) return;
        cap.push(text);
        o.onOutput?.(text);
      };
      child.stdout?.on('data', onData(0));
      child.stderr?.on('data', onData(1));
      const finish = (exitCode: number | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal.removeEventListener('abort', onAbort);
        resolve({ exitCode, output: cap.text(), ended, via: 'process', pid });
      };
      const terminate = (why: CommandResult['ended']): void => {
        ended = why;
        if (pid === undefined) return;
        killGroup(pid, 'SIGTERM');
        killTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      const onAbort = (): void => terminate('cancelled');
      o.signal.addEventListener('abort', onAbort);
      const timer = setTimeout(
        () => {
          if (o.background) {
            ended = 'background';
            finish(undefined);
          } else {
            terminate('timeout');
          }
        },
        Math.max(1, o.timeoutMs),
      );
      child.on('error', (err) => {
        this.live.delete(child);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal.removeEventListener('abort', onAbort);
        reject(err);
      });
      child.on('close', (code) => {
        this.live.delete(child);
        clearTimeout(killTimer);
        if (pid !== undefined && ended !== 'exited') killGroup(pid, 'SIGKILL'); // stragglers that kept no pipe open
        finish(code === null ? undefined : code);
      });
      if (pid !== undefined) o.onStart?.({ pid });
    });
  }

  /** Ends every process still running (background servers included). */
  dispose(): void {
    for (const c of this.live) if (c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
    this.live.clear();
  }
}
