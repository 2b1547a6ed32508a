/**
 * Input injection through XTEST with one long-lived `xdotool -` process (it runs each line of its
 * standard input as it arrives: no process per event). Pointer moves are coalesced — only the latest
 * waits while xdotool is busy — so a fast mouse never builds a queue; buttons, wheel and keys keep their
 * order. Coordinates are clamped to the screen; keys are mapped to keysyms (`keysyms.ts`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { InputEvent } from '../../protocol/viewer';
import type { Logger } from '../ports';
import { Disposable } from '../util/disposable';
import { charKeysym, keysymFor } from './keysyms';

const BUTTONS = [1, 2, 3]; // DOM 0 left, 1 middle, 2 right → X 1, 2, 3

export class InputInjector extends Disposable {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private pendingMove: string | undefined;
  private flushScheduled = false;
  private readonly lines: string[] = [];
  /** Keys held down (released when control moves or the viewer goes). */
  private readonly held = new Set<string>();
  injected = 0;

  constructor(
    private readonly display: string,
    private readonly size: () => { width: number; height: number },
    private readonly log: Logger,
    private readonly bin = 'xdotool',
  ) {
    super();
  }

  private ensure(): ChildProcessWithoutNullStreams | undefined {
    if (this.proc && this.proc.exitCode === null && !this.proc.killed) return this.proc;
    if (this.isDisposed) return undefined;
    const p = spawn(this.bin, ['-'], { env: { ...process.env, DISPLAY: this.display }, stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdout.resume();
    p.stderr.on('data', (d: Buffer) => this.log.debug(`xdotool: ${d.toString().trim().slice(0, 200)}`));
    p.on('error', (err) => this.log.warn(`xdotool failed: ${err.message}`));
    p.on('exit', (code) => {
      if (!this.isDisposed) this.log.warn(`xdotool exited (${code}); restarting it with the next event`);
    });
    p.stdin.on('error', () => undefined);
    this.proc = p;
    return p;
  }

  private clamp(x: number, y: number): [number, number] {
    const { width, height } = this.size();
    return [Math.max(0, Math.min(width - 1, Math.round(x))), Math.max(0, Math.min(height - 1, Math.round(y)))];
  }

  /** Injects one event from the viewer that holds control. */
  handle(e: InputEvent): void {
    switch (e.t) {
      case 'move': {
        const [x, y] = this.clamp(e.x, e.y);
        this.pendingMove = `mousemove ${x} ${y}`;
        break;
      }
      case 'button': {
        const [x, y] = this.clamp(e.x, e.y);
        this.pendingMove = undefined;
        this.lines.push(`mousemove ${x} ${y}`, `${e.down ? 'mousedown' : 'mouseup'} ${BUTTONS[e.button]}`);
        break;
      }
      case 'wheel': {
        const [x, y] = this.clamp(e.x, e.y);
        this.pendingMove = undefined;
        this.lines.push(`mousemove ${x} ${y}`);
        const steps = (d: number) => Math.min(20, Math.max(1, Math.round(Math.abs(d) / 100)));
        if (e.dy) this.lines.push(`click --repeat ${steps(e.dy)} ${e.dy < 0 ? 4 : 5}`);
        if (e.dx) this.lines.push(`click --repeat ${steps(e.dx)} ${e.dx < 0 ? 6 : 7}`);
        break;
      }
      case 'key': {
        const sym = keysymFor(e.key, e.code);
        if (!sym) return;
        if (e.down) this.held.add(sym);
        else this.held.delete(sym);
        this.lines.push(`${e.down ? 'keydown' : 'keyup'} ${sym}`);
        break;
      }
      case 'text':
        for (const ch of e.text) {
          const sym = charKeysym(ch);
          if (sym) this.lines.push(`key ${sym}`);
        }
        break;
      case 'control':
        return;
    }
    this.injected++;
    this.schedule();
  }

  /** Releases every key still held (control lost, viewer gone). */
  releaseAll(): void {
    for (const sym of this.held) this.lines.push(`keyup ${sym}`);
    this.held.clear();
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const p = this.ensure();
    if (!p) return;
    if (this.pendingMove && !this.lines.length) this.lines.push(this.pendingMove);
    else if (this.pendingMove) this.lines.unshift(this.pendingMove);
    this.pendingMove = undefined;
    if (!this.lines.length) return;
    const text = this.lines.splice(0).join('\n') + '\n';
    const ok = p.stdin.write(text);
    if (!ok) {
      // xdotool is behind: wait for it; moves that arrive meanwhile coalesce.
      this.flushScheduled = true;
      p.stdin.once('drain', () => this.flush());
    }
  }

  override dispose(): void {
    super.dispose();
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null) {
      p.stdin.end();
      p.kill('SIGTERM');
    }
  }
}
