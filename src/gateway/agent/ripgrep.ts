/**
 * search_files through ripgrep: VS Code's own `rg` (the host passes its path: `@vscode/ripgrep`'s bin
 * inside the VS Code install) or the system's (`/usr/bin/rg`, Debian `ripgrep`). Nothing is
 * downloaded. Without any `rg`, a plain JavaScript line scan over the listed files answers, and the
 * result says so.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { SearchMatch, SearchOptions, SearchResult } from './workspacePort';

const LINE_MAX = 500;
const SYSTEM_RG = ['/usr/bin/rg', '/usr/local/bin/rg', '/opt/homebrew/bin/rg'];

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `rg` to use: the host's, else the system's, else one on PATH; undefined when there is none. */
export function findRipgrep(hostPath?: string): string | undefined {
  if (hostPath && executable(hostPath)) return hostPath;
  for (const p of SYSTEM_RG) if (executable(p)) return p;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, 'rg'))) return path.join(dir, 'rg');
  }
  return undefined;
}

export interface RipgrepResult extends SearchResult {
  /** Set when no `rg` was found and the JavaScript scan answered. */
  note?: string;
}

function clipLine(text: string): string {
  const t = text.replace(/\r?\n$/, '');
  return t.length > LINE_MAX ? `${t.slice(0, LINE_MAX)}…` : t;
}

const rgMatchLine = (line: string): SearchMatch | undefined => {
  if (!line.startsWith('{"type":"match"')) return undefined;
  try {
    const ev = JSON.parse(line) as { data?: { path?: { text?: string }; line_number?: number; lines?: { text?: string } } };
    const d = ev.data;
    if (!d?.path?.text || typeof d.line_number !== 'number') return undefined;
    return { path: d.path.text, line: d.line_number, text: clipLine(d.lines?.text ?? '') };
  } catch {
    return undefined;
  }
};

/** Runs `rg --json`; stops it once `maxResults` matches arrived. Exit 1 (no match) is a normal result. */
export function ripgrepSearch(rg: string, o: SearchOptions): Promise<RipgrepResult> {
  const args = ['--json', '--no-config', '--max-columns', String(LINE_MAX * 2), '--max-filesize', '4M'];
  args.push(o.caseSensitive === false ? '-i' : o.caseSensitive === true ? '-s' : '-S');
  if (o.literal) args.push('-F');
  if (o.glob) args.push('-g', o.glob);
  args.push('-e', o.pattern, '--', ...o.paths);
  return new Promise((resolve, reject) => {
    const child = spawn(rg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const matches: SearchMatch[] = [];
    let truncated = false;
    let stderr = '';
    const onAbort = (): void => void child.kill('SIGKILL');
    o.signal?.addEventListener('abort', onAbort);
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (truncated) return;
      const m = rgMatchLine(line);
      if (!m) return;
      if (matches.length >= o.maxResults) {
        truncated = true;
        child.kill('SIGKILL');
        return;
      }
      matches.push(m);
    });
    child.on('error', (err) => {
      o.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) return reject(new Error('search cancelled'));
      if (truncated || code === 0 || code === 1) return resolve({ matches, truncated });
      // exit 2: an error (a bad regex, an unreadable file); matches found elsewhere still count
      if (matches.length) return resolve({ matches, truncated, note: `ripgrep reported: ${stderr.trim().split('\n')[0] ?? ''}` });
      reject(new Error(stderr.trim().split('\n').slice(0, 3).join('; ') || `ripgrep exited with ${code}`));
    });
  });
}

/** The fallback: a line-by-line scan of `files` (already listed, .gitignore honoured). */
export async function scanFiles(files: readonly string[], o: SearchOptions): Promise<RipgrepResult> {
  const flags = o.caseSensitive === true || (o.caseSensitive === undefined && /[A-Z]/.test(o.pattern)) ? 'u' : 'iu';
  const re = new RegExp(o.literal ? o.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : o.pattern, flags);
  const matches: SearchMatch[] = [];
  for (const file of files) {
    if (o.signal?.aborted) throw new Error('search cancelled');
    let buf: Buffer;
    try {
      const st = await fs.stat(file);
      if (!st.isFile() || st.size > 4 * 1024 * 1024) continue;
      buf = await fs.readFile(file);
    } catch {
      continue;
    }
    if (buf.subarray(0, 8192).includes(0)) continue;
    const lines = buf.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!re.test(lines[i]!)) continue;
      if (matches.length >= o.maxResults) return { matches, truncated: true, note: 'ripgrep is not installed: searched with a slower line scan' };
      matches.push({ path: file, line: i + 1, text: clipLine(lines[i]!) });
    }
  }
  return { matches, truncated: false, note: 'ripgrep is not installed: searched with a slower line scan' };
}
