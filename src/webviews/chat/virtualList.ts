/**
 * A windowed list for the transcript: only the items intersecting the viewport (plus overscan) are in
 * the DOM, absolutely positioned inside a canvas as tall as the whole list. Heights start as estimates
 * and are replaced by measurements as items render; a measurement never moves what the user is looking
 * at (the first visible item is the scroll anchor), and a list that is pinned to the bottom stays there.
 * All DOM work happens in one requestAnimationFrame flush, so any number of updates cost one layout.
 */

export interface VirtualListOptions<T extends { readonly id: string }> {
  readonly scroller: HTMLElement;
  readonly canvas: HTMLElement;
  readonly render: (item: T, index: number) => HTMLElement;
  /** Updates a rendered element in place after invalidate(); false means render it anew. */
  readonly update?: (el: HTMLElement, item: T, index: number) => boolean;
  readonly estimate: (item: T, width: number) => number;
  /** false renders every item (the benchmark's baseline); default true. */
  readonly windowed?: boolean;
  /** Extra pixels rendered above and below the viewport; default 600. */
  readonly overscanPx?: number;
  /** Called after a flush that leaves the viewport near the top of the list. */
  readonly onNearTop?: () => void;
  /** Called after the user (or the list) scrolled. */
  readonly onScroll?: () => void;
}

/** Where the view is: pinned to the bottom, or an item and the pixels scrolled past its top. */
export type ScrollPosition = { readonly pinned: true } | { readonly pinned: false; readonly id: string; readonly offset: number };

interface Rendered {
  el: HTMLElement;
  index: number;
  rev: number;
  height: number;
  top: number;
  needsMeasure: boolean;
}

const PIN_SLACK_PX = 8;
const MAX_PASSES = 4;

export class VirtualList<T extends { readonly id: string }> {
  private items: T[] = [];
  private heights: number[] = [];
  private offsets: number[] = [0];
  private dirtyFrom = 0;
  private width = -1;
  private readonly revs = new Map<string, number>();
  private readonly rendered = new Map<string, Rendered>();
  /** Changed items that are not in the DOM: their estimate is refreshed on the next flush. */
  private readonly stale = new Set<string>();
  private pinned = true;
  private pendingAnchor: { id: string; offset: number } | null = null;
  private frame = 0;
  private readonly resizeObserver: ResizeObserver;

  constructor(private readonly o: VirtualListOptions<T>) {
    o.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.resizeObserver = new ResizeObserver((entries) => {
      let dirty = false;
      for (const entry of entries) {
        if (entry.target === o.scroller) {
          dirty = true;
          continue;
        }
        // Observing reports every new item once; only a real size change needs another pass.
        const r = this.renderedFor(entry.target)?.[1];
        const h = entry.borderBoxSize[0]?.blockSize ?? (entry.target as HTMLElement).offsetHeight;
        if (r && !r.needsMeasure && Math.abs(Math.round(h) - r.height) >= 1) {
          r.needsMeasure = true;
          dirty = true;
        }
      }
      if (dirty) this.schedule();
    });
    this.resizeObserver.observe(o.scroller);
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): T | undefined {
    return this.items[index];
  }

