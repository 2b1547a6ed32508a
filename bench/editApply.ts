/**
 * `npm run bench -- edit-apply [--max-hunks 3000]`
 *
 * Replays a corpus of real edits through the edit applier (`src/gateway/agent/editApply.ts`) and the
 * V4A patch applier: every hunk of this repository's own git history (`git log -p`, newest first, up
 * to `--max-hunks`), as an old → new block against the parent's file (`git cat-file --batch`). Each
 * result is checked against the truth: the parent with exactly that hunk applied (whose region is the
 * child's content there).
 *
 *   exact     the block as it is; blocks that are not unique in the parent are counted apart
 *             (ambiguousSkipped), since a unique match is required
 *   tolerant  the same blocks with whitespace perturbed: indented by two more spaces, dedented, or with
 *             trailing spaces on the old lines (the result must still equal the truth)
 *   stale     one line of the old block changed so it no longer exists in the file: must be refused
 *   patch     the hunk as a V4A `*** Update File` hunk through applyPatchToText
 *
 * wrongPlace counts results that were applied but differ from the truth; destroyed counts applied
 * results that lost most of the file. The last line is one JSON object.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { applyPatchToText, type PatchHunk } from '../src/gateway/agent/applyPatch';
import { applyEdits, findBlock, normLoose, type EditResult } from '../src/gateway/agent/editApply';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MAX_HUNKS = arg('max-hunks', 3000);
const root = path.resolve(__dirname, '..', '..');

interface Hunk {
  commit: string;
  parent: string;
  file: string;
  oldStart: number;
  oldLines: string[];
  newLines: string[];
  ops: PatchHunk['lines'];
}

function readHunks(): Hunk[] {
  const log = execFileSync(
    'git',
    [
      'log',
      '--no-merges',
      '--no-renames',
      '--no-color',
      '--no-ext-diff',
      '--unified=3',
      '--format=@@@commit %H %P',
      '-p',
      '--',
      '.',
      ':(exclude)package-lock.json',
    ],
    { cwd: root, maxBuffer: 1 << 30, encoding: 'utf8' },
  );
  const hunks: Hunk[] = [];
  let commit = '';
  let parent = '';
  let file: string | undefined;
  let cur: Hunk | undefined;
  let broken = false;
  const flush = (): void => {
    if (cur && !broken && cur.oldLines.length > 0 && hunks.length < MAX_HUNKS) hunks.push(cur);
    cur = undefined;
    broken = false;
  };
  for (const line of log.split('\n')) {
    if (line.startsWith('@@@commit ')) {
      flush();
      [commit, parent] = line.slice(10).split(' ');
      file = undefined;
    } else if (line.startsWith('diff --git ')) {
      flush();
      file = undefined;
    } else if (line.startsWith('--- ')) file = line === '--- /dev/null' || !parent ? undefined : line.slice(6);
    else if (line.startsWith('+++ ')) {
      if (line === '+++ /dev/null') file = undefined;
    } else if (line.startsWith('@@ ')) {
      flush();
      const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
      if (file && m) cur = { commit, parent, file, oldStart: Number(m[1]), oldLines: [], newLines: [], ops: [] };
    } else if (cur) {
      const op = line[0];
      if (op === ' ' || op === '-' || op === '+') {
        if (op !== '+') cur.oldLines.push(line.slice(1));
        if (op !== '-') cur.newLines.push(line.slice(1));
        cur.ops.push({ op, text: line.slice(1) });
      } else if (line.startsWith('\\')) broken = true; // "\ No newline at end of file": skipped for simplicity
    }
    if (hunks.length >= MAX_HUNKS) break;
  }
  flush();
  return hunks;
}

/** Blob contents by `<commit>:<path>`, through one `git cat-file --batch`. */
function readBlobs(specs: string[]): Map<string, string> {
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: root, input: specs.join('\n') + '\n', maxBuffer: 1 << 30 });
  const out = r.stdout;
  const blobs = new Map<string, string>();
  let pos = 0;
  for (const spec of specs) {
    const nl = out.indexOf(10, pos);
    const header = out.subarray(pos, nl).toString();
    pos = nl + 1;
    const m = /^\S+ (\w+) (\d+)$/.exec(header);
    if (!m) continue;
    const size = Number(m[2]);
    const body = out.subarray(pos, pos + size);
    pos += size + 1;
    if (m[1] === 'blob' && !body.includes(0)) blobs.set(spec, body.toString('utf8'));
  }
  return blobs;
}

const count = (text: string, needle: string): number => {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
};

const indentShift = (lines: string[], by: string): string[] => lines.map((l) => (l.trim() ? by + l : l));
function dedent(old: string[], neu: string[]): [string[], string[]] | undefined {
  const widths = [...old, ...neu].filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const min = Math.min(...widths);
  if (!Number.isFinite(min) || min === 0) return undefined;
  const cut = (ls: string[]): string[] => ls.map((l) => (l.trim() ? l.slice(min) : l));
  return [cut(old), cut(neu)];
}

