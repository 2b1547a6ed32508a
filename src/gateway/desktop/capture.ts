/**
 * Screen capture: ffmpeg `x11grab` → MJPEG on a pipe (`-f image2pipe`), split into JPEGs. Measured at
 * 30 fps for about half a core at 1280×720. The JPEG quality (`-q:v`) is fixed per ffmpeg process, so
 * changing it restarts ffmpeg (the adapter changes it at most every few seconds). ffmpeg exiting on its
 * own is restarted after a short pause; `onDidFail` reports it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import type { CapturedFrame } from './frameSender';
import { JpegSplitter } from './jpegSplitter';

export interface CaptureOptions {
  display: string;
  width: number;
  height: number;
  fps: number;
  ffmpeg?: string;
}

export class ScreenCapture extends Disposable {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private q = 5;
  private wanted = false;
  private restartTimer: NodeJS.Timeout | undefined;
  frames = 0;
  private readonly frameEmitter = this._register(new Emitter<CapturedFrame>());
  readonly onDidCapture: Event<CapturedFrame> = this.frameEmitter.event;
  private readonly failEmitter = this._register(new Emitter<string>());
  readonly onDidFail: Event<string> = this.failEmitter.event;

  constructor(
    private readonly o: CaptureOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  get quality(): number {
    return this.q;
  }

  get running(): boolean {
    return !!this.proc;
  }

  start(q = this.q): void {
    this.wanted = true;
    if (this.proc && q === this.q) return;
    this.q = q;
    this.stopProcess();
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '32', '-analyzeduration', '0'],
      ...[
        '-f',
        'x11grab',
        '-draw_mouse',
        '1',
        '-framerate',
        String(this.o.fps),
        '-video_size',
        `${this.o.width}x${this.o.height}`,
        '-i',
        `${this.o.display}.0`,
      ],
      ...['-c:v', 'mjpeg', '-q:v', String(q), '-flush_packets', '1', '-f', 'image2pipe', 'pipe:1'],
    ];
    const p = spawn(this.o.ffmpeg ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    const splitter = new JpegSplitter((jpeg) => {
      this.frames++;
      this.frameEmitter.fire({ jpeg, capturedAt: Date.now() });
    });
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => splitter.push(d));
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
    p.on('error', (err) => this.failEmitter.fire(`ffmpeg could not start: ${err.message} (install the ffmpeg package)`));
    p.on('exit', (code, signal) => {
      if (this.proc !== p) return;
      this.proc = undefined;
      if (!this.wanted || this.isDisposed) return;
      const why = `ffmpeg exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`;
      this.log.warn(`${why}; restarting in 1 s`);
      this.failEmitter.fire(why);
      this.restartTimer = setTimeout(() => this.wanted && this.start(this.q), 1000);
    });
    this.log.debug(`capturing ${this.o.display} at ${this.o.fps} fps, q ${q}`);
  }

  /** Changes the JPEG quality (restarts ffmpeg when running). */
  setQuality(q: number): void {
    if (q === this.q) return;
    if (this.proc) this.start(q);
    else this.q = q;
  }

  stop(): void {
    this.wanted = false;
    this.stopProcess();
  }

  private stopProcess(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null) p.kill('SIGTERM');
  }

  override dispose(): void {
    this.stop();
    super.dispose();
  }
}
