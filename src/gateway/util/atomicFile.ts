import { promises as fs } from 'node:fs';

/**
 * Replaces `file` with `data` atomically and durably: writes a temp file next to it (created
 * exclusively, mode 0600 by default, after removing any stale one), fsyncs it, then renames it over
 * `file`. A reader sees the old content or the new, never a torn one. On failure the temp file is
 * removed and the error is rethrown; the caller decides how to report it.
 */
export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await fs.rm(tmp, { force: true });
    const fh = await fs.open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode); // the umask may have narrowed or widened what open() set
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