/** Changes one non-blank line of the old block so that it exists nowhere in the file (trimmed); undefined when none can be. */
function staleBlock(old: string[], fileTrimmed: Set<string>): string[] | undefined {
  const order = old.map((_, i) => i).sort((a, b) => Math.abs(a - old.length / 2) - Math.abs(b - old.length / 2));
  for (const i of order) {
    const l = old[i];
    const m = /[A-Za-z0-9]/.exec(l);
    if (!m) continue;
    const c = l[m.index];
    const changed = l.slice(0, m.index) + (c === 'q' ? 'z' : 'q') + l.slice(m.index + 1);
    if (!fileTrimmed.has(changed.trim())) return old.map((x, k) => (k === i ? changed : x));
  }
  return undefined;
}

function main(): void {
  const t0 = performance.now();
  const hunks = readHunks();
  const specs = [...new Set(hunks.flatMap((h) => [`${h.parent}:${h.file}`]))];
  const blobs = readBlobs(specs);
  const s = {
    hunks: hunks.length,
    exactCases: 0,
    exactApplied: 0,
    ambiguousSkipped: 0,
    tolerantCases: 0,
    tolerantApplied: 0,
    /** Of tolerantApplied, how many needed the whitespace-tolerant fallback (the rest still matched exactly). */
    tolerantViaFallback: 0,
    tolerantAmbiguousSkipped: 0,
    staleCases: 0,
    staleRefused: 0,
    patchCases: 0,
    patchApplied: 0,
    patchAmbiguousSkipped: 0,
    wrongPlace: 0,
    destroyed: 0,
    inconsistentSkipped: 0,
  };
  const examples: string[] = [];
  const judge = (r: EditResult, expected: string, kind: string, h: Hunk): boolean => {
    if (!r.ok) {
      if (examples.length < 8) examples.push(`${kind} refused ${h.commit.slice(0, 8)} ${h.file}:${h.oldStart}: ${r.error.slice(0, 300)}`);
      return false;
    }
    if (r.text === expected) return true;
    if (!r.text.trim() || r.text.length < expected.length / 2) s.destroyed++;
    else s.wrongPlace++;
    if (examples.length < 8) examples.push(`${kind} WRONG ${h.commit.slice(0, 8)} ${h.file}:${h.oldStart}`);
    return false;
  };
  for (const h of hunks) {
    const parent = blobs.get(`${h.parent}:${h.file}`);
    if (parent === undefined) continue;
    const lines = parent.split('\n');
    const at = h.oldStart - 1;
    if (lines.slice(at, at + h.oldLines.length).join('\n') !== h.oldLines.join('\n')) {
      s.inconsistentSkipped++;
      continue;
    }
    const expected = [...lines.slice(0, at), ...h.newLines, ...lines.slice(at + h.oldLines.length)].join('\n');
    const oldText = h.oldLines.join('\n');
    if (oldText === h.newLines.join('\n')) continue;
    const loose = normLoose(lines);
    const looseUnique = findBlock(loose, normLoose(h.oldLines)).length === 1;

    if (count(parent, oldText) !== 1) s.ambiguousSkipped++;
    else {
      s.exactCases++;
      if (judge(applyEdits(parent, [{ oldText, newText: h.newLines.join('\n') }]), expected, 'exact', h)) s.exactApplied++;
    }

    const variants: [string[], string[]][] = [[indentShift(h.oldLines, '  '), indentShift(h.newLines, '  ')]];
    const d = dedent(h.oldLines, h.newLines);
    if (d) variants.push(d);
    variants.push([h.oldLines.map((l, i) => (i % 2 === 0 && l.trim() ? l + '   ' : l)), h.newLines]);
    for (const [o, n] of variants) {
      if (o.join('\n') === oldText) continue;
      if (!looseUnique) {
        s.tolerantAmbiguousSkipped++;
        continue;
      }
      s.tolerantCases++;
      const r = applyEdits(parent, [{ oldText: o.join('\n'), newText: n.join('\n') }]);
      if (judge(r, expected, 'tolerant', h)) {
        s.tolerantApplied++;
        if (r.ok && r.applied[0].mode === 'whitespace') s.tolerantViaFallback++;
      }
    }

    const stale = staleBlock(h.oldLines, new Set(loose));
    if (stale) {
      s.staleCases++;
      const r = applyEdits(parent, [{ oldText: stale.join('\n'), newText: h.newLines.join('\n') }]);
      if (!r.ok) s.staleRefused++;
      else judge(r, '\0 a stale block must not apply', 'stale', h);
    }

    if (
      findBlock(
        lines.map((l) => l.replace(/\r$/, '')),
        h.oldLines,
      ).length !== 1
    )
      s.patchAmbiguousSkipped++;
    else {
      s.patchCases++;
      if (judge(applyPatchToText(parent, [{ anchors: [], lines: h.ops }]), expected, 'patch', h)) s.patchApplied++;
    }
  }
  for (const e of examples) console.error(`[edit-apply] ${e}`);
  console.log(JSON.stringify({ bench: 'edit-apply', ...s, files: specs.length, ms: Math.round(performance.now() - t0) }));
}

main();
