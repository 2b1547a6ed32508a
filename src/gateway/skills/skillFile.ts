/**
 * One `SKILL.md` (the Agent Skills format): YAML front matter with `name` and `description`, then the
 * Markdown body, which is the instructions. The front matter reader covers what skills use (plain,
 * quoted and block scalars, continuation lines); nested maps and lists (`metadata`, `allowed-tools`)
 * are skipped. Validation follows the format: `name` 1–64 of `a-z 0-9 -` without leading, trailing or
 * double hyphens, equal to its folder's name; `description` 1–1024 characters.
 */

export interface ParsedSkill {
  name: string;
  description: string;
  /** The instructions (front matter removed, trimmed). */
  body: string;
  /** Other top-level scalar keys (e.g. `license`, `compatibility`). */
  extra: Record<string, string>;
}

export class SkillParseError extends Error {
  override readonly name = 'SkillParseError';
}

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function unquote(v: string): string {
  const t = v.trim();
  const q = t[0];
  if (q === '"' || q === "'") {
    const quoted = t.slice(0, t.lastIndexOf(q) + 1); // drops a trailing "# comment"
    if (q === "'") return quoted.slice(1, -1).replace(/''/g, "'");
    try {
      return JSON.parse(quoted) as string;
    } catch {
      return quoted.slice(1, -1);
    }
  }
  return t.replace(/\s+#.*$/, '');
}

/** Reads `key: value` front matter. Throws SkillParseError with the line number on what it cannot read. */
export function parseFrontMatter(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    if (/^\s/.test(line)) continue; // belongs to a nested map or list we skip
    const m = /^([A-Za-z0-9_-]+)\s*:(.*)$/.exec(line);
    if (!m) throw new SkillParseError(`front matter line ${i + 2}: expected "key: value", got ${JSON.stringify(line.slice(0, 80))}`);
    const key = m[1]!;
    const rest = m[2]!.trim();
    const lineNo = i + 2; // line 1 is the opening ---
    const more: string[] = [];
    while (i + 1 < lines.length && (/^\s/.test(lines[i + 1]!) || !lines[i + 1]!.trim())) more.push(lines[++i]!);
    while (more.length && !more[more.length - 1]!.trim()) more.pop();
    if (/^[|>][+-]?$/.test(rest)) {
      const indent = Math.min(...more.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      const block = more.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
      out[key] = rest.startsWith('|') ? block.join('\n').trim() : block.join(' ').replace(/\s+/g, ' ').trim();
    } else if (rest) {
      const joined = more.length && !more.every((l) => /^\s*-\s/.test(l)) ? [rest, ...more.map((l) => l.trim())].join(' ') : rest;
      const q = joined[0];
      if ((q === '"' || q === "'") && (joined.length < 2 || !joined.replace(/\s+#.*$/, '').endsWith(q)))
        throw new SkillParseError(`front matter line ${lineNo}: the quoted value of "${key}" is not closed`);
      out[key] = unquote(joined);
    }
    // an empty value followed by indented lines is a map or a list: skipped
  }
  return out;
}

/** Parses a SKILL.md found in folder `dirName`; throws SkillParseError with a message fit for the user. */
export function parseSkillMd(text: string, dirName: string): ParsedSkill {
  const src = text.replace(/^\uFEFF/, '');
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(src);
  if (!m) throw new SkillParseError('no front matter: SKILL.md must start with a "---" line, then name and description, then "---"');
  const fm = parseFrontMatter(m[1]!);
  const name = fm.name ?? '';
  const description = fm.description ?? '';
  if (!name) throw new SkillParseError('the front matter has no "name"');
  if (name.length > 64 || !NAME.test(name))
    throw new SkillParseError(`the name "${name}" is not valid: 1–64 lowercase letters, digits and single hyphens (e.g. "pdf-forms")`);
  if (name !== dirName) throw new SkillParseError(`the name "${name}" must equal its folder's name "${dirName}"`);
  if (!description) throw new SkillParseError('the front matter has no "description" (say what the skill does and when to use it)');
  if (description.length > 1024) throw new SkillParseError(`the description is ${description.length} characters; at most 1024`);
  const extra = Object.fromEntries(Object.entries(fm).filter(([k]) => k !== 'name' && k !== 'description'));
  return { name, description, body: src.slice(m[0].length).trim(), extra };
}
