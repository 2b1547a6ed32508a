/**
 * The branches of a conversation. Messages form a tree: each message follows the one that was the
 * end of the shown branch when it was added. Editing a sent message or regenerating a reply forks:
 * the shown branch is cut after a message (a `fork` record) and the next message starts a new branch
 * there; the cut messages stay, as the other branch. A `branch` record shows the branch that holds a
 * message. Without either record (every file written before branches existed) the tree is one line.
 *
 * Pure bookkeeping of ids; the messages themselves live in Replay / Conversation.
 */

/** Where a message sits among the alternatives at its place: 1-based index of count. */
export interface BranchPosition {
  index: number;
  count: number;
}

/** The virtual parent of the first messages. */
const ROOT = '';

export class BranchTree {
  private readonly parentOf = new Map<string, string>();
  private readonly childrenOf = new Map<string, string[]>();
  /** The shown child of each message; absent with children present = a fork waits for its first message. */
  private readonly shown = new Map<string, string>();
  private end = ROOT;
  /** A fork no message followed yet, and the child it hid. */
  private openFork: { at: string; hidden: string | undefined } | undefined;
  /** Whether any fork or branch record was applied (a linear tree needs no path walk). */
  private branched = false;

  has(id: string): boolean {
    return this.parentOf.has(id);
  }

  /** The last message of the shown branch (null: none). */
  get tail(): string | null {
    return this.end === ROOT ? null : this.end;
  }

  /** Adds a message at the end of the shown branch. */
  add(id: string): void {
    const parent = this.end;
    this.parentOf.set(id, parent);
    this.kids(parent).push(id);
    this.shown.set(parent, id);
    this.end = id;
    this.openFork = undefined;
  }

  /** Whether `id` (null: the start) is on the shown branch, where a fork may cut it. */
  onShownBranch(id: string | null): boolean {
    if (id === null) return true;
    if (!this.has(id)) return false;
    for (let cur = this.end; cur !== ROOT; cur = this.parentOf.get(cur) ?? ROOT) if (cur === id) return true;
    return false;
  }

  /** Cuts the shown branch after `after` (null: before the first message). False when it is not on the shown branch. */
  fork(after: string | null): boolean {
    if (!this.onShownBranch(after)) return false;
    const at = after ?? ROOT;
    this.openFork = { at, hidden: this.shown.get(at) };
    this.shown.delete(at);
    this.end = at;
    this.branched = true;
    return true;
  }

  /** Shows the branch that holds `id` (deeper choices stay as they were). False for an unknown message. */
  show(id: string): boolean {
    const parent = this.parentOf.get(id);
    if (parent === undefined) return false;
    this.shown.set(parent, id);
    this.openFork = undefined;
    this.branched = true;
    this.end = this.descend(this.topOf(id));
    return true;
  }

  /** Removes a message (a tombstone): what followed it follows its parent, in its place. */
  remove(id: string): void {
    const parent = this.parentOf.get(id);
    if (parent === undefined) return;
    const kids = this.childrenOf.get(id) ?? [];
    const siblings = this.kids(parent);
    siblings.splice(siblings.indexOf(id), 1, ...kids);
    for (const k of kids) this.parentOf.set(k, parent);
    const shownKid = this.shown.get(id);
    if (this.shown.get(parent) === id) {
      const next = shownKid ?? kids.at(-1);
      if (next) this.shown.set(parent, next);
      else this.shown.delete(parent);
    }
    if (this.openFork?.at === id) this.openFork = { at: parent, hidden: this.openFork.hidden };
    if (this.openFork?.hidden === id) this.openFork.hidden = shownKid;
    this.parentOf.delete(id);
    this.childrenOf.delete(id);
    this.shown.delete(id);
    if (!siblings.length) this.childrenOf.delete(parent);
    this.end = this.descend(this.topOf(parent));
  }

  /** After replay: a fork that no message followed (a crash in between) is undone, so nothing is hidden. */
  settle(): void {
    const f = this.openFork;
    if (!f) return;
    this.openFork = undefined;
    if (f.hidden && this.parentOf.get(f.hidden) === f.at) this.shown.set(f.at, f.hidden);
    this.end = this.descend(this.topOf(f.at));
  }

  /** The messages of the shown branch, first to last (`messages` holds every message; insertion order for a tree that never forked). */
  path<T>(messages: ReadonlyMap<string, T>): T[] {
    if (!this.branched) return [...messages.values()];
    const out: T[] = [];
    for (let cur = this.shown.get(ROOT); cur !== undefined; cur = this.shown.get(cur)) {
      const m = messages.get(cur);
      if (m) out.push(m);
    }
    return out;
  }

  /** `fork(after)`, applied to the shown messages (`shown`, in order; `index`: by id): the cut ones move to `hidden`. */
  forkMessages<T extends { id: string }>(after: string | null, shown: T[], index: Map<string, T>, hidden: Map<string, T>): void {
    this.fork(after);
    for (const m of shown.splice(after === null ? 0 : shown.findIndex((x) => x.id === after) + 1)) {
      index.delete(m.id);
      hidden.set(m.id, m);
    }
  }

  /** `show(id)`, applied to the shown messages and the hidden ones (re-split between them). */
  showMessages<T extends { id: string }>(id: string, shown: T[], index: Map<string, T>, hidden: Map<string, T>): void {
    this.show(id);
    const all = new Map<string, T>([...shown.map((m): [string, T] => [m.id, m]), ...hidden]);
    shown.splice(0, shown.length, ...this.path(all));
    index.clear();
    hidden.clear();
    for (const m of shown) index.set(m.id, m);
    for (const [k, m] of all) if (!index.has(k)) hidden.set(k, m);
  }

  /** Where `id` sits among its alternatives; undefined when it has none. */
  position(id: string): BranchPosition | undefined {
    const parent = this.parentOf.get(id);
    const siblings = parent === undefined ? [] : this.kids(parent);
    return siblings.length > 1 ? { index: siblings.indexOf(id) + 1, count: siblings.length } : undefined;
  }

  /** The alternative `offset` places from `id` (-1: previous, 1: next); undefined at either end. */
  sibling(id: string, offset: number): string | undefined {
    const parent = this.parentOf.get(id);
    if (parent === undefined) return undefined;
    const siblings = this.kids(parent);
    return siblings[siblings.indexOf(id) + offset];
  }

  /** The message that follows `id` on the shown branch. */
  shownChild(id: string | null): string | undefined {
    return this.shown.get(id ?? ROOT);
  }

  private kids(parent: string): string[] {
    let list = this.childrenOf.get(parent);
    if (!list) this.childrenOf.set(parent, (list = []));
    return list;
  }

  /** Follows the shown children from `id` to the end of its branch. */
  private descend(id: string): string {
    let cur = id;
    for (let next = this.shown.get(cur); next !== undefined; next = this.shown.get(cur)) cur = next;
    return cur;
  }

  /** `id` when it is on the shown path from the start, else its deepest shown ancestor (ROOT at worst). */
  private topOf(id: string): string {
    const chain: string[] = [];
    for (let cur = id; cur !== ROOT; cur = this.parentOf.get(cur) ?? ROOT) chain.unshift(cur);
    let at = ROOT;
    for (const c of chain) {
      if (this.shown.get(at) !== c) return at;
      at = c;
    }
    return at;
  }
}
