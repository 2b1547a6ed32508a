/**
 * Whether a workspace file is ignored by the `.gitignore` files between its workspace folder and
 * itself (nested ones too; a folder that is ignored ignores everything under it). The chat uses it
 * before attaching a file on its own: an ignored file (`.env`, build output) needs an explicit pick.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IgnoreRules } from './glob';

export async function isGitIgnored(folder: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').filter(Boolean);
  const rules: Array<{ base: string; rules: IgnoreRules }> = [];
  for (let i = 0; i < parts.length; i++) {
    const base = parts.slice(0, i).join('/');
    const gi = await fs.readFile(path.join(folder, base, '.gitignore'), 'utf8').catch(() => undefined);
    if (gi !== undefined) rules.push({ base, rules: new IgnoreRules(gi) });
    const sub = parts.slice(0, i + 1).join('/');
    const isDir = i < parts.length - 1;
    if (sub === '.git' || sub.startsWith('.git/')) return true;
    if (rules.some((r) => r.rules.ignores(r.base ? sub.slice(r.base.length + 1) : sub, isDir))) return true;
  }
  return false;
}
