/**
 * The local task list on disk: one small JSON file (`{version, tasks}`) in the gateway's storage dir,
 * rewritten atomically (temp file, fsync, rename) after each change, writes coalesced and serialised.
 * A corrupt file is moved aside with one clear log line; a bad record is skipped with one; nothing
 * else (conversations, the other tasks) is lost.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type LocalTask, localTaskSchema } from '../../protocol/localApi';
import type { Logger } from '../ports';
import { writeFileAtomic } from '../util/atomicFile';
import { errorMessage } from '../errors';

export const TASK_FILE_VERSION = 1;

interface FileShape {
  version: number;
  tasks: unknown[];
}

function isFileShape(v: unknown): v is FileShape {
  return typeof v === 'object' && v !== null && typeof (v as FileShape).version === 'number' && Array.isArray((v as FileShape).tasks);
}

export class TaskFile {
  private writing: Promise<void> = Promise.resolve();
  private pending: (() => LocalTask[]) | undefined;
  private failedOnce = false;

  constructor(
    readonly filePath: string,
    private readonly log: Logger,
  ) {}

  /** Reads the file. Missing → []; corrupt → moved to `<file>.corrupt-<time>`, a log line, []. */
  async load(): Promise<LocalTask[]> {
    let text: string;
    try {
      text = await fs.readFile(this.filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return this.quarantine(`it is not valid JSON (${errorMessage(err)})`);
    }
    if (!isFileShape(parsed)) return this.quarantine('it does not hold {"version", "tasks": [...]}');
    if (parsed.version > TASK_FILE_VERSION)
      return this.quarantine(`it has version ${parsed.version}, newer than this MultiClaw understands (${TASK_FILE_VERSION})`);
    const tasks: LocalTask[] = [];
    const seen = new Set<string>();
    parsed.tasks.forEach((raw, i) => {
      const r = localTaskSchema.safeParse(raw);
      if (!r.success) {
        this.log.warn(
          `tasks file ${this.filePath}: record ${i} skipped (${r.error.issues.map((x) => `${x.path.join('.') || 'record'}: ${x.message}`).join('; ')})`,
        );
      } else if (seen.has(r.data.id)) {
        this.log.warn(`tasks file ${this.filePath}: record ${i} skipped (duplicate id ${r.data.id})`);
      } else {
        seen.add(r.data.id);
        tasks.push(r.data);
      }
    });
    return tasks;
  }

  /** Schedules a write of `snapshot()` (taken when the write starts, so bursts coalesce into one). */
  save(snapshot: () => LocalTask[]): Promise<void> {
    const queued = this.pending !== undefined;
    this.pending = snapshot;
    if (queued) return this.writing;
    this.writing = this.writing.then(async () => {
      const take = this.pending;
      this.pending = undefined;
      if (take) await this.write(take());
    });
    return this.writing;
  }

  /** Resolves once every scheduled write has settled. */
  flush(): Promise<void> {
    return this.writing;
  }

  private async write(tasks: LocalTask[]): Promise<void> {
    const body = JSON.stringify({ version: TASK_FILE_VERSION, tasks } satisfies FileShape);
    try {
      await fs.mkdir(path.dirname(this.filePath), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.filePath, body);
      this.failedOnce = false;
    } catch (err) {
      // The list stays in memory; the next change tries again. Log the first failure of a run only.
      if (!this.failedOnce) this.log.error(`could not write the tasks file ${this.filePath}:`, err instanceof Error ? err : String(err));
      this.failedOnce = true;
    }
  }

  private async quarantine(reason: string): Promise<LocalTask[]> {
    const aside = `${this.filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    let where = `moved to ${aside}`;
    try {
      await fs.rename(this.filePath, aside);
    } catch (err) {
      where = `could not be moved aside (${errorMessage(err)})`;
    }
    this.log.error(`tasks file ${this.filePath} is corrupt: ${reason}. It was ${where}; the task list starts empty. Conversations are not affected.`);
    return [];
  }
}
