/**
 * The files an agent changed: checkpoints and the review state. Before every write the original is
 * kept per assistant message (its content at that point, or "absent"), so Revert to here restores
 * every file touched since any message. Per file, the pending review holds the content before the
 * agent's first unreviewed edit: Keep accepts it, Undo writes it back (or removes a file the agent
 * created). When the file on disk no longer matches what the agent last wrote, the next request
 * tells the model the user changed it. Persisted per conversation under
 * `<storage>/checkpoints/<conversationId>.json` (atomic; a corrupt file is ignored with a log line).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FileChange } from '../../protocol/agent';
import type { Logger } from '../ports';
import { isConversationId } from '../store/records';
import { writeFileAtomic } from '../util/atomicFile';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { diffStat } from './editApply';
import type { WorkspacePort } from './workspacePort';

interface Checkpoint {
  messageId: string;
  ts: number;
  /** Content of each file before this message's first write to it; null = it did not exist. */
  files: Record<string, string | null>;
}

interface Pending {
  /** Before the first unreviewed edit; null = the agent created it. */
  original: string | null;
  /** What the agent last wrote; null = the agent deleted it. */
  current: string | null;
}

interface ConversationChanges {
  version: 1;
  checkpoints: Checkpoint[];
  pending: Record<string, Pending>;
  /** What the agent last wrote per file (user changes are measured against it). */
  written: Record<string, string | null>;
}

export interface ChangeEvent {
  conversationId: string;
}

const MAX_CHECKPOINTS = 200;
const fresh = (): ConversationChanges => ({ version: 1, checkpoints: [], pending: {}, written: {} });

function valid(v: unknown): v is ConversationChanges {
  const c = v as ConversationChanges;
  return !!c && c.version === 1 && Array.isArray(c.checkpoints) && typeof c.pending === 'object' && !!c.pending && typeof c.written === 'object' && !!c.written;
}

export class ChangeTracker extends Disposable {
  private readonly byConversation = new Map<string, ConversationChanges>();
  private readonly saving = new Map<string, Promise<void>>();
  private readonly onDidChangeEmitter = this._register(new Emitter<ChangeEvent>());
  readonly onDidChange: Event<ChangeEvent> = this.onDidChangeEmitter.event;

