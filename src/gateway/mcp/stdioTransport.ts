/**
 * The MCP stdio transport: the server is a child process speaking newline-delimited JSON-RPC on
 * stdin/stdout. Ours rather than the SDK's `StdioClientTransport` because we need what that one hides:
 * the exit code and signal (a crash at start is reported with its stderr tail), spawn errors explained
 * (`spawn npx ENOENT`: the PATH VS Code was started with), stderr split into capped log lines, and a
 * line buffer that is linear in the message size (the SDK's re-concatenates per chunk, quadratic on a
 * 50 MB result) with its own cap.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import spawn from 'cross-spawn';
import type { StderrTap } from './stderrTap';

export interface StdioServerSpec {
  command: string;
  args: string[];
  /** Added to the small default environment (PATH, HOME, USER, SHELL, TERM…); never the whole process env. */
  env: Record<string, string>;
  cwd?: string;
}

export interface StdioTransportOptions {
  /** A message (one line) larger than this closes the connection with a clear error. */
  maxMessageBytes: number;
  /** Receives each stderr line (already capped); the tap keeps a tail for error messages. */
  stderr: StderrTap;
}

/** How the process ended, for the error the manager shows. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;

  private child: ChildProcess | undefined;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;
  exit: ExitInfo | undefined;
  /** Set when the transport closed itself (oversized message, unparsable output). */
  failure: Error | undefined;

  constructor(
    private readonly spec: StdioServerSpec,
    private readonly options: StdioTransportOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('the stdio transport is already started');
    // spawn reports a missing cwd as `spawn <command> ENOENT`, which would blame the command.
    if (this.spec.cwd && !existsSync(this.spec.cwd)) return Promise.reject(new Error(`the server's working folder ${this.spec.cwd} does not exist`));
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(this.spec.command, this.spec.args, {
          env: { ...getDefaultEnvironment(), ...this.spec.env },
          cwd: this.spec.cwd,
          stdio: ['pipe', 'pipe', 'pipe'],
          shell: false,
          windowsHide: true,
        });
      } catch (err) {
        reject(explainSpawnError(err, this.spec));
        return;
      }
      this.child = child;
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
      child.once('error', (err) => {
        const e = explainSpawnError(err, this.spec);
        if (!spawned) reject(e);
        else this.onerror?.(e);
      });
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.options.stderr.end();
        this.finish();
      });
      child.stdin!.on('error', (err) => this.onerror?.(err));
      child.stdout!.on('data', (chunk: Buffer) => this.append(chunk));
      child.stderr!.on('data', (chunk: Buffer) => this.options.stderr.write(chunk));
    });
  }

  private append(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      start = nl + 1;
      const line = this.chunks.length ? Buffer.concat([...this.chunks, part]) : part;
      this.chunks.length = 0;
      this.buffered = 0;
      this.deliver(line.toString('utf8').replace(/\r$/, ''));
      if (this.closed) return;
    }
    if (start < chunk.length) {
      this.buffered += chunk.length - start;
      if (this.buffered > this.options.maxMessageBytes) {
        this.fail(new Error(`the server sent a message larger than ${formatBytes(this.options.maxMessageBytes)}; the connection was closed`));
        return;
      }
      this.chunks.push(chunk.subarray(start));
    }
  }

  private deliver(line: string): void {
    if (!line.trim()) return;
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch {
      // Servers that print banners to stdout break the protocol; say so once, in the log.
      this.options.stderr.note(`stdout line is not JSON-RPC (servers must log to stderr): ${line.slice(0, 200)}`);
      return;
    }
    this.onmessage?.(message);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.chunks.length = 0;
    this.buffered = 0;
    this.onerror?.(err);
    void this.close();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const ok = stdin.write(JSON.stringify(message) + '\n', (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  /** Ends stdin, then SIGTERM after 2 s, SIGKILL after 2 s more (what the SDK's transport does too). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish();
      return;
    }
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const within = (ms: number): Promise<void> => Promise.race([exited, new Promise<void>((r) => setTimeout(r, ms).unref())]);
    try {
      child.stdin?.end();
    } catch {
      // already closed
    }
    await within(2000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await within(2000);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}

/** Turns ENOENT / EACCES / EINVAL from spawn into an error that says what to change. */
export function explainSpawnError(err: unknown, spec: Pick<StdioServerSpec, 'command' | 'cwd' | 'env'>): Error {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code;
  const path = spec.env.PATH ?? process.env.PATH ?? '';
  let text: string;
  if (code === 'ENOENT')
    text =
      `"${spec.command}" was not found (spawn ${spec.command} ENOENT). It is not on the PATH MultiClaw was started with (PATH=${path.slice(0, 400)}). ` +
      'VS Code started from a desktop launcher or the Dock does not read your shell profile, so tools installed with nvm, asdf, volta or Homebrew are missing. ' +
      `Fix: set the server's command to the absolute path (run \`which ${spec.command}\` in a terminal), or add that folder to the server's env PATH.`;
  else if (code === 'EACCES') text = `"${spec.command}" is not executable (spawn EACCES): check its permissions (chmod +x) or run it through its interpreter.`;
  else if (code === 'EINVAL')
    text = `"${spec.command}" could not be started (spawn EINVAL). On Windows, .cmd/.bat scripts need their full name (e.g. npx.cmd) or \`cmd /c\`.`;
  else text = `"${spec.command}" could not be started: ${e?.message ?? String(err)}`;
  return Object.assign(new Error(text, { cause: err }), { code });
}
