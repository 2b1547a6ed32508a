/**
 * The discovery file: `{port, token, pid, startedAt}` in the gateway's storage dir, mode 0600 (only
 * this user can read it), written atomically at listener start and removed at stop — only when it
 * still holds this gateway's token (another window or gateway may have written its own since).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type DiscoveryFile, discoveryFileSchema } from '../../protocol/localApi';
import { writeFileAtomic } from '../util/atomicFile';

export async function writeDiscoveryFile(file: string, content: DiscoveryFile): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify(content) + '\n');
}

/** Removes the file if it still names this token; returns whether it did. */
export async function removeDiscoveryFile(file: string, token: string): Promise<boolean> {
  const current = await readDiscoveryFile(file).catch(() => undefined);
  if (current?.token !== token) return false;
  await fs.rm(file, { force: true });
  return true;
}

/** Reads and validates a discovery file; undefined when there is none. Throws on a malformed file. */
export async function readDiscoveryFile(file: string): Promise<DiscoveryFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const r = discoveryFileSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new Error(`${file} is not a MultiClaw discovery file`);
  return r.data;
}
