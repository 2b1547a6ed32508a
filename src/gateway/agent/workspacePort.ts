/**
 * The editor port the agent's tools act through. `src/gateway` holds only this contract and the
 * plain-Node implementation (`nodeWorkspace.ts`, the headless gateway and unit tests); the VS Code
 * implementation is `src/extension/agent/vscodeWorkspace.ts` (WorkspaceEdit, the editor's buffers,
 * `files.exclude`, diagnostics, a terminal through shell integration).
 *
 * Paths crossing the port are absolute file-system paths. The tools resolve and check them (inside a
 * workspace folder, no `..`, no symlink out) before the port is called; the port does not re-check.
 */

export interface WorkspaceFolderInfo {
  /** The folder's name (the first segment of a workspace-relative path when there are several folders). */
  name: string;
  /** Absolute path, as the host reports it (the tools compare against its realpath too). */
  path: string;
}

export interface FileInfo {
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
}

export interface ReadResult {
  text: string;
  /** True when the text came from an editor buffer with unsaved changes (VS Code), not from disk. */
  fromEditor: boolean;
}

export interface ListOptions {
  /** Folder to list under (absolute). */
  dir: string;
  /** A glob relative to `dir` (`**` and `*`, `{a,b}`); absent: everything. */
  glob?: string;
  /** Descend into sub-folders (default true). */
  recursive?: boolean;
  maxResults: number;
  signal?: AbortSignal;
}

export interface ListResult {
  /** Absolute paths of files (folders end with `/`), sorted; `.gitignore`d and `files.exclude`d ones left out. */
  paths: string[];
  truncated: boolean;
}

export interface SearchOptions {
  /** A regular expression (ripgrep syntax) unless `literal`. */
  pattern: string;
  literal?: boolean;
  caseSensitive?: boolean;
  /** Folders or files to search (absolute). */
  paths: string[];
  /** A glob that files must match (ripgrep `-g`). */
  glob?: string;
  maxResults: number;
  signal?: AbortSignal;
}

export interface SearchMatch {
  path: string;
  /** 1-based. */
  line: number;
  /** The line's text, capped. */
  text: string;
}

export interface SearchResult {
  matches: SearchMatch[];
  truncated: boolean;
}

export type DiagnosticSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface DiagnosticInfo {
  path: string;
  /** 1-based line and column. */
  line: number;
  column: number;
  severity: DiagnosticSeverity;
  message: string;
  source?: string;
  code?: string;
}

export interface WriteOptions {
  /** The file must not exist yet (`write_file`); otherwise it must exist (edits, undo). */
  create?: boolean;
  /** Shown in VS Code's undo stack / the terminal of a headless host. */
  label: string;
}

export interface CommandOptions {
  command: string;
  /** Absolute working directory (inside a workspace folder). */
  cwd: string;
  timeoutMs: number;
  /** Start it and return after `timeoutMs` with the output so far, leaving it running (dev servers). */
  background: boolean;
  /** Aborting ends the command's whole process tree. */
  signal: AbortSignal;
  /** Output as it arrives (ANSI stripped), for the tool card. */
  onOutput?: (chunk: string) => void;
  /** Called once the process runs, with its pid when known (tests check that Stop kills it). */
  onStart?: (info: { pid?: number; terminal?: string }) => void;
}

export interface CommandResult {
  /** Undefined when it was still running (background, or killed at its timeout). */
  exitCode: number | undefined;
  /** Head and tail of the output, ANSI stripped, capped by the caller's limit. */
  output: string;
  /** How the run ended. */
  ended: 'exited' | 'timeout' | 'background' | 'cancelled';
  /** `shell-integration` (VS Code terminal), `pseudoterminal` (child process shown in a terminal) or `process` (headless). */
  via: 'shell-integration' | 'pseudoterminal' | 'process';
  pid?: number;
}

export interface WorkspacePort {
  folders(): readonly WorkspaceFolderInfo[];
  /** Workspace Trust: an untrusted workspace gets read tools only. */
  isTrusted(): boolean;
  stat(path: string): Promise<FileInfo | undefined>;
  /** The real path (symlinks resolved), or undefined when it does not exist. */
  realpath(path: string): Promise<string | undefined>;
  /** Reads a file as UTF-8: the editor's buffer when it is open, else the disk. Throws when absent. */
  read(path: string): Promise<ReadResult>;
  /** Reads raw bytes from disk (binary detection, size checks). */
  readBytes(path: string, maxBytes: number): Promise<Uint8Array>;
  list(options: ListOptions): Promise<ListResult>;
  search(options: SearchOptions): Promise<SearchResult>;
  /** Diagnostics of one file, or of the whole workspace when `path` is absent. */
  diagnostics(path?: string): Promise<DiagnosticInfo[]>;
  /** Replaces a file's whole text (VS Code: a WorkspaceEdit, saved, so editor Undo works). */
  write(path: string, text: string, options: WriteOptions): Promise<void>;
  /** Deletes a file the agent created (Undo of a new file). */
  remove(path: string): Promise<void>;
  runCommand(options: CommandOptions): Promise<CommandResult>;
}