  indexOf(id: string): number {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i].id === id) return i;
    return -1;
  }

  /** Replaces everything; `position` restores a saved view (falls back to the bottom). */
  reset(items: readonly T[], position: ScrollPosition = { pinned: true }): void {
    for (const r of this.rendered.values()) this.drop(r);
    this.rendered.clear();
    this.revs.clear();
    this.stale.clear();
    this.items = [...items];
    this.heights = this.items.map((it) => this.o.estimate(it, this.effectiveWidth()));
    this.dirtyFrom = 0;
    this.pinned = position.pinned || this.indexOf(position.id) < 0;
    this.pendingAnchor = position.pinned ? null : { id: position.id, offset: position.offset };
    this.schedule();
  }

  append(item: T): void {
    this.items.push(item);
    this.heights.push(this.o.estimate(item, this.effectiveWidth()));
    this.markDirty(this.items.length - 1);
  }

  /** Adds older items above; the view keeps showing what it showed. */
  prepend(items: readonly T[]): void {
    if (items.length === 0) return;
    if (!this.pinned && !this.pendingAnchor) this.pendingAnchor = this.captureAnchor();
    this.items.unshift(...items);
    this.heights.unshift(...items.map((it) => this.o.estimate(it, this.effectiveWidth())));
    this.markDirty(0);
  }

  remove(id: string): void {
    const i = this.indexOf(id);
    if (i < 0) return;
    if (!this.pinned && !this.pendingAnchor) this.pendingAnchor = this.captureAnchor();
    this.items.splice(i, 1);
    this.heights.splice(i, 1);
    this.revs.delete(id);
    const r = this.rendered.get(id);
    if (r) this.drop(r);
    this.rendered.delete(id);
    this.markDirty(i);
  }

  /** The item's content changed: re-render it (if visible) and re-measure, on the next frame. */
  invalidate(id: string): void {
    this.revs.set(id, (this.revs.get(id) ?? 0) + 1);
    if (!this.rendered.has(id)) this.stale.add(id);
    this.schedule();
  }

  /** Re-renders every item (e.g. agent names changed). */
  invalidateAll(): void {
    for (const it of this.items) this.revs.set(it.id, (this.revs.get(it.id) ?? 0) + 1);
    this.schedule();
  }

  scrollToBottom(): void {
    this.pinned = true;
    this.pendingAnchor = null;
    this.schedule();
  }

  position(): ScrollPosition {
    if (this.pinned) return { pinned: true };
    const a = this.pendingAnchor ?? this.captureAnchor();
    return a ? { pinned: false, id: a.id, offset: a.offset } : { pinned: true };
  }

  schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Does the pending DOM work now (e.g. right after the first state, so it paints in the next frame). */
  flush(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const { scroller } = this.o;
    // Capture what the user is looking at before any height changes (new estimates or measurements).
    let anchor = this.pinned ? null : (this.pendingAnchor ?? this.captureAnchor());
    this.pendingAnchor = null;
    if (anchor && this.indexOf(anchor.id) < 0) anchor = this.captureAnchor();
    const width = this.o.canvas.clientWidth;
    if (width !== this.width) this.onWidthChanged(width);
    this.reestimateStale();
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const target = this.applyScrollTarget(anchor);
      this.syncDom(target, scroller.clientHeight);
      if (!this.measure()) break;
    }
    this.place();
    // The last pass may have measured new heights: settle the scroll position on them too.
    this.applyScrollTarget(anchor);
    if (scroller.scrollTop < Math.max(200, scroller.clientHeight / 2)) this.o.onNearTop?.();
  }

  /** Sizes the canvas and scrolls to the bottom (pinned) or to the anchor; returns the scrollTop. */
  private applyScrollTarget(anchor: { id: string; offset: number } | null): number {
    const { scroller } = this.o;
    const total = this.ensureOffsets();
    this.o.canvas.style.height = `${total}px`;
    let target = scroller.scrollTop;
    if (this.pinned) target = Math.max(0, total - scroller.clientHeight);
    else if (anchor) target = Math.max(0, this.offsets[this.indexOf(anchor.id)] + anchor.offset);
    if (Math.abs(scroller.scrollTop - target) >= 1) scroller.scrollTop = target;
    return target;
  }

  private onScroll(): void {
    const s = this.o.scroller;
    this.pinned = s.scrollHeight - s.clientHeight - s.scrollTop <= PIN_SLACK_PX;
    this.schedule();
    this.o.onScroll?.();
  }

  private onWidthChanged(width: number): void {
    this.width = width;
    for (let i = 0; i < this.items.length; i++) this.heights[i] = this.o.estimate(this.items[i], width);
    for (const r of this.rendered.values()) r.needsMeasure = true;
    this.dirtyFrom = 0;
  }

  private reestimateStale(): void {
    for (const id of this.stale) {
      const i = this.indexOf(id);
      if (i < 0) continue;
      this.heights[i] = this.o.estimate(this.items[i], this.width);
      this.dirtyFrom = Math.min(this.dirtyFrom, i);
    }
    this.stale.clear();
  }

  private effectiveWidth(): number {
    if (this.width < 0) this.width = this.o.canvas.clientWidth;
    return this.width;
  }

  private markDirty(index: number): void {
    this.dirtyFrom = Math.min(this.dirtyFrom, index);
    this.schedule();
  }

  private ensureOffsets(): number {
    const n = this.items.length;
    if (this.offsets.length !== n + 1) this.offsets.length = n + 1;
    if (this.dirtyFrom <= n) {
      let acc = this.dirtyFrom === 0 ? 0 : this.offsets[this.dirtyFrom];
      for (let i = this.dirtyFrom; i < n; i++) {
        this.offsets[i] = acc;
        acc += this.heights[i];
      }
      this.offsets[n] = acc;
      this.dirtyFrom = n + 1;
    }
    return this.offsets[n];
  }

  /** First index whose bottom edge is below `y`. */
  private indexAt(y: number): number {
    let lo = 0;
    let hi = this.items.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] > y) hi = mid;
      else lo = mid + 1;
    }
    return Math.max(0, lo);
  }

  private captureAnchor(): { id: string; offset: number } | null {
    if (this.items.length === 0) return null;
    this.ensureOffsets();
    const top = this.o.scroller.scrollTop;
    const i = this.indexAt(top);
    return { id: this.items[i].id, offset: top - this.offsets[i] };
  }

  private syncDom(scrollTop: number, viewport: number): void {
    const n = this.items.length;
    let start = 0;
    let end = n;
    if (this.o.windowed !== false && n > 0) {
      const overscan = this.o.overscanPx ?? 600;
      start = this.indexAt(Math.max(0, scrollTop - overscan));
      end = Math.min(n, this.indexAt(scrollTop + viewport + overscan) + 1);
    }
    const keep = new Set<string>();
    // Keep the item holding keyboard focus even when it scrolls out, so focus is never lost.
    const focused = this.renderedFor(document.activeElement);
    const focusedIndex = focused ? this.indexOf(focused[0]) : -1;
    const indices: number[] = [];
    if (focusedIndex >= 0 && focusedIndex < start) indices.push(focusedIndex);
    for (let i = start; i < end; i++) indices.push(i);
    if (focusedIndex >= end) indices.push(focusedIndex);
    let prev: HTMLElement | null = null;
    for (const i of indices) {
      const item = this.items[i];
      keep.add(item.id);
      const rev = this.revs.get(item.id) ?? 0;
      let r = this.rendered.get(item.id);
      if (r && r.rev !== rev && this.o.update?.(r.el, item, i)) {
        r.rev = rev;
        r.needsMeasure = true;
      } else if (!r || r.rev !== rev) {
        const el = this.o.render(item, i);
        el.classList.add('vl-item');
        if (r) {
          this.resizeObserver.unobserve(r.el);
          r.el.replaceWith(el);
          Object.assign(r, { el, rev, top: -1, needsMeasure: true });
        } else {
          r = { el, index: i, rev, height: -1, top: -1, needsMeasure: true };
          this.rendered.set(item.id, r);
        }
        this.resizeObserver.observe(el);
      }
      const expectedNext: ChildNode | null = prev ? prev.nextSibling : this.o.canvas.firstChild;
      if (expectedNext !== r.el) this.o.canvas.insertBefore(r.el, expectedNext);
      r.index = i;
      prev = r.el;
    }
    for (const [id, r] of this.rendered) {
      if (keep.has(id)) continue;
      this.drop(r);
      this.rendered.delete(id);
    }
  }

  /** Measures what needs it (one layout); true when any height changed. */
  private measure(): boolean {
    let changed = false;
    for (const r of this.rendered.values()) {
      if (!r.needsMeasure) continue;
      r.needsMeasure = false;
      const h = r.el.offsetHeight;
      r.height = h;
      if (this.heights[r.index] !== h) {
        this.heights[r.index] = h;
        this.dirtyFrom = Math.min(this.dirtyFrom, r.index);
        changed = true;
      }
    }
    return changed;
  }

  private place(): void {
    this.ensureOffsets();
    for (const r of this.rendered.values()) {
      const top = this.offsets[r.index];
      if (top !== r.top) {
        r.top = top;
        r.el.style.transform = `translateY(${top}px)`;
      }
    }
  }

  private drop(r: Rendered): void {
    this.resizeObserver.unobserve(r.el);
    r.el.remove();
  }

  private renderedFor(node: Element | EventTarget | null): [string, Rendered] | undefined {
    if (!(node instanceof Element)) return undefined;
    const el = node.closest('.vl-item');
    if (!el) return undefined;
    for (const entry of this.rendered) if (entry[1].el === el) return entry;
    return undefined;
  }
}
