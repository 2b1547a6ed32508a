/**
 * The desktop's X display: Xvfb (a free display number chosen by Xvfb itself through `-displayfd`),
 * a light window manager (openbox by default) and the operator's apps, each a child process owned
 * here and stopped with it. `onDidExit` fires when Xvfb dies (the host reports Error with the reason).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';

export interface DisplayOptions {
  width: number;
  height: number;
  /** Window manager command (argv), default ['openbox']; [] for none. */
  windowManager?: string[];
  /** Apps the operator starts on the display (each run with `sh -c`). */
  apps?: string[];
  xvfb?: string;
}

export class XDisplay extends Disposable {
  private xvfb: ChildProcess | undefined;
  private readonly children: ChildProcess[] = [];
  private _name: string | undefined;
  private stopping = false;
  private readonly exitEmitter = this._register(new Emitter<string>());
  /** Xvfb exited on its own: the reason. */
  readonly onDidExit: Event<string> = this.exitEmitter.event;

  constructor(
    readonly options: DisplayOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  /** `:N` once started. */
  get name(): string {
    if (!this._name) throw new Error('the display is not running');
    return this._name;
  }

  get running(): boolean {
    return !!this._name && !!this.xvfb && this.xvfb.exitCode === null;
  }

  async start(): Promise<string> {
    if (this.running) return this.name;
    this.stopping = false;
    const { width, height } = this.options;
    const p = spawn(this.options.xvfb ?? 'Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset', '-nocursor'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    this.xvfb = p;
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const display = await new Promise<string>((resolve, reject) => {
      let out = '';
      const fd3 = p.stdio[3] as NodeJS.ReadableStream;
      fd3.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(`:${m[1]}`);
      });
      p.once('error', (err) => reject(new Error(`Xvfb could not start: ${err.message} (install the xvfb package)`)));
      p.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${lastLine(stderr)}`)));
    });
    this._name = display;
    p.on('exit', (code, signal) => {
      this._name = undefined;
      if (!this.stopping) this.exitEmitter.fire(`Xvfb exited (${signal ?? code}): ${lastLine(stderr)}`);
    });
    const socket = `/tmp/.X11-unix/X${display.slice(1)}`;
    if (!existsSync(socket)) this.log.warn(`display ${display} has no socket at ${socket}`);
    this.log.info(`display ${display} (${width}×${height}) is up`);
    const wm = this.options.windowManager ?? ['openbox'];
    if (wm.length) {
      this.child(wm[0], wm.slice(1), 'window manager');
      // A window mapped while the WM is still starting can stay hidden: start the apps once it manages the screen.
      if (!(await this.wmReady(5000))) this.log.warn('the window manager did not announce itself within 5 s; starting the apps anyway');
    }
    for (const app of this.options.apps ?? []) this.child('/bin/sh', ['-c', app], app);
    return display;
  }

  /** Waits until an EWMH window manager has set _NET_SUPPORTING_WM_CHECK on the root window (xprop, x11-utils). */
  private async wmReady(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.running) {
      const out = await new Promise<string>((resolve) => {
        execFile('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env: { ...process.env, DISPLAY: this.name }, timeout: 2000 }, (err, stdout) =>
          resolve(err ? '' : stdout),
        );
      });
      if (/window id #/.test(out)) return true;
      await new Promise((r) => setTimeout(r, 50)); // the WM announces itself on the root window only: look again
    }
    return false;
  }

  /** Starts a program on this display (owned and stopped with it). */
  child(cmd: string, args: string[], label: string): ChildProcess {
    const c = spawn(cmd, args, { env: { ...process.env, DISPLAY: this.name }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    c.stderr?.on('data', (d: Buffer) => this.log.debug(`${label}: ${d.toString().trim().slice(0, 300)}`));
    c.on('error', (err) => this.log.warn(`${label} could not start: ${err.message}`));
    c.on('exit', (code) => this.log.debug(`${label} exited (${code})`));
    this.children.push(c);
    return c;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.children.splice(0)) killGroup(c);
    const p = this.xvfb;
    this.xvfb = undefined;
    this._name = undefined;
    if (p && p.exitCode === null) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
  }

  override dispose(): void {
    void this.stop();
    super.dispose();
  }
}

function killGroup(c: ChildProcess): void {
  if (c.exitCode !== null || c.pid === undefined) return;
  try {
    process.kill(-c.pid, 'SIGTERM');
  } catch {
    c.kill('SIGTERM');
  }
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1]?.slice(0, 200) ?? '';
}
