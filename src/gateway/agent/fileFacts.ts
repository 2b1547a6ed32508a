/** Disk reads both editor ports share (the plain-Node one and the VS Code one). */
import { promises as fs } from 'node:fs';
import type { FileInfo } from './workspacePort';

/** The disk facts of a path (lstat: a symlink is reported as one), or undefined when it does not exist. Shared by both ports. */
export async function fileInfo(p: string): Promise<FileInfo | undefined> {
  try {
    const st = await fs.lstat(p);
    const type = st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
    return { type, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

/** The real path (symlinks resolved), or undefined when it does not exist. */
export async function realpathOf(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

/** At most the first `maxBytes` bytes of a file, from disk. */
export async function readHead(p: string, maxBytes: number): Promise<Uint8Array> {
  const fh = await fs.open(p, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
