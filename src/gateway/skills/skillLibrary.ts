/**
 * The skills agents plan with: `SKILL.md` files from `.multiclaw/skills/<name>/` in each workspace
 * folder, from the user's skills folder (`<userFolder>/<name>/`), and those the workspace pushes. A
 * skill that does not parse is reported (with its path) and the others still load; the first of a
 * name wins (workspace folders, then pushed, then the user's). Disabled skills stay in the library but
 * are left out of the prompt and of `read_skill`; the set is persisted in `storageDir/skills.json`.
 * The model gets names and descriptions up front (`skillsPrompt()`) and reads a body with `read_skill`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ports';
import type { ToolDefinition } from '../providers/types';
import { writeFileAtomic } from '../util/atomicFile';
import { Disposable, Emitter } from '../util/disposable';
import { parseSkillMd } from './skillFile';

export type SkillSource = 'workspace' | 'pushed' | 'user';

export interface SkillInfo {
  name: string;
  description: string;
  source: SkillSource;
  /** The SKILL.md file (pushed skills: a label). */
  path: string;
  enabled: boolean;
}

export interface SkillProblem {
  path: string;
  error: string;
}

export interface SkillSources {
  /** Workspace folders: each one's `.multiclaw/skills/*\/SKILL.md`. */
  workspaceFolders?: string[];
  /** The user's skills folder itself: `<userFolder>/*\/SKILL.md`. */
  userFolder?: string;
  /** Skills the team workspace pushed: the folder name and the SKILL.md text. */
  pushed?: Array<{ name: string; text: string }>;
}

interface Loaded extends Omit<SkillInfo, 'enabled'> {
  body: string;
}

export const READ_SKILL_TOOL = 'read_skill';
const MAX_SKILL_BYTES = 256 * 1024;

export class SkillLibrary extends Disposable {
  private readonly onDidChangeEmitter = this._register(new Emitter<void>());
  readonly onDidChange = this.onDidChangeEmitter.event;
  private loaded: Loaded[] = [];
  private _problems: SkillProblem[] = [];
  private disabled = new Set<string>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly storageDir: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  private get stateFile(): string {
    return path.join(this.storageDir, 'skills.json');
  }

  /** (Re)reads every source and the enable set. */
  async load(sources: SkillSources): Promise<void> {
    this.disabled = await this.readDisabled();
    const found: Loaded[] = [];
    const problems: SkillProblem[] = [];
    const add = (dir: string, text: string, source: SkillSource, file: string): void => {
      try {
        const s = parseSkillMd(text, dir);
        const dup = found.find((f) => f.name === s.name);
        if (dup) {
          this.logger.info(`skill "${s.name}" in ${file} is shadowed by ${dup.path}`);
          return;
        }
        found.push({ name: s.name, description: s.description, body: s.body, source, path: file });
      } catch (err) {
        problems.push({ path: file, error: err instanceof Error ? err.message : String(err) });
      }
    };
    for (const folder of sources.workspaceFolders ?? []) await this.scan(path.join(folder, '.multiclaw', 'skills'), 'workspace', add, problems);
    for (const p of sources.pushed ?? []) add(p.name, p.text, 'pushed', `workspace skill ${p.name}`);
    if (sources.userFolder) await this.scan(sources.userFolder, 'user', add, problems);
    for (const p of problems) this.logger.warn(`skill ${p.path}: ${p.error}`);
    this.loaded = found;
    this._problems = problems;
    this.onDidChangeEmitter.fire();
  }

  private async scan(
    root: string,
    source: SkillSource,
    add: (dir: string, text: string, source: SkillSource, file: string) => void,
    problems: SkillProblem[],
  ): Promise<void> {
    let entries: string[];
    try {
      entries = (await fs.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return; // no skills folder: nothing to load
    }
    for (const dir of entries.sort()) {
      const file = path.join(root, dir, 'SKILL.md');
      try {
        const st = await fs.stat(file);
        if (st.size > MAX_SKILL_BYTES) {
          problems.push({ path: file, error: `SKILL.md is ${st.size} bytes; at most ${MAX_SKILL_BYTES}` });
          continue;
        }
        add(dir, await fs.readFile(file, 'utf8'), source, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: file, error: `could not be read: ${(err as Error).message}` });
      }
    }
  }

  skills(): SkillInfo[] {
    return this.loaded.map(({ body: _body, ...s }) => ({ ...s, enabled: !this.disabled.has(s.name) }));
  }

  /** The skills that did not load, each with a clear reason. */
  problems(): SkillProblem[] {
    return [...this._problems];
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    if (enabled === !this.disabled.has(name)) return;
    if (enabled) this.disabled.delete(name);
    else this.disabled.add(name);
    this.onDidChangeEmitter.fire();
    const data = JSON.stringify({ version: 1, disabled: [...this.disabled].sort() }, null, 2) + '\n';
    this.writes = this.writes
      .then(async () => {
        await fs.mkdir(this.storageDir, { recursive: true });
        await writeFileAtomic(this.stateFile, data);
      })
      .catch((err: unknown) => this.logger.error('could not write skills.json', err));
    await this.writes;
  }

  private async readDisabled(): Promise<Set<string>> {
    let text: string;
    try {
      text = await fs.readFile(this.stateFile, 'utf8');
    } catch {
      return new Set();
    }
    try {
      const v = JSON.parse(text) as { disabled?: unknown };
      if (Array.isArray(v.disabled) && v.disabled.every((x) => typeof x === 'string')) return new Set(v.disabled as string[]);
    } catch {
      // fall through
    }
    this.logger.warn('skills.json is corrupt; every skill is enabled until the next change');
    return new Set();
  }

  private enabled(): Loaded[] {
    return this.loaded.filter((s) => !this.disabled.has(s.name));
  }

  /** The system-prompt block: enabled skills' names and descriptions ('' when there are none). */
  skillsPrompt(): string {
    const list = this.enabled();
    if (!list.length) return '';
    return [
      '## Skills',
      `Skills are saved instructions for particular kinds of work. Before planning, check whether one applies; if so, call ${READ_SKILL_TOOL} with its name and follow it. Say in your plan which skills you used.`,
      '<available_skills>',
      ...list.map((s) => `- ${s.name}: ${s.description.replace(/\s+/g, ' ')}`),
      '</available_skills>',
    ].join('\n');
  }

  /** The `read_skill` tool (send it only when `skillsPrompt()` is not empty). */
  readSkillTool(): ToolDefinition {
    return {
      name: READ_SKILL_TOOL,
      description: 'Reads the full instructions of one of the skills listed under "Skills" in the system prompt.',
      inputSchema: { type: 'object', properties: { name: { type: 'string', description: 'The skill name, as listed.' } }, required: ['name'] },
    };
  }

  /** Handles a `read_skill` call: the body of an enabled skill, or an error the model can act on. */
  readSkill(args: Record<string, unknown>): { content: string; isError: boolean } {
    const name = typeof args.name === 'string' ? args.name.trim() : '';
    const s = this.enabled().find((x) => x.name === name);
    if (!s) {
      const names = this.enabled().map((x) => x.name);
      return { isError: true, content: `There is no enabled skill named "${name}". Available: ${names.length ? names.join(', ') : 'none'}.` };
    }
    const where = s.source === 'pushed' ? '' : `\n\n(Skill folder: ${path.dirname(s.path)}; files it mentions are relative to it.)`;
    return { isError: false, content: `# Skill: ${s.name}\n\n${s.body}${where}` };
  }
}
