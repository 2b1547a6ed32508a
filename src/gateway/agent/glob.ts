/**
 * Globs as the tools accept them (`**`, `*`, `?`, `{a,b}`, `[abc]`), matched against `/`-separated
 * relative paths. A glob without a `/` matches a file's name at any depth (ripgrep's rule), and a
 * simple .gitignore reader for folders outside git.
 */

function toSource(glob: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  while (depth-- > 0) out += ')';
  return out;
}

/** A predicate for `/`-separated relative paths. */
export function globMatcher(glob: string): (relPath: string) => boolean {
  const g = glob.replace(/^\.\//, '');
  const re = new RegExp(`^${toSource(g)}$`);
  if (g.includes('/')) return (p) => re.test(p);
  return (p) => re.test(p) || re.test(p.slice(p.lastIndexOf('/') + 1));
}

/** One .gitignore's rules, relative to its folder (negations, folder-only and anchored patterns). */
export class IgnoreRules {
  private readonly rules: Array<{ negate: boolean; dirOnly: boolean; match: (rel: string) => boolean }> = [];

  constructor(text: string) {
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trimEnd();
      if (!line || line.startsWith('#')) continue;
      const negate = line.startsWith('!');
      if (negate) line = line.slice(1);
      const dirOnly = line.endsWith('/');
      if (dirOnly) line = line.slice(0, -1);
      const anchored = line.startsWith('/') || line.slice(0, -1).includes('/');
      line = line.replace(/^\//, '');
      const re = new RegExp(`^${toSource(line)}$`);
      const match = anchored ? (rel: string) => re.test(rel) : (rel: string) => re.test(rel.slice(rel.lastIndexOf('/') + 1));
      this.rules.push({ negate, dirOnly, match });
    }
  }

  /** Whether `rel` (relative to the rules' folder) is ignored; the last matching rule wins. */
  ignores(rel: string, isDir: boolean): boolean {
    let ignored = false;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.match(rel)) ignored = !r.negate;
    }
    return ignored;
  }
}
