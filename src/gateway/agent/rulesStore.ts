/**
 * "Always allow…" rules the user stored, per workspace (keyed by a hash of its folders), in
 * `<storage>/agent-rules.json` (atomic writes; a corrupt file counts as empty, with a log line). The
 * storage folder is in the policy's protected storage dirs: no agent can write this file.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Logger } from '../ports';
import { writeFileAtomic } from '../util/atomicFile';
import { Emitter, type Event } from '../util/disposable';

interface RulesFile {
  version: 1;
  workspaces: Record<string, { folders: string[]; rules: string[] }>;
}

const MAX_RULES = 500;

export function workspaceKey(folders: readonly string[]): string {
  return createHash('sha256')
    .update([...folders].sort().join('\n'))
    .digest('hex')
    .slice(0, 32);
}

export class RulesStore {
  private data: RulesFile = { version: 1, workspaces: {} };
  private writing: Promise<void> = Promise.resolve();
  private readonly onDidChangeEmitter = new Emitter<void>();
  readonly onDidChange: Event<void> = this.onDidChangeEmitter.event;

  private constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  static async open(file: string, log: Logger): Promise<RulesStore> {
    const s = new RulesStore(file, log);
    try {
      const v = JSON.parse(await fs.readFile(file, 'utf8')) as RulesFile;
      if (v?.version !== 1 || typeof v.workspaces !== 'object' || !v.workspaces) throw new Error('not a rules file');
      for (const w of Object.values(v.workspaces)) if (!Array.isArray(w.rules) || !w.rules.every((r) => typeof r === 'string')) throw new Error('bad rules');
      s.data = v;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        log.warn(`agent rules in ${file} ignored (${err instanceof Error ? err.message : String(err)}); starting empty`);
    }
    return s;
  }

  rules(folders: readonly string[]): string[] {
    return [...(this.data.workspaces[workspaceKey(folders)]?.rules ?? [])];
  }

  async add(folders: readonly string[], rule: string): Promise<void> {
    const key = workspaceKey(folders);
    const w = (this.data.workspaces[key] ??= { folders: [...folders], rules: [] });
    if (w.rules.includes(rule)) return;
    w.rules.push(rule);
    if (w.rules.length > MAX_RULES) w.rules.splice(0, w.rules.length - MAX_RULES);
    this.onDidChangeEmitter.fire();
    await this.save();
  }

  async remove(folders: readonly string[], rule: string): Promise<boolean> {
    const w = this.data.workspaces[workspaceKey(folders)];
    const i = w?.rules.indexOf(rule) ?? -1;
    if (!w || i === -1) return false;
    w.rules.splice(i, 1);
    this.onDidChangeEmitter.fire();
    await this.save();
    return true;
  }

  private save(): Promise<void> {
    this.writing = this.writing.then(() =>
      writeFileAtomic(this.file, JSON.stringify(this.data, null, 1)).catch((err: unknown) =>
        this.log.warn(`could not save agent rules:`, err instanceof Error ? err : String(err)),
      ),
    );
    return this.writing;
  }

  dispose(): void {
    this.onDidChangeEmitter.dispose();
  }
}
