/**
 * One open conversation: its messages in memory and the append side of its file. Every write goes
 * through the file's queue and updates memory only once it is written, except streamed text, which
 * shows in memory at once and reaches the file in batches (every DELTA_FLUSH_MS, or with the end of
 * the reply). Turn boundaries (a user message, a finished reply, a removal, a rename) are fsynced.
 * Built and cached by ConversationStore; `close()` (or the store's dispose) writes what is buffered.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../ports';
import { Disposable, type IDisposable } from '../util/disposable';
import type { ToolCallView, ToolKind } from '../../protocol/agent';
import type { Journal } from './journal';
import {
  type AssistantEnd,
  type MessageTools,
  type ConversationMeta,
  type ConversationSummary,
  displayTitle,
  normalizeTitle,
  snippetOf,
  type StoredMessage,
  titleFromText,
} from './model';
import { type CallRecord, type ContextItem, encodeRecord, type ResultRecord, type StoredToolCall } from './records';
import { capResult, endRecord } from './recordBuilders';
import type { BranchPosition, BranchTree } from './branchTree';
import type { ReplayState } from './replay';
import { applyResult, viewFromCall } from './toolRecords';

/** A call as the loop hands it to the conversation: the exact call, and what its card shows. */
export interface NewToolCall {
  call: StoredToolCall;
  kind: ToolKind;
  subject: string;
  url?: string;
}

/** A call's result as the loop hands it over (content is capped to MAX_RESULT_CONTENT here). */
export type NewToolResult = Pick<ResultRecord, 'callId' | 'status' | 'content' | 'durationMs' | 'exitCode' | 'diffStat'>;

/** How long streamed text may sit in memory before it is appended (without fsync). */
export const DELTA_FLUSH_MS = 200;

/** What an open conversation needs from the store that owns it. */
export interface ConversationHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** A turn-level change was written (not called for streamed text). */
  changed(conversation: Conversation): void;
  /** The conversation was closed; `drained` settles when its last queued write has. */
  closed(conversation: Conversation, drained: Promise<void>): void;
}

export class Conversation extends Disposable {
  readonly id: string;
  /** What loading repaired (empty for a healthy file), for one log line. */
  readonly repairs: readonly string[];
  private readonly list: StoredMessage[];
  private readonly byId = new Map<string, StoredMessage>();
  /** Messages that take no more deltas: their end or removal is being written. */
  private readonly sealed = new Set<string>();
  private pending: { id: string; text: string }[] = [];
  private pendingCalls: { id: string; line: string }[] = [];
  private readonly tools: Map<string, MessageTools>;
  private readonly tree: BranchTree;
  /** Messages on the branches not shown. */
  private readonly hidden: Map<string, StoredMessage>;
  private flushTimer: IDisposable | undefined;
  private discarded = false;
  private explicitTitle: string;
  private derivedTitle: string;
  private agentId: string | null;
  private readonly createdAt: number;
  private readonly taskId: string | undefined;
  private updatedAt: number;

  constructor(
    state: ReplayState,
    private readonly journal: Journal,
    private readonly host: ConversationHost,
  ) {
    super();
    this.id = state.id;
    this.repairs = state.repairs;
    this.list = state.messages;
    this.tools = state.tools;
    this.tree = state.tree;
    this.hidden = state.hidden;
    for (const m of this.list) this.byId.set(m.id, m);
    this.explicitTitle = state.explicitTitle;
    this.derivedTitle = state.derivedTitle;
    this.agentId = state.agentId;
    this.createdAt = state.createdAt;
    this.taskId = state.taskId;
    this.updatedAt = state.updatedAt;
  }

  /** The live transcript; a streaming reply's text grows in place. Do not mutate. */
  get messages(): readonly Readonly<StoredMessage>[] {
    return this.list;
  }

  get meta(): ConversationMeta {
    const meta: ConversationMeta = {
      id: this.id,
      title: displayTitle(this.explicitTitle, this.derivedTitle),
      agentId: this.agentId,
      createdAt: this.createdAt,
    };
    if (this.taskId !== undefined) meta.taskId = this.taskId;
    return meta;
  }

  get summary(): ConversationSummary {
    return { ...this.meta, updatedAt: this.updatedAt, snippet: snippetOf(this.list), messageCount: this.list.length };
  }

