/**
 * Types for the browser globals used inside page-side callbacks (page.evaluate, init scripts). The
 * Node tsconfig has no DOM lib and must not get one (it would leak into every Node file), so callbacks
 * cast `globalThis as unknown as PageGlobals`; the cast is erased, so nothing is captured.
 */
export interface PageRect {
  top: number;
  bottom: number;
  height: number;
  width: number;
}

export interface PageElement {
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  readonly textContent: string | null;
  readonly style: { setProperty(name: string, value: string): void };
  readonly classList: { add(c: string): void };
  readonly dataset: Record<string, string | undefined>;
  getBoundingClientRect(): PageRect;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  scrollBy(x: number, y: number): void;
  dispatchEvent(e: unknown): boolean;
  closest(selector: string): PageElement | null;
  readonly parentElement: PageElement | null;
  blur(): void;
}

export interface PageEvent {
  readonly violatedDirective: string;
  readonly blockedURI: string;
  readonly sourceFile: string;
  readonly lineNumber: number;
}

export interface PerformanceEntryLike {
  readonly name: string;
  readonly startTime: number;
  readonly duration: number;
}

export interface PageGlobals {
  readonly document: {
    readonly documentElement: PageElement;
    readonly body: PageElement;
    readonly activeElement: PageElement | null;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    addEventListener(type: string, cb: (e: PageEvent) => void, options?: { once?: boolean }): void;
    dispatchEvent(e: unknown): boolean;
  };
  readonly performance: { now(): number };
  getComputedStyle(el: unknown): {
    readonly textOverflow: string;
    readonly display: string;
    readonly color: string;
    readonly backgroundColor: string;
    readonly opacity: string;
  };
  Event: new (type: string) => unknown;
  MessageChannel: new () => { port1: { onmessage: (() => void) | null }; port2: { postMessage(m: unknown): void } };
  PerformanceObserver: new (cb: (list: { getEntries(): PerformanceEntryLike[] }) => void) => { observe(o: { type: string; buffered?: boolean }): void };
  postMessage(message: unknown, targetOrigin: string): void;
  requestAnimationFrame(cb: (t: number) => void): number;
  setTimeout(cb: () => void, ms: number): number;
  setInterval(cb: () => void, ms: number): number;
  clearInterval(id: number): void;
}
