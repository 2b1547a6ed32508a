/**
 * The remote screen: a canvas at the desktop's resolution, shown aspect-fit (or 1:1 with scroll
 * bars), pointer events mapped from CSS pixels to remote pixels through the canvas's on-screen box,
 * the wheel, and the keyboard while it is captured (Ctrl+Alt+R, or the chip, releases it).
 */
import type { InputEvent } from '../../protocol/viewer';

export type Fit = 'fit' | 'actual';

export class Screen {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private fit: Fit = 'fit';
  captured = false;
  onInput: (e: InputEvent) => void = () => undefined;
  onCaptureChange: (captured: boolean) => void = () => undefined;

  constructor(private readonly stage: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'screen';
    this.canvas.tabIndex = 0;
    this.canvas.width = 1280;
    this.canvas.height = 720;
    this.canvas.setAttribute('data-testid', 'screen');
    this.canvas.setAttribute('aria-label', 'Remote desktop');
    stage.appendChild(this.canvas);
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
    new ResizeObserver(() => this.layout()).observe(stage);
    this.wire();
  }

  get fitMode(): Fit {
    return this.fit;
  }

  setFit(f: Fit): void {
    this.fit = f;
    this.stage.classList.toggle('actual', f === 'actual');
    this.layout();
  }

  /** Draws one decoded frame (resizing the canvas when the desktop's resolution changed). */
  draw(bmp: ImageBitmap): void {
    if (bmp.width !== this.canvas.width || bmp.height !== this.canvas.height) {
      this.canvas.width = bmp.width;
      this.canvas.height = bmp.height;
      this.layout();
    }
    this.ctx.drawImage(bmp, 0, 0);
    bmp.close();
  }

  /** CSS size: contain within the stage (fit) or the remote size (1:1). */
  layout(): void {
    const w = this.canvas.width;
    const h = this.canvas.height;
    if (this.fit === 'actual') {
      this.canvas.style.width = `${w / devicePixelRatio}px`;
      this.canvas.style.height = `${h / devicePixelRatio}px`;
      return;
    }
    const sw = Math.max(1, this.stage.clientWidth);
    const sh = Math.max(1, this.stage.clientHeight);
    const scale = Math.min(sw / w, sh / h);
    this.canvas.style.width = `${Math.floor(w * scale)}px`;
    this.canvas.style.height = `${Math.floor(h * scale)}px`;
  }

  /** Remote coordinates of a pointer event (the canvas box maps onto the whole remote screen). */
  map(clientX: number, clientY: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    const x = Math.round(((clientX - r.left) / Math.max(1, r.width)) * this.canvas.width);
    const y = Math.round(((clientY - r.top) / Math.max(1, r.height)) * this.canvas.height);
    return { x: Math.max(0, Math.min(this.canvas.width - 1, x)), y: Math.max(0, Math.min(this.canvas.height - 1, y)) };
  }

  setCaptured(on: boolean): void {
    if (this.captured === on) return;
    this.captured = on;
    this.stage.classList.toggle('captured', on);
    this.onCaptureChange(on);
  }

  private wire(): void {
    const c = this.canvas;
    let lastMove = 0;
    c.addEventListener('pointermove', (e) => {
      const t = performance.now();
      if (t - lastMove < 8) return; // ≤ 120 moves a second; the desktop coalesces the rest
      lastMove = t;
      this.onInput({ t: 'move', ...this.map(e.clientX, e.clientY) });
    });
    c.addEventListener('pointerdown', (e) => {
      c.focus();
      this.setCaptured(true);
      c.setPointerCapture(e.pointerId);
      if (e.button <= 2) this.onInput({ t: 'button', down: true, button: e.button, ...this.map(e.clientX, e.clientY) });
      e.preventDefault();
    });
    c.addEventListener('pointerup', (e) => {
      if (e.button <= 2) this.onInput({ t: 'button', down: false, button: e.button, ...this.map(e.clientX, e.clientY) });
      e.preventDefault();
    });
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const k = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
        this.onInput({ t: 'wheel', dx: clampDelta(e.deltaX * k), dy: clampDelta(e.deltaY * k), ...this.map(e.clientX, e.clientY) });
      },
      { passive: false },
    );
    const key = (down: boolean) => (e: KeyboardEvent) => {
      if (!this.captured) return;
      if (down && e.ctrlKey && e.altKey && e.code === 'KeyR') {
        this.setCaptured(false);
        e.preventDefault();
        return;
      }
      e.preventDefault();
      e.stopPropagation();
      const mods = (e.ctrlKey ? 1 : 0) | (e.shiftKey ? 2 : 0) | (e.altKey ? 4 : 0) | (e.metaKey ? 8 : 0);
      this.onInput({ t: 'key', down, key: e.key.slice(0, 32), code: e.code.slice(0, 32), mods });
    };
    c.addEventListener('keydown', key(true));
    c.addEventListener('keyup', key(false));
    c.addEventListener('blur', () => this.setCaptured(false));
    c.addEventListener('focus', () => this.setCaptured(true));
  }
}

function clampDelta(d: number): number {
  return Math.max(-10_000, Math.min(10_000, Math.round(d)));
}
