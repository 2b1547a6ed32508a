/**
 * Rules: the instructions an agent follows in this workspace, read into its system prompt for every
 * turn. Sources, in prompt order: `AGENTS.md` at each workspace folder's root, then
 * `.multiclaw/rules/*.md` of each folder (sorted by name), then the rules the team workspace pushes.
 * The user can switch off a file's rules (persisted per workspace in `<storage>/project-rules.json`,
 * which no agent may write); the team's rules cannot be switched off. Files are read through the
 * workspace port (VS Code: the editor's unsaved text), capped in size and truncated visibly.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ports';
import { writeFileAtomic } from '../util/atomicFile';
import { Emitter, type Event } from '../util/disposable';
import { workspaceKey } from './rulesStore';
import type { WorkspacePort } from './workspacePort';

export type RuleSource = 'workspace' | 'team';

export interface ProjectRule {
  /** `AGENTS.md`, `.multiclaw/rules/style.md` (prefixed with the folder's name when there are several), or `team:<name>`. */
  id: string;
  /** What the chat shows. */
  name: string;
  source: RuleSource;
  /** The file (workspace rules only). */
  path?: string;
  /** The text the prompt gets (after the cap). */
  text: string;
  /** Estimated tokens of `text` (≈ 4 characters a token). */
  tokens: number;
  /** The file was longer than the cap: `text` holds its head and says so. */
  truncated: boolean;
  enabled: boolean;
  /** Team rules (members cannot switch them off) and workspace rules in Restricted Mode. */
  locked: boolean;
  /** Why it is off and locked (Restricted Mode). */
  reason?: string;
}

export interface PushedRule {
  name: string;
  text: string;
}

/** Per file and for all rules together: rules are instructions, not a place for data. */
export const RULE_FILE_MAX_CHARS = 32_000;
export const RULES_TOTAL_MAX_CHARS = 96_000;
const MAX_RULE_FILES = 50;
const RULES_DIR = path.join('.multiclaw', 'rules');

export const RESTRICTED_REASON = 'Restricted Mode: rules from an untrusted folder are not used. Trust the folder to use them.';

export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

interface OffFile {
  version: 1;
  workspaces: Record<string, string[]>;
}

function capped(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  return { text: `${text.slice(0, max)}\n[Truncated: the first ${max} of ${text.length} characters.]`, truncated: true };
}

export class ProjectRules {
  private off: OffFile = { version: 1, workspaces: {} };
  private pushed: PushedRule[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly onDidChangeEmitter = new Emitter<void>();
  /** A rule was switched on or off, the team's rules changed, or the host saw a rules file change. */
  readonly onDidChange: Event<void> = this.onDidChangeEmitter.event;

  private constructor(
    private readonly port: WorkspacePort,
    readonly file: string,
    private readonly log: Logger,
  ) {}

  static async open(port: WorkspacePort, file: string, log: Logger): Promise<ProjectRules> {
    const r = new ProjectRules(port, file, log);
    try {
      const v = JSON.parse(await fs.readFile(file, 'utf8')) as OffFile;
      if (v?.version !== 1 || typeof v.workspaces !== 'object' || !v.workspaces) throw new Error('not a rules settings file');
      for (const ids of Object.values(v.workspaces)) if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new Error('bad entry');
      r.off = v;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        const kept = `${file}.corrupt`;
        await fs.rename(file, kept).catch(() => undefined);
        log.warn(`rules settings in ${file} ignored (${err instanceof Error ? err.message : String(err)}); kept as ${kept}; every rules file is on`);
      }
    }
    return r;
  }

  private key(): string {
    return workspaceKey(this.port.folders().map((f) => f.path));
  }

  /** The team workspace's rules (replaces the previous set); an empty list when signed out. */
  setPushed(rules: readonly PushedRule[]): void {
    const next = rules.slice(0, MAX_RULE_FILES).map((r) => ({ name: r.name.slice(0, 200), text: r.text }));
    if (JSON.stringify(next) === JSON.stringify(this.pushed)) return;
    this.pushed = next;
    this.onDidChangeEmitter.fire();
  }

  /** The host saw AGENTS.md or a rules file change. */
  changed(): void {
    this.onDidChangeEmitter.fire();
  }

