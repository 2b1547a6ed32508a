/**
 * The append side of one conversation file. A queue runs one operation at a time, so concurrent
 * appends never interleave bytes. Before the first append after a torn tail (or after a failed
 * write) the file is truncated back to the end of the last complete record, so a new record never
 * glues onto garbage. Durable appends fsync (fdatasync) before they resolve.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface JournalState {
  /** Bytes known to hold complete records. */
  validEnd: number;
  /** Current file size (more than validEnd when a torn tail is still on disk). */
  size: number;
  /** The last record lacks its newline. */
  needsNewline: boolean;
}

export class Journal {
  private tail: Promise<unknown> = Promise.resolve();
  private goodSize: number;
  private dirty: boolean;
  private needsNewline: boolean;

  constructor(
    readonly file: string,
    state: JournalState,
  ) {
    this.goodSize = state.validEnd;
    this.dirty = state.size !== state.validEnd;
    this.needsNewline = state.needsNewline;
  }

  /** Runs `op` after every operation queued before it; a failed operation does not stop the queue. */
  enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every operation queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  /**
   * Appends whole lines. Only call from inside an `enqueue`d operation. Never creates the file (a
   * deleted conversation stays deleted). O_APPEND: should two windows write one conversation, their
   * lines interleave whole instead of overwriting each other.
   */
  async append(lines: string, durable: boolean): Promise<void> {
    const bytes = Buffer.from(this.needsNewline ? '\n' + lines : lines, 'utf8');
    if (this.dirty) {
      // By path, not on the append handle: Windows opens O_APPEND handles without the right to truncate.
      await fs.truncate(this.file, this.goodSize);
      this.dirty = false;
    }
    const fh = await fs.open(this.file, constants.O_WRONLY | constants.O_APPEND);
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      if (durable) await fh.datasync();
      this.goodSize += bytes.length;
      this.needsNewline = false;
    } catch (err) {
      this.dirty = true;
      throw err;
    } finally {
      await fh.close();
    }
  }
}

/** Creates a new file holding `lines` (fails if it exists), fsyncs it and, where possible, its folder. */
export async function createJournalFile(file: string, lines: string): Promise<number> {
  const bytes = Buffer.from(lines, 'utf8');
  const fh = await fs.open(file, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.datasync();
  } catch (err) {
    await fh.close();
    await fs.rm(file, { force: true });
    throw err;
  }
  await fh.close();
  await syncDir(path.dirname(file));
  return bytes.length;
}

/** Makes a new directory entry durable. Best effort: Windows cannot open a folder for fsync. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // some file systems refuse to fsync a directory; the file itself is already synced
  }
}
