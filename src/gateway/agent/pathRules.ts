/**
 * Where a path lies for the policy engine: inside a workspace folder or not, protected or not.
 * Pure: every path here is already resolved (absolute, and the realpath of it) by `resolveToolPath`.
 * Comparison is case-sensitive on Linux, case-insensitive on macOS and Windows (their default file systems).
 */
import path from 'node:path';

/**
 * Workspace-relative globs an edit always asks for, with no standing rule: the editor's and the agent's
 * own configuration (a changed `.vscode/settings.json` or `mcp.json` could turn approvals off or start a
 * server), git internals and hooks, CI workflows, dev-container and husky hooks (they run code).
 */
export const PROTECTED_GLOBS: readonly string[] = [
  '**/.vscode/**',
  '**/.git/**',
  '**/*.code-workspace',
  '**/mcp.json',
  '**/.mcp.json',
  '**/AGENTS.md',
  '**/.multiclaw/**',
  '.github/workflows/**',
  '**/.devcontainer/**',
  '**/.husky/**',
];

/** VS Code's (and its forks') user settings folders: `…/Code/User/settings.json` and the like. */
const USER_SETTINGS_DIR = /(^|[\\/])(Code|Code - Insiders|Code - OSS|VSCodium|code-server|Cursor|Windsurf)[\\/]User([\\/]|$)/i;

const caseInsensitive = process.platform === 'darwin' || process.platform === 'win32';
const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      if (slashAfter) {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '/' && glob.slice(i, i + 3) === '/**' && i + 3 === glob.length) {
      re += '(?:/.*)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '');
}

const protectedRes = PROTECTED_GLOBS.map(globToRegExp);

/** The path relative to `dir` with `/` separators, or undefined when it is not inside (or equal to) `dir`. */
export function relativeInside(dir: string, p: string): string | undefined {
  const rel = path.relative(fold(dir), fold(p));
  if (rel === '') return '';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  // Keep the original case in what we return.
  return p
    .slice(p.length - rel.length)
    .split(path.sep)
    .join('/');
}

/** The workspace folder holding `real`, with the relative path, or undefined when outside all of them. */
export function findFolder(real: string, folders: readonly string[]): { folder: string; rel: string } | undefined {
  for (const folder of folders) {
    const rel = relativeInside(folder, real);
    if (rel !== undefined) return { folder, rel };
  }
  return undefined;
}

/** A relative path as the model wrote it that climbs out (`../x`, `src/../../x`). */
export function escapesLexically(requested: string): boolean {
  if (path.isAbsolute(requested)) return false;
  const norm = path.normalize(requested).split(path.sep).join('/');
  return norm === '..' || norm.startsWith('../');
}

export function inStorage(real: string, storageDirs: readonly string[] | undefined): boolean {
  return (storageDirs ?? []).some((dir) => relativeInside(dir, real) !== undefined);
}

/**
 * Why editing `real` must always ask (a protected path), or undefined. `rel` is its path inside the
 * workspace folder; `home` the user's home directory (its dot-files and settings are protected even
 * when the workspace folder holds the home directory).
 */
export function protectedReason(real: string, rel: string, home: string | undefined, storageDirs: readonly string[] | undefined): string | undefined {
  if (inStorage(real, storageDirs)) return "MultiClaw's own storage";
  const hit = protectedRes.findIndex((re) => re.test(rel));
  if (hit >= 0) return `a protected path (${PROTECTED_GLOBS[hit]}): ${rel}`;
  if (USER_SETTINGS_DIR.test(real)) return `VS Code's user settings: ${real}`;
  if (home) {
    const inHome = relativeInside(home, real);
    if (inHome) {
      const first = inHome.split('/')[0];
      if (first.startsWith('.') || first === 'Library' || first === 'AppData') return `a settings file in your home folder: ~/${inHome}`;
    }
  }
  if (process.platform === 'win32' && /(:[^\\/]*$)|([. ]$)|(~\d)/.test(real.slice(3))) return `an unusual Windows path form: ${real}`;
  return undefined;
}

/** Lexically resolves a path-like command argument against `cwd` (`~` against `home`); undefined when it is not a plain path. */
export function resolveArgPath(arg: string, cwd: string, home: string | undefined): string | undefined {
  if (/[$`*?[\]{}]/.test(arg)) return undefined;
  if (arg === '~' || arg.startsWith('~/')) return home ? path.join(home, arg.slice(1)) : undefined;
  return path.resolve(cwd, arg);
}