  /** Every rule with its state, read now (a file that cannot be read is left out with a log line). */
  async list(): Promise<ProjectRule[]> {
    const folders = this.port.folders();
    const off = new Set(this.off.workspaces[this.key()] ?? []);
    const trusted = this.port.isTrusted();
    const out: ProjectRule[] = [];
    for (const folder of folders) {
      const prefix = folders.length > 1 ? `${folder.name}/` : '';
      const files = [path.join(folder.path, 'AGENTS.md'), ...(await this.rulesDir(folder.path)).map((f) => path.join(folder.path, RULES_DIR, f))];
      for (const file of files) {
        if (out.length >= MAX_RULE_FILES) break;
        const info = await this.port.stat(file).catch(() => undefined);
        if (info?.type !== 'file') continue;
        let raw: string;
        try {
          raw = (await this.port.read(file)).text;
        } catch (err) {
          this.log.warn(`rules file ${file} could not be read:`, err instanceof Error ? err : String(err));
          continue;
        }
        if (!raw.trim()) continue;
        const rel = path.relative(folder.path, file).split(path.sep).join('/');
        const id = `${prefix}${rel}`;
        const c = capped(raw, RULE_FILE_MAX_CHARS);
        const rule: ProjectRule = {
          id,
          name: id,
          source: 'workspace',
          path: file,
          text: c.text,
          tokens: estimateTokens(c.text),
          truncated: c.truncated,
          enabled: !off.has(id),
          locked: false,
        };
        // An untrusted folder's files could steer the agent: they are listed, never used.
        if (!trusted) Object.assign(rule, { enabled: false, locked: true, reason: RESTRICTED_REASON });
        out.push(rule);
      }
    }
    for (const p of this.pushed) {
      const c = capped(p.text, RULE_FILE_MAX_CHARS);
      out.push({
        id: `team:${p.name}`,
        name: p.name,
        source: 'team',
        text: c.text,
        tokens: estimateTokens(c.text),
        truncated: c.truncated,
        enabled: true,
        locked: true,
      });
    }
    return out;
  }

  private async rulesDir(folder: string): Promise<string[]> {
    try {
      const names = await fs.readdir(path.join(folder, RULES_DIR));
      return names.filter((n) => n.toLowerCase().endsWith('.md')).sort((a, b) => a.localeCompare(b));
    } catch {
      return [];
    }
  }

  /** Switches a workspace rules file on or off; team rules cannot be switched off (false). */
  async setEnabled(id: string, enabled: boolean): Promise<boolean> {
    if (id.startsWith('team:')) return false;
    const key = this.key();
    const ids = new Set(this.off.workspaces[key] ?? []);
    if (enabled === !ids.has(id)) return true;
    if (enabled) ids.delete(id);
    else ids.add(id);
    if (ids.size) this.off.workspaces[key] = [...ids].slice(0, 500);
    else delete this.off.workspaces[key];
    this.onDidChangeEmitter.fire();
    this.writing = this.writing.then(() =>
      writeFileAtomic(this.file, JSON.stringify(this.off, null, 1)).catch((err: unknown) =>
        this.log.warn('could not save the rules settings:', err instanceof Error ? err : String(err)),
      ),
    );
    await this.writing;
    return true;
  }

  dispose(): void {
    this.onDidChangeEmitter.dispose();
  }
}

/** The system prompt's rules section: enabled rules only, within the total cap; '' when none. */
export function rulesPrompt(rules: readonly ProjectRule[]): string {
  const on = rules.filter((r) => r.enabled);
  if (!on.length) return '';
  const parts = ['Rules for this workspace (from its files and the team; follow them unless the user says otherwise in this conversation):'];
  let left = RULES_TOTAL_MAX_CHARS;
  for (const r of on) {
    if (left <= 0) {
      parts.push(`[Rules left out: the rules are longer than ${RULES_TOTAL_MAX_CHARS} characters in total.]`);
      break;
    }
    const c = capped(r.text, left);
    left -= c.text.length;
    const source = r.source === 'team' ? `team workspace: ${r.name}` : r.name;
    parts.push(`<rules source="${source.replace(/["<>&]/g, '_')}">\n${c.text.trim()}\n</rules>`);
  }
  return parts.join('\n\n');
}