  get isClosed(): boolean {
    return this.isDisposed;
  }

  /** Appends a user message with what the user attached to it (written with it, fsync'd). */
  async appendUser(text: string, context?: readonly ContextItem[], origin?: 'task'): Promise<StoredMessage> {
    this.assertOpen();
    const items = context?.length ? context.map((c) => ({ ...c })) : undefined;
    const extra = { ...(items ? { context: items } : {}), ...(origin ? { origin } : {}) };
    const msg: StoredMessage = { id: randomUUID(), role: 'user', text, ts: this.host.clock.now(), status: 'complete', ...extra };
    await this.write(this.takePending() + encodeRecord({ t: 'user', id: msg.id, text, ts: msg.ts, ...extra }), true, () => {
      this.add(msg);
      if (!this.derivedTitle) this.derivedTitle = titleFromText(text);
    });
    return { ...msg };
  }

  /** Starts an assistant reply (status `streaming`); feed it with appendDelta, end it with finishAssistant. */
  async beginAssistant(agentId: string): Promise<StoredMessage> {
    this.assertOpen();
    const msg: StoredMessage = { id: randomUUID(), role: 'assistant', text: '', ts: this.host.clock.now(), status: 'streaming', agentId };
    await this.write(this.takePending() + encodeRecord({ t: 'start', id: msg.id, agentId, ts: msg.ts }), false, () => this.add(msg));
    return this.copy(msg);
  }