  private constructor(
    private readonly port: WorkspacePort,
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Loads every conversation's checkpoints from `dir` (corrupt files are skipped with a log line). */
  static async open(port: WorkspacePort, dir: string, log: Logger): Promise<ChangeTracker> {
    const t = new ChangeTracker(port, dir, log);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (!isConversationId(id)) continue;
      try {
        const parsed: unknown = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8'));
        if (!valid(parsed)) throw new Error('not a checkpoint file');
        t.byConversation.set(id, parsed);
      } catch (err) {
        log.warn(`checkpoints of ${id} ignored (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    return t;
  }

  private state(cid: string): ConversationChanges {
    if (!isConversationId(cid)) throw new Error(`not a conversation id: ${String(cid).slice(0, 80)}`);
    let s = this.byConversation.get(cid);
    if (!s) this.byConversation.set(cid, (s = fresh()));
    return s;
  }

  /** Before a write: remembers `before` (undefined = absent) as the file's content at message `messageId`. */
  async checkpoint(cid: string, messageId: string, file: string, before: string | undefined): Promise<void> {
    const s = this.state(cid);
    let cp = s.checkpoints.at(-1);
    if (cp?.messageId !== messageId) {
      s.checkpoints.push((cp = { messageId, ts: Date.now(), files: {} }));
      if (s.checkpoints.length > MAX_CHECKPOINTS) s.checkpoints.splice(0, s.checkpoints.length - MAX_CHECKPOINTS);
    }
    if (!(file in cp.files)) cp.files[file] = before ?? null;
    if (!(file in s.pending)) s.pending[file] = { original: before ?? null, current: before ?? null };
    await this.save(cid);
  }

  /** After a write (`text` undefined: the agent deleted the file). */
  wrote(cid: string, file: string, text: string | undefined): void {
    const s = this.state(cid);
    const p = s.pending[file];
    if (p) p.current = text ?? null;
    s.written[file] = text ?? null;
    if (p && p.original === p.current) delete s.pending[file];
    void this.save(cid);
    this.onDidChangeEmitter.fire({ conversationId: cid });
  }

  /** Files waiting for review (one conversation, or all). */
  pending(cid?: string): FileChange[] {
    const out: FileChange[] = [];
    for (const [id, s] of this.byConversation) {
      if (cid !== undefined && id !== cid) continue;
      for (const [file, p] of Object.entries(s.pending)) {
        const stat = diffStat(p.original ?? '', p.current ?? '');
        out.push({ path: file, label: this.label(file), kind: p.original === null ? 'created' : 'modified', added: stat.added, removed: stat.removed });
      }
    }
    return out.sort((a, b) => (a.label < b.label ? -1 : 1));
  }

  /** The content before the agent's unreviewed edits (the diff's left side); undefined when none is pending or it was created. */
  original(file: string): string | undefined {
    for (const s of this.byConversation.values()) {
      const p = s.pending[file];
      if (p) return p.original ?? undefined;
    }
    return undefined;
  }

  /** Keep: the edit stays, the review ends. */
  keep(file: string): boolean {
    const cid = this.owner(file);
    if (cid === undefined) return false;
    delete this.state(cid).pending[file];
    void this.save(cid);
    this.onDidChangeEmitter.fire({ conversationId: cid });
    return true;
  }

  /** Undo: the original goes back through the port (a created file is removed). */
  async undo(file: string): Promise<boolean> {
    const cid = this.owner(file);
    if (cid === undefined) return false;
    const s = this.state(cid);
    const p = s.pending[file]!;
    await this.restore(file, p.original, 'Undo agent edit');
    delete s.pending[file];
    s.written[file] = p.original;
    await this.save(cid);
    this.onDidChangeEmitter.fire({ conversationId: cid });
    return true;
  }

  keepAll(cid: string): number {
    const files = Object.keys(this.byConversation.get(cid)?.pending ?? {});
    for (const f of files) this.keep(f);
    return files.length;
  }

  async undoAll(cid: string): Promise<number> {
    const files = Object.keys(this.byConversation.get(cid)?.pending ?? {});
    for (const f of files) await this.undo(f);
    return files.length;
  }

  /**
   * Revert to here: every file touched at or after `messageId` (in `order`, the conversation's message
   * ids) gets the content it had at that point. Returns the files restored.
   */
  async revertTo(cid: string, messageId: string, order: readonly string[]): Promise<string[]> {
    const s = this.byConversation.get(cid);
    const at = order.indexOf(messageId);
    if (!s || at === -1) return [];
    const index = new Map(order.map((id, i) => [id, i]));
    const keep: Checkpoint[] = [];
    const restore = new Map<string, string | null>();
    for (const cp of s.checkpoints) {
      const i = index.get(cp.messageId);
      if (i === undefined || i < at) {
        keep.push(cp);
        continue;
      }
      for (const [file, content] of Object.entries(cp.files)) if (!restore.has(file)) restore.set(file, content);
    }
    for (const [file, content] of restore) {
      await this.restore(file, content, 'Revert agent edits');
      s.written[file] = content;
      const p = s.pending[file];
      if (p) {
        p.current = content;
        if (p.current === p.original) delete s.pending[file];
      }
    }
    s.checkpoints = keep;
    await this.save(cid);
    this.onDidChangeEmitter.fire({ conversationId: cid });
    return [...restore.keys()];
  }

  /**
   * For the next model request: files of this conversation whose disk content differs from what the
   * agent last wrote (the user changed them; reported once), and new errors in the files it edited.
   */
  async userChanges(cid: string): Promise<string | undefined> {
    const s = this.byConversation.get(cid);
    if (!s) return undefined;
    const notes: string[] = [];
    let changed = false;
    for (const [file, wrote] of Object.entries(s.written)) {
      const now = await this.port.read(file).then(
        (r) => r.text,
        () => null,
      );
      if (now === wrote) continue;
      notes.push(`The user changed ${this.label(file)} since your last edit${now === null ? ' (it was deleted)' : ''}; re-read it before editing it again.`);
      s.written[file] = now;
      changed = true;
      const p = s.pending[file];
      if (p) p.current = now;
    }
    for (const file of Object.keys(s.pending)) {
      const errors = (await this.port.diagnostics(file).catch(() => [])).filter((d) => d.severity === 'error').slice(0, 5);
      for (const d of errors) notes.push(`${this.label(file)}:${d.line}:${d.column} error: ${d.message}`);
    }
    if (changed) await this.save(cid);
    return notes.length ? notes.join('\n') : undefined;
  }

  /** Forgets a deleted conversation. */
  async forget(cid: string): Promise<void> {
    this.byConversation.delete(cid);
    await this.saving.get(cid);
    await fs.rm(path.join(this.dir, `${cid}.json`), { force: true });
  }

  /** Resolves once every save has settled. */
  async flush(): Promise<void> {
    await Promise.all(this.saving.values());
  }

  private owner(file: string): string | undefined {
    for (const [cid, s] of this.byConversation) if (file in s.pending) return cid;
    return undefined;
  }

  private async restore(file: string, content: string | null, label: string): Promise<void> {
    const exists = (await this.port.stat(file)) !== undefined;
    if (content === null) {
      if (exists) await this.port.remove(file);
    } else {
      await this.port.write(file, content, { create: !exists, label });
    }
  }

  private label(file: string): string {
    const folders = this.port.folders();
    for (const f of folders) {
      const rel = path.relative(f.path, file);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return folders.length > 1 ? `${f.name}/${rel}` : rel;
    }
    return file;
  }

  /** Saves one conversation's state (writes are chained per conversation; a failure is logged). */
  private save(cid: string): Promise<void> {
    const prev = this.saving.get(cid) ?? Promise.resolve();
    const next = prev.then(async () => {
      const s = this.byConversation.get(cid);
      if (!s) return;
      try {
        await writeFileAtomic(path.join(this.dir, `${cid}.json`), JSON.stringify(s));
      } catch (err) {
        this.log.warn(`could not save the checkpoints of ${cid}:`, err instanceof Error ? err : String(err));
      }
    });
    this.saving.set(cid, next);
    return next;
  }
}
