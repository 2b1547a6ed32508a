/**
 * The editor port over VS Code: the workspace folders and Workspace Trust; reads from the editor's
 * buffer when the file is open (unsaved text included), else the disk; listing through VS Code's own
 * ripgrep (`rg --files`: `.gitignore` honoured as `search.useIgnoreFiles` does, `files.exclude` as
 * globs), search through the same `rg --json` (Debian's `/usr/bin/rg` when VS Code's is missing);
 * diagnostics from the language services; writes as a WorkspaceEdit of the whole text, then saved,
 * so editor Undo restores the previous text; commands through the agent terminal.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import { globMatcher } from '../../gateway/agent/glob';
import { findRipgrep, ripgrepSearch, scanFiles } from '../../gateway/agent/ripgrep';
import { fileInfo, readHead, realpathOf } from '../../gateway/agent/fileFacts';
import type {
  CommandOptions,
  CommandResult,
  DiagnosticInfo,
  DiagnosticSeverity,
  FileInfo,
  ListOptions,
  ListResult,
  ReadResult,
  SearchOptions,
  SearchResult,
  WorkspaceFolderInfo,
  WorkspacePort,
  WriteOptions,
} from '../../gateway/agent/workspacePort';
import type { Logger } from '../../gateway/ports';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import type { AgentTerminal } from './terminal';

/** VS Code's bundled `rg` (desktop: `@vscode/ripgrep`, maybe unpacked from the asar; code-server: `@vscode/ripgrep-universal`). */
export function bundledRipgrep(appRoot = vscode.env.appRoot): string | undefined {
  const exe = process.platform === 'win32' ? 'rg.exe' : 'rg';
  const platform = `${process.platform}-${process.arch}`;
  for (const modules of ['node_modules', 'node_modules.asar.unpacked']) {
    for (const rel of [path.join('@vscode', 'ripgrep', 'bin', exe), path.join('@vscode', 'ripgrep-universal', 'bin', platform, exe)]) {
      const p = path.join(appRoot, modules, rel);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

const SEVERITY: Record<vscode.DiagnosticSeverity, DiagnosticSeverity> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

function notFound(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
}

/** `files.exclude` patterns that apply to `dir` (plain `true` entries; `when` clauses are skipped). */
function excludeGlobs(dir: string): string[] {
  const ex = vscode.workspace.getConfiguration('files', vscode.Uri.file(dir)).get<Record<string, unknown>>('exclude') ?? {};
  return Object.entries(ex)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
}

export interface VsCodeWorkspaceOptions {
  terminal: AgentTerminal;
  logger: Logger;
  /** The `rg` to use; default VS Code's bundled one, else the system's. */
  ripgrepPath?: string;
}

export class VsCodeWorkspace extends Disposable implements WorkspacePort {
  private rgPath: string | null | undefined;
  private readonly onDidChangeTrustEmitter = this._register(new Emitter<boolean>());
  /** Fires when the user grants Workspace Trust (the write tools become available). */
  readonly onDidChangeTrust = this.onDidChangeTrustEmitter.event;

  constructor(private readonly o: VsCodeWorkspaceOptions) {
    super();
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.onDidChangeTrustEmitter.fire(true)));
  }

  /** The `rg` in use, looked up on first use (activation does no I/O). */
  get rg(): string | undefined {
    if (this.rgPath === undefined) {
      this.rgPath = findRipgrep(this.o.ripgrepPath ?? bundledRipgrep()) ?? null;
      if (this.rgPath) this.o.logger.info(`ripgrep: ${this.rgPath}`);
      else this.o.logger.warn("no ripgrep found (neither VS Code's nor /usr/bin/rg): listing ignores .gitignore and search is a slow scan");
    }
    return this.rgPath ?? undefined;
  }

  folders(): readonly WorkspaceFolderInfo[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => ({ name: f.name, path: f.uri.fsPath }));
  }

  isTrusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  stat(p: string): Promise<FileInfo | undefined> {
    return fileInfo(p);
  }

  realpath(p: string): Promise<string | undefined> {
    return realpathOf(p);
  }

  private openDocument(p: string): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === p && !d.isClosed);
  }

  async read(p: string): Promise<ReadResult> {
    const doc = this.openDocument(p);
    if (doc) return { text: doc.getText(), fromEditor: doc.isDirty };
    try {
      return { text: new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(vscode.Uri.file(p))), fromEditor: false };
    } catch (err) {
      if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') throw notFound(p);
      throw err;
    }
  }

  readBytes(p: string, maxBytes: number): Promise<Uint8Array> {
    return readHead(p, maxBytes);
  }

  async list(o: ListOptions): Promise<ListResult> {
    const recursive = o.recursive ?? true;
    const limit = o.maxResults * 4 + 1000;
    const rg = this.rg;
    const all = rg ? await this.rgFiles(rg, o.dir, limit, o.signal) : await this.findFiles(o.dir, limit);
    const match = o.glob ? globMatcher(o.glob) : undefined;
    const out = new Set<string>();
    for (const rel of all) {
      let shown = rel;
      if (!recursive) {
        const slash = rel.indexOf('/');
        if (slash !== -1) shown = rel.slice(0, slash + 1);
      }
      if (match && !match(shown.replace(/\/$/, ''))) continue;
      out.add(shown);
    }
    const sorted = [...out].sort();
    return {
      paths: sorted.slice(0, o.maxResults).map((r) => path.join(o.dir, r) + (r.endsWith('/') ? '/' : '')),
      truncated: sorted.length > o.maxResults || all.length >= limit,
    };
  }

  /** Files under `dir` relative to it, as VS Code's search lists them (.gitignore, files.exclude). */
  private rgFiles(rg: string, dir: string, limit: number, signal?: AbortSignal): Promise<string[]> {
    const args = ['--files', '--hidden', '--no-config', '--no-require-git', '--no-ignore-parent', '-g', '!.git'];
    for (const g of excludeGlobs(dir)) args.push('-g', `!${g}`);
    args.push('.');
    return new Promise((resolve, reject) => {
      const child = spawn(rg, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const files: string[] = [];
      let stderr = '';
      const onAbort = (): void => void child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort);
      child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (files.length >= limit) return void child.kill('SIGKILL');
        const rel = line.replace(/\\/g, '/').replace(/^\.\//, '');
        if (rel) files.push(rel);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(new Error('listing cancelled'));
        // 1: nothing listed; 2: some entries were unreadable, the rest counts.
        if (code === 0 || code === 1 || files.length >= limit || (code === 2 && files.length)) return resolve(files);
        reject(new Error(stderr.trim().split('\n')[0] || `ripgrep exited with ${code}`));
      });
    });
  }

  /** Without any ripgrep: `findFiles` (files.exclude honoured; .gitignore is not). */
  private async findFiles(dir: string, limit: number): Promise<string[]> {
    const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(vscode.Uri.file(dir), '**/*'), undefined, limit);
    return uris.map((u) => path.relative(dir, u.fsPath).split(path.sep).join('/'));
  }

  async search(o: SearchOptions): Promise<SearchResult> {
    const rg = this.rg;
    if (rg) return ripgrepSearch(rg, o);
    // No rg anywhere: a line scan over what list() finds (the result says it was slow).
    const files: string[] = [];
    for (const p of o.paths) {
      const st = await this.stat(p);
      if (st?.type === 'file') files.push(p);
      else if (st?.type === 'directory') files.push(...(await this.list({ dir: p, glob: o.glob, maxResults: 20_000, signal: o.signal })).paths);
    }
    return scanFiles(files, o);
  }

  async diagnostics(p?: string): Promise<DiagnosticInfo[]> {
    const entries: Array<[vscode.Uri, readonly vscode.Diagnostic[]]> = p
      ? [[vscode.Uri.file(p), vscode.languages.getDiagnostics(vscode.Uri.file(p))]]
      : vscode.languages.getDiagnostics();
    const out: DiagnosticInfo[] = [];
    for (const [uri, diags] of entries) {
      if (uri.scheme !== 'file') continue;
      for (const d of diags) {
        const code = typeof d.code === 'object' ? d.code.value : d.code;
        out.push({
          path: uri.fsPath,
          line: d.range.start.line + 1,
          column: d.range.start.character + 1,
          severity: SEVERITY[d.severity],
          message: d.message,
          source: d.source,
          code: code === undefined ? undefined : String(code),
        });
      }
    }
    return out;
  }

  async write(p: string, text: string, o: WriteOptions): Promise<void> {
    const uri = vscode.Uri.file(p);
    const exists = (await this.stat(p)) !== undefined;
    if (o.create && exists) throw new Error(`${p} already exists`);
    if (!o.create && !exists) throw notFound(p);
    const edit = new vscode.WorkspaceEdit();
    const meta: vscode.WorkspaceEditEntryMetadata = { label: o.label, needsConfirmation: false };
    if (exists) {
      const doc = await vscode.workspace.openTextDocument(uri);
      const all = new vscode.Range(new vscode.Position(0, 0), doc.lineAt(doc.lineCount - 1).range.end);
      edit.replace(uri, all, text, meta);
    } else {
      await fs.mkdir(path.dirname(p), { recursive: true });
      edit.createFile(uri, { overwrite: false, ignoreIfExists: false }, meta);
      edit.insert(uri, new vscode.Position(0, 0), text, meta);
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`VS Code refused the edit of ${p}`);
    const doc = this.openDocument(p) ?? (await vscode.workspace.openTextDocument(uri));
    if (doc.isDirty && !(await doc.save())) throw new Error(`${p} was edited but could not be saved`);
  }

  async remove(p: string): Promise<void> {
    const edit = new vscode.WorkspaceEdit();
    edit.deleteFile(vscode.Uri.file(p), { ignoreIfNotExists: true }, { label: 'MultiClaw: undo a new file', needsConfirmation: false });
    if (!(await vscode.workspace.applyEdit(edit))) await fs.rm(p, { force: true });
  }

  runCommand(o: CommandOptions): Promise<CommandResult> {
    return this.o.terminal.run(o);
  }
}
