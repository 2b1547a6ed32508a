/**
 * `files.exclude` for the headless gateway, as VS Code applies it: VS Code's defaults plus each
 * workspace folder's `.vscode/settings.json` (JSON with comments). A glob set to true hides the
 * path and everything under it; `false` switches a default off. A settings file that does not parse
 * is ignored (the defaults still apply).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stripJsonc } from '../mcp/mcpJson';
import { globToRegExp } from './pathRules';

/** VS Code's default `files.exclude`. */
export const DEFAULT_FILES_EXCLUDE: Readonly<Record<string, boolean>> = {
  '**/.git': true,
  '**/.svn': true,
  '**/.hg': true,
  '**/CVS': true,
  '**/.DS_Store': true,
  '**/Thumbs.db': true,
};

/** A matcher for paths relative to `folder` (forward slashes): true when `files.exclude` hides it. */
export async function filesExcludeMatcher(folder: string): Promise<(rel: string) => boolean> {
  const globs: Record<string, boolean> = { ...DEFAULT_FILES_EXCLUDE };
  try {
    const doc = JSON.parse(stripJsonc(await fs.readFile(path.join(folder, '.vscode', 'settings.json'), 'utf8'))) as Record<string, unknown>;
    const ex = doc['files.exclude'];
    if (ex && typeof ex === 'object' && !Array.isArray(ex)) for (const [g, on] of Object.entries(ex)) if (typeof on === 'boolean') globs[g] = on;
  } catch {
    // no settings file, or one that does not parse: the defaults apply
  }
  const res = Object.entries(globs)
    .filter(([, on]) => on)
    .map(([g]) => globToRegExp(g.replace(/\/+$/, '')));
  return (rel) => {
    const parts = rel.replace(/\/+$/, '').split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (res.some((re) => re.test(p))) return true;
    }
    return false;
  };
}
