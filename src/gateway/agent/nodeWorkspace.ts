/**
 * The editor port for plain Node: the headless gateway (`multiclaw gateway`) and unit tests. Files
 * on disk (atomic writes), listing through `git ls-files` in a git repository (else a walk that
 * honours .gitignore files), search through ripgrep (else a JS scan), no diagnostics, commands as
 * child processes in their own process group.
 */
import { execFile } from 'node:child_process';
import { type Dirent, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomicFile';
import { filesExcludeMatcher } from './filesExclude';
import { globMatcher, IgnoreRules } from './glob';
import { ProcessRunner } from './processRunner';
import { findRipgrep, ripgrepSearch, scanFiles } from './ripgrep';
import { fileInfo, readHead, realpathOf } from './fileFacts';
import type {
  CommandOptions,
  CommandResult,
  DiagnosticInfo,
  FileInfo,
  ListOptions,
  ListResult,
  ReadResult,
  SearchOptions,
  SearchResult,
  WorkspaceFolderInfo,
  WorkspacePort,
  WriteOptions,
} from './workspacePort';

export interface NodeWorkspaceOptions {
  folders: readonly string[];
  trusted?: boolean;
  /** The `rg` binary to prefer (a host's own). */
  ripgrepPath?: string;
}

const WALK_SKIP = new Set(['.git', 'node_modules']);

function git(cwd: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, signal }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

export class NodeWorkspace implements WorkspacePort {
  private readonly _folders: WorkspaceFolderInfo[];
  private readonly runner = new ProcessRunner();
  private readonly rg: string | undefined;

  constructor(private readonly options: NodeWorkspaceOptions) {
    this._folders = options.folders.map((p) => ({ name: path.basename(p) || p, path: path.resolve(p) }));
    this.rg = findRipgrep(options.ripgrepPath);
  }

  folders(): readonly WorkspaceFolderInfo[] {
    return this._folders;
  }

  isTrusted(): boolean {
    return this.options.trusted ?? true;
  }

  stat(p: string): Promise<FileInfo | undefined> {
    return fileInfo(p);
  }

  realpath(p: string): Promise<string | undefined> {
    return realpathOf(p);
  }

  async read(p: string): Promise<ReadResult> {
    return { text: await fs.readFile(p, 'utf8'), fromEditor: false };
  }

  readBytes(p: string, maxBytes: number): Promise<Uint8Array> {
    return readHead(p, maxBytes);
  }

  async list(o: ListOptions): Promise<ListResult> {
    const recursive = o.recursive ?? true;
    const all = (await this.gitList(o.dir, o.signal)) ?? (await this.walk(o.dir, recursive, o.maxResults * 4 + 1000, o.signal));
    const match = o.glob ? globMatcher(o.glob) : undefined;
    // files.exclude is relative to the workspace folder the listed folder is in.
    const folder = this._folders.find((f) => o.dir === f.path || o.dir.startsWith(f.path + path.sep))?.path ?? o.dir;
    const excluded = await filesExcludeMatcher(folder);
    const prefix = path.relative(folder, o.dir).split(path.sep).filter(Boolean).join('/');
    const out = new Set<string>();
    for (const rel of all) {
      if (excluded(prefix ? `${prefix}/${rel}` : rel)) continue;
      let shown = rel;
      if (!recursive) {
        const slash = rel.indexOf('/');
        if (slash !== -1 && slash < rel.length - 1) shown = rel.slice(0, slash + 1);
      }
      if (match && !match(shown.replace(/\/$/, ''))) continue;
      out.add(shown);
    }
    const sorted = [...out].sort();
    return { paths: sorted.slice(0, o.maxResults).map((r) => path.join(o.dir, r) + (r.endsWith('/') ? '/' : '')), truncated: sorted.length > o.maxResults };
  }

  /** Files under `dir` relative to it, from git (tracked and untracked, not ignored); undefined outside a repository. */
  private async gitList(dir: string, signal?: AbortSignal): Promise<string[] | undefined> {
    try {
      const out = await git(dir, ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '.'], signal);
      const files = out.split('\0').filter(Boolean);
      const present = await Promise.all(
        files.map((f) =>
          fs.access(path.join(dir, f)).then(
            () => true,
            () => false,
          ),
        ),
      );
      return files.filter((_, i) => present[i]);
    } catch {
      return undefined;
    }
  }

  private async walk(root: string, recursive: boolean, limit: number, signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    const visit = async (rel: string, ignores: Array<{ base: string; rules: IgnoreRules }>): Promise<void> => {
      if (out.length >= limit || signal?.aborted) return;
      const dir = path.join(root, rel);
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      const gi = await fs.readFile(path.join(dir, '.gitignore'), 'utf8').catch(() => undefined);
      const rules = gi === undefined ? ignores : [...ignores, { base: rel, rules: new IgnoreRules(gi) }];
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const e of entries) {
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        const isDir = e.isDirectory();
        if (isDir && WALK_SKIP.has(e.name)) continue;
        if (rules.some((r) => r.rules.ignores(r.base ? childRel.slice(r.base.length + 1) : childRel, isDir))) continue;
        if (isDir) {
          if (recursive) await visit(childRel, rules);
          else out.push(`${childRel}/`);
        } else {
          out.push(childRel);
        }
        if (out.length >= limit) return;
      }
    };
    await visit('', []);
    return out;
  }

  async search(o: SearchOptions): Promise<SearchResult> {
    if (this.rg) return ripgrepSearch(this.rg, o);
    const files: string[] = [];
    for (const p of o.paths) {
      const st = await this.stat(p);
      if (st?.type === 'file') files.push(p);
      else if (st?.type === 'directory') files.push(...(await this.list({ dir: p, glob: o.glob, maxResults: 20_000, signal: o.signal })).paths);
    }
    return scanFiles(files, o);
  }

  async diagnostics(): Promise<DiagnosticInfo[]> {
    return [];
  }

  async write(p: string, text: string, o: WriteOptions): Promise<void> {
    const exists = (await this.stat(p)) !== undefined;
    if (o.create && exists) throw new Error(`${p} already exists`);
    let mode = 0o644;
    if (exists) mode = (await fs.stat(p)).mode & 0o7777;
    else await fs.mkdir(path.dirname(p), { recursive: true });
    await writeFileAtomic(p, text, mode);
  }

  async remove(p: string): Promise<void> {
    await fs.rm(p, { force: true });
  }

  runCommand(o: CommandOptions): Promise<CommandResult> {
    return this.runner.run(o);
  }

  /** Ends the commands still running (background servers). */
  dispose(): void {
    this.runner.dispose();
  }
}