  /** Adds streamed text: visible in `messages` at once, written within DELTA_FLUSH_MS (no fsync). */
  appendDelta(messageId: string, text: string): void {
    this.assertOpen();
    const m = this.streamingReply(messageId, 'appendDelta');
    if (!text) return;
    m.text += text;
    const last = this.pending.at(-1);
    if (last?.id === messageId) last.text += text;
    else this.pending.push({ id: messageId, text });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= this.host.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flushPending();
    }, DELTA_FLUSH_MS);
  }

  /** Ends a reply: buffered text and the end record are written together and fsynced (unless `durable: false`). */
  async finishAssistant(messageId: string, end: AssistantEnd): Promise<void> {
    this.assertOpen();
    const m = this.streamingReply(messageId, 'finishAssistant');
    const record = endRecord(messageId, end, this.host.clock.now());
    const endLine = encodeRecord(record);
    this.sealed.add(messageId);
    try {
      await this.write(this.takePending() + endLine, end.durable !== false, () => {
        m.status = record.status;
        if (record.finishReason !== undefined) m.finishReason = record.finishReason;
        if (record.usage !== undefined) m.usage = record.usage;
        if (record.error !== undefined) m.error = record.error;
        this.updatedAt = Math.max(this.updatedAt, record.ts);
      });
    } finally {
      this.sealed.delete(messageId);
    }
  }

  /**
   * Adds the tool calls of a streaming reply: on its cards at once (status `running`), written with
   * the reply's end record (one fsync per round trip).
   */
  addToolCalls(messageId: string, calls: readonly NewToolCall[]): ToolCallView[] {
    this.assertOpen();
    const m = this.streamingReply(messageId, 'addToolCalls');
    const tools = this.tools.get(messageId) ?? ({ calls: [], results: new Map() } as MessageTools);
    this.tools.set(messageId, tools);
    const views: ToolCallView[] = [];
    for (const c of calls) {
      const record: CallRecord = { t: 'call', id: messageId, call: c.call, kind: c.kind, subject: c.subject.slice(0, 2000) };
      if (c.url !== undefined) record.url = c.url.slice(0, 4000);
      const line = encodeRecord(record);
      tools.calls.push(c.call);
      const view = viewFromCall(record);
      (m.toolCalls ??= []).push(view);
      this.pendingCalls.push({ id: messageId, line });
      views.push({ ...view });
    }
    return views;
  }

  /** Changes a call's card in memory only (status, approval, streaming output): never written. */
  updateToolCall(messageId: string, callId: string, patch: Partial<ToolCallView>): ToolCallView | undefined {
    const view = this.byId.get(messageId)?.toolCalls?.find((v) => v.id === callId);
    if (!view) return undefined;
    Object.assign(view, patch);
    for (const k of Object.keys(patch) as Array<keyof ToolCallView>) if (patch[k] === undefined) delete view[k];
    return { ...view };
  }

  /**
   * Records a call's result and updates its card at once. Not durable: buffered like streamed text and
   * written with the next record (the next reply's start) or within DELTA_FLUSH_MS, unsynced. Durable:
   * written and fsynced before it resolves.
   */
  async appendToolResult(messageId: string, result: NewToolResult, durable = false): Promise<ToolCallView> {
    this.assertOpen();
    const tools = this.tools.get(messageId);
    const view = this.byId.get(messageId)?.toolCalls?.find((v) => v.id === result.callId);
    if (!tools || !view || tools.results.has(result.callId))
      throw new Error(`appendToolResult: no call ${result.callId} waiting in message ${messageId} of conversation ${this.id}`);
    const content = capResult(result.content);
    const record: ResultRecord = { ...result, t: 'result', id: messageId, content, durationMs: Math.max(0, result.durationMs), ts: this.host.clock.now() };
    const line = encodeRecord(record);
    const apply = (): void => {
      tools.results.set(result.callId, { status: record.status, content });
      applyResult(view, record);
    };
    if (durable) {
      await this.write(this.takePending() + line, true, apply);
    } else {
      apply();
      this.pendingCalls.push({ id: messageId, line });
      this.scheduleFlush();
      this.host.changed(this);
    }
    return { ...view };
  }

  /** A reply's exact tool calls and results (for the provider history). */
  toolsOf(messageId: string): Readonly<MessageTools> | undefined {
    return this.tools.get(messageId);
  }

  /** Writes what is buffered and fsyncs the file (the end of a turn that ended with a tool result). */
  async sync(): Promise<void> {
    this.assertOpen();
    await this.write(this.takePending(), true, () => undefined);
  }

  /** Removes a message (e.g. a failed reply before Retry) by appending a tombstone; fsynced. */
  async removeMessage(messageId: string): Promise<void> {
    this.assertOpen();
    const m = this.byId.get(messageId);
    if (!m || this.sealed.has(messageId)) throw new Error(`removeMessage: no message ${messageId} to remove in conversation ${this.id}`);
    this.sealed.add(messageId);
    this.pending = this.pending.filter((c) => c.id !== messageId);
    this.pendingCalls = this.pendingCalls.filter((c) => c.id !== messageId);
    try {
      await this.write(encodeRecord({ t: 'remove', id: messageId, ts: this.host.clock.now() }), true, () => {
        this.list.splice(this.list.indexOf(m), 1);
        this.byId.delete(messageId);
        this.tree.remove(messageId);
        this.tools.delete(messageId);
      });
    } finally {
      this.sealed.delete(messageId);
    }
  }

  /** Where a message sits among its alternatives (an edited message, a regenerated reply); undefined: it has none. */
  branchOf(messageId: string): BranchPosition | undefined {
    return this.tree.position(messageId);
  }

  /** The alternative `offset` places from a message of the shown branch (-1: previous, 1: next). */
  siblingOf(messageId: string, offset: number): string | undefined {
    return this.byId.has(messageId) ? this.tree.sibling(messageId, offset) : undefined;
  }

  /**
   * Forks: cuts the shown branch after `after` (null: before the first message) and, with `user`,
   * starts the new branch with that message (written with the fork, fsynced). The cut messages stay
   * as the other branch. Refused while a reply streams or when `after` is not on the shown branch.
   */
  async fork(after: string | null, user?: { text: string; context?: readonly ContextItem[] }): Promise<StoredMessage | undefined> {
    this.assertOpen();
    if (this.list.some((m) => m.status === 'streaming')) throw new Error(`fork: a reply is still streaming in conversation ${this.id}`);
    if (after !== null && !this.byId.has(after)) throw new Error(`fork: no message ${after} on the shown branch of conversation ${this.id}`);
    const ts = this.host.clock.now();
    const items = user?.context?.length ? { context: user.context.map((c) => ({ ...c })) } : {};
    const msg: StoredMessage | undefined = user && { id: randomUUID(), role: 'user', text: user.text, ts, status: 'complete', ...items };
    const lines = encodeRecord({ t: 'fork', after, ts }) + (msg ? encodeRecord({ t: 'user', id: msg.id, text: msg.text, ts, ...items }) : '');
    await this.write(this.takePending() + lines, true, () => {
      this.tree.forkMessages(after, this.list, this.byId, this.hidden);
      if (msg) this.add(msg);
    });
    return msg && this.copy(msg);
  }

  /** Shows the branch that holds `messageId` (one of the alternatives `branchOf` counts); fsynced. */
  async showBranch(messageId: string): Promise<void> {
    this.assertOpen();
    if (!this.tree.has(messageId)) throw new Error(`showBranch: no message ${messageId} in conversation ${this.id}`);
    if (this.list.some((m) => m.status === 'streaming')) throw new Error(`showBranch: a reply is still streaming in conversation ${this.id}`);
    await this.write(this.takePending() + encodeRecord({ t: 'branch', id: messageId, ts: this.host.clock.now() }), true, () => {
      this.tree.showMessages(messageId, this.list, this.byId, this.hidden);
    });
  }

  /** Sets an explicit title ('' goes back to the one derived from the first message). */
  async setTitle(title: string): Promise<void> {
    this.assertOpen();
    const t = normalizeTitle(title);
    await this.write(encodeRecord({ t: 'title', title: t, ts: this.host.clock.now() }), true, () => {
      this.explicitTitle = t;
    });
  }

  async setAgent(agentId: string): Promise<void> {
    this.assertOpen();
    await this.write(encodeRecord({ t: 'agent', agentId, ts: this.host.clock.now() }), true, () => {
      this.agentId = agentId;
    });
  }

  /** Writes buffered streamed text now; resolves when every queued write has settled. */
  async flush(): Promise<void> {
    await this.flushPending();
    await this.journal.idle();
  }

  /** Resolves when every write queued so far has settled (buffered deltas stay buffered). */
  whenIdle(): Promise<void> {
    return this.journal.idle();
  }

  /** Writes what is buffered, then releases the conversation (the store opens a fresh one next time). */
  async close(): Promise<void> {
    this.dispose();
    await this.journal.idle();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    void this.flushPending();
    super.dispose();
    this.host.closed(this, this.journal.idle());
  }

  /** For ConversationStore.delete: drop buffered and queued writes, then close. */
  discard(): Promise<void> {
    this.discarded = true;
    this.pending = [];
    this.pendingCalls = [];
    this.dispose();
    return this.journal.idle();
  }

  private assertOpen(): void {
    if (this.isDisposed) throw new Error(`Conversation ${this.id} is closed`);
  }

  private streamingReply(messageId: string, what: string): StoredMessage {
    const m = this.byId.get(messageId);
    if (!m || m.role !== 'assistant' || m.status !== 'streaming' || this.sealed.has(messageId)) {
      throw new Error(`${what}: ${messageId} is not a streaming reply in conversation ${this.id}`);
    }
    return m;
  }

  /** A copy to hand out, with its place among the branches when it has alternatives. */
  private copy(msg: StoredMessage): StoredMessage {
    const branch = this.tree.position(msg.id);
    return branch ? { ...msg, branch } : { ...msg };
  }

  private add(msg: StoredMessage): void {
    this.tree.add(msg.id);
    this.list.push(msg);
    this.byId.set(msg.id, msg);
    this.updatedAt = Math.max(this.updatedAt, msg.ts);
  }

  /** Queues a write; `apply` updates memory once it is written, then the store hears of it. */
  private write(lines: string, durable: boolean, apply: () => void): Promise<void> {
    return this.journal.enqueue(async () => {
      if (this.discarded) throw new Error(`Conversation ${this.id} was deleted`);
      await this.journal.append(lines, durable);
      apply();
      this.host.changed(this);
    });
  }

  private takePending(): string {
    this.flushTimer?.dispose();
    this.flushTimer = undefined;
    const lines = this.pending.map((c) => encodeRecord({ t: 'chunk', id: c.id, text: c.text })).join('') + this.pendingCalls.map((c) => c.line).join('');
    this.pending = [];
    this.pendingCalls = [];
    return lines;
  }

  /** Appends buffered streamed text without fsync. Never rejects: a failure is logged. */
  private flushPending(): Promise<void> {
    const lines = this.takePending();
    if (!lines) return Promise.resolve();
    return this.journal
      .enqueue(async () => {
        if (!this.discarded) await this.journal.append(lines, false);
      })
      .catch((err: unknown) => {
        this.host.logger.error(`conversation ${this.id}: could not write streamed text`, err);
      });
  }
}
