/**
 * The edit applier behind `edit_file` (and `apply_patch`, through the same matching): exact old → new
 * replacement; a unique match is required unless `replaceAll`; the one fallback is a whitespace-
 * tolerant, line-wise match (leading and trailing whitespace ignored, the new text re-indented by the
 * indentation shift found). A miss or an ambiguity is a precise error with the current text around
 * the closest match — never a guess, never a whole-file rewrite, never an emptied file. Edits apply in
 * order to the evolving text, all or nothing. Pure: no I/O.
 */

export interface Edit {
  oldText: string;
  newText: string;
  replaceAll?: boolean;
}

export type MatchMode = 'exact' | 'whitespace';

export type EditResult =
  | { ok: true; text: string; applied: { index: number; line: number; mode: MatchMode }[] }
  /** Precise, with the current excerpt around the closest match (line numbers), never the whole file. */
  | { ok: false; error: string };

/** The file's dominant line ending. */
export function eolOf(text: string): '\n' | '\r\n' {
  const crlf = text.split('\r\n').length - 1;
  const lf = text.split('\n').length - 1 - crlf;
  return crlf > lf ? '\r\n' : '\n';
}

const toEol = (s: string, eol: string): string => (eol === '\n' ? s.replace(/\r\n/g, '\n') : s.replace(/\r?\n/g, '\r\n'));
/** 1-based line numbers of ascending offsets, in one pass. */
function linesAt(text: string, offsets: readonly number[]): number[] {
  const out: number[] = [];
  let line = 1;
  let nl = text.indexOf('\n');
  for (const o of offsets) {
    while (nl >= 0 && nl < o) {
      line++;
      nl = text.indexOf('\n', nl + 1);
    }
    out.push(line);
  }
  return out;
}
const indentOf = (s: string): string => /^\uFEFF?([ \t]*)/.exec(s)![1];
const stripCr = (s: string): string => (s.endsWith('\r') ? s.slice(0, -1) : s);

/** Numbered lines around `line` (1-based), `radius` either side, each capped at 200 characters. */
export function excerpt(text: string, line: number, radius = 3): string {
  const lines = text.split('\n');
  const from = Math.max(1, line - radius);
  const to = Math.min(lines.length, line + radius);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const l = stripCr(lines[n - 1]);
    out.push(`${String(n).padStart(width)} | ${l.length > 200 ? l.slice(0, 200) + '…' : l}`);
  }
  return out.join('\n');
}

/** Start indexes of `block` in `lines` (both already normalised), overlapping matches included, from `from`. */
export function findBlock(lines: readonly string[], block: readonly string[], from = 0, to = lines.length): number[] {
  const hits: number[] = [];
  if (block.length === 0) return hits;
  for (let s = from; s + block.length <= to; s++) {
    if (lines[s] !== block[0]) continue;
    let k = 1;
    while (k < block.length && lines[s + k] === block[k]) k++;
    if (k === block.length) hits.push(s);
  }
  return hits;
}

export const normExact = (lines: readonly string[]): string[] => lines.map(stripCr);
export const normLoose = (lines: readonly string[]): string[] => lines.map((l) => l.trim());

/**
 * Where `block` comes closest in `lines` (0-based start), by how many of its (trimmed) lines are equal
 * at the same offset; when none are, the line most like its first non-blank line.
 */
export function closestMatch(lines: readonly string[], block: readonly string[]): { start: number; equal: number } {
  const file = normLoose(lines);
  const want = normLoose(block);
  const where = new Map<string, number[]>();
  file.forEach((l, i) => {
    if (!l) return;
    const list = where.get(l);
    if (list) list.push(i);
    else where.set(l, [i]);
  });
  const score = new Map<number, number>();
  want.forEach((l, k) => {
    for (const i of where.get(l) ?? []) if (i - k >= 0) score.set(i - k, (score.get(i - k) ?? 0) + 1);
  });
  let best = { start: 0, equal: 0 };
  for (const [start, equal] of score) if (equal > best.equal || (equal === best.equal && start < best.start)) best = { start, equal };
  if (best.equal > 0) return best;
  const first = want.find((l) => l) ?? '';
  const offset = Math.max(0, want.indexOf(first));
  const sim = similarityTo(first);
  let bestSim = 0;
  for (let i = 0; i < Math.min(file.length, 100_000); i++) {
    const l = file[i];
    if (l.length < first.length / 3 || l.length > first.length * 3) continue;
    const v = sim(l);
    if (v > bestSim) [bestSim, best] = [v, { start: Math.max(0, i - offset), equal: 0 }];
  }
  return best;
}

/** Dice coefficient over character bigrams (0…1) against a fixed string. */
function similarityTo(b: string): (a: string) => number {
  const grams = new Map<number, number>();
  for (let i = 0; i < b.length - 1; i++) {
    const g = b.charCodeAt(i) * 65536 + b.charCodeAt(i + 1);
    grams.set(g, (grams.get(g) ?? 0) + 1);
  }
  const used = new Map<number, number>();
  return (a) => {
    if (a === b) return 1;
    if (a.length < 2 || b.length < 2) return 0;
    used.clear();
    let both = 0;
    for (let i = 0; i < a.length - 1; i++) {
      const g = a.charCodeAt(i) * 65536 + a.charCodeAt(i + 1);
      const have = grams.get(g);
      if (have === undefined) continue;
      const u = used.get(g) ?? 0;
      if (u < have) {
        both++;
        used.set(g, u + 1);
      }
    }
    return (2 * both) / (a.length + b.length - 2);
  };
}

/** A miss, explained: the closest place in the current text and how it differs. */
export function missMessage(text: string, block: readonly string[], what: string): string {
  const lines = text.split('\n');
  const { start, equal } = closestMatch(lines, block);
  const span = Math.max(1, Math.min(block.length, 12));
  const around = excerpt(text, start + 1 + Math.floor((span - 1) / 2), Math.ceil(span / 2) + 2);
  const how = equal > 0 ? `${equal} of ${block.length} lines equal` : 'no line equal';
  return `${what} was not found in the file (exactly, or ignoring indentation and trailing spaces). The closest text is at line ${start + 1} (${how}):\n${around}\nRe-read the file and use its current text.`;
}

/** Re-indents `lines` by the shift from `from` (the old text's indentation) to `to` (the file's). */
export function reindent(lines: readonly string[], from: string, to: string): string[] {
  if (from === to) return [...lines];
  const tabs = /^\t+$/.test(to) && /^ +$/.test(from) ? from.length / to.length : /^\t+$/.test(from) && /^ +$/.test(to) ? -(to.length / from.length) : 0;
  if (Number.isInteger(tabs) && tabs !== 0) {
    // Spaces in the old text, tabs in the file (or the reverse): convert whole indentation units.
    const unit = Math.abs(tabs);
    return lines.map((l) => {
      const ind = indentOf(l);
      const width = [...ind].reduce((n, c) => n + (c === '\t' ? unit : 1), 0);
      const levels = Math.floor(width / unit);
      return (tabs > 0 ? '\t'.repeat(levels) : ' '.repeat(levels * unit)) + ' '.repeat(width - levels * unit) + l.slice(ind.length);
    });
  }
  return lines.map((l) => {
    if (!l.trim()) return l;
    if (l.startsWith(from)) return to + l.slice(from.length);
    // Less indented than the anchor line: shift what can be shifted.
    if (to.startsWith(from)) return to.slice(from.length) + l;
    const ind = indentOf(l);
    return ind.length >= from.length - to.length ? l.slice(from.length - to.length) : l.slice(ind.length);
  });
}

interface Applied {
  text: string;
  line: number;
  mode: MatchMode;
  /** The match covered the whole text (the only way an edit may empty a file). */
  whole: boolean;
}

function applyOne(cur: string, edit: Edit, eol: string, label: string): Applied | string {
  const oldText = toEol(edit.oldText, eol);
  const newText = toEol(edit.newText, eol);
  const exact: number[] = [];
  for (let i = cur.indexOf(oldText); i >= 0 && exact.length < 1000; i = cur.indexOf(oldText, i + 1)) exact.push(i);
  if (exact.length === 1 || (exact.length > 1 && edit.replaceAll)) {
    const [line] = linesAt(cur, [exact[0]]);
    const text = edit.replaceAll ? cur.split(oldText).join(newText) : cur.slice(0, exact[0]) + newText + cur.slice(exact[0] + oldText.length);
    return { text, line, mode: 'exact', whole: oldText === cur };
  }
  if (exact.length > 1) return ambiguous(label, linesAt(cur, exact));

  // Whitespace-tolerant, line-wise.
  const lines = cur.split('\n');
  const oldLines = edit.oldText.replace(/\r\n/g, '\n').split('\n');
  const newLines = edit.newText === '' ? [] : edit.newText.replace(/\r\n/g, '\n').split('\n');
  if (oldLines.length > 1 && oldLines[oldLines.length - 1] === '') {
    oldLines.pop();
    if (newLines.length > 1 && newLines[newLines.length - 1] === '') newLines.pop();
  }
  const want = normLoose(oldLines);
  if (want.every((l) => !l)) return `${label}: old_text is only whitespace and was not found exactly; add the surrounding lines.`;
  const hits = findBlock(normLoose(lines), want);
  const starts = edit.replaceAll ? nonOverlapping(hits, want.length) : hits;
  if (starts.length === 0) return `${label}: ${missMessage(cur, oldLines, 'old_text')}`;
  if (starts.length > 1 && !edit.replaceAll)
    return ambiguous(
      label,
      starts.map((s) => s + 1),
    );
  let out = lines;
  for (const s of [...starts].reverse()) {
    const region = lines.slice(s, s + want.length).map((l) => stripCr(l).replace(/^\uFEFF/, ''));
    out = replaceLines(out, s, want.length, tolerantBody(oldLines, region, newLines), eol);
  }
  const whole = starts[0] === 0 && lines.slice(want.length).every((l) => !l.trim());
  return { text: out.join('\n'), line: starts[0] + 1, mode: 'whitespace', whole };
}

/** Replaces lines [s, s + n) with `body` (none: the lines are removed); the last replaced line keeps its ending. */
export function replaceLines(lines: readonly string[], s: number, n: number, body: readonly string[], eol: string): string[] {
  if (body.length === 0) return [...lines.slice(0, s), ...lines.slice(s + n)];
  const cr = eol === '\r\n' ? '\r' : '';
  const lastCr = lines[s + n - 1]?.endsWith('\r') ? '\r' : '';
  return [...lines.slice(0, s), ...body.map((l, k) => l + (k < body.length - 1 ? cr : lastCr)), ...lines.slice(s + n)];
}

/**
 * The new lines for a whitespace-tolerant match. `oldLines` (the model's) matched `region` (the file's)
 * line by line. New lines equal to an old line (by a longest common subsequence) are the file's line,
 * verbatim; the others are re-indented by the shift between the model's and the file's version of the
 * old line they replace (same place in the same gap), or of the nearest old line before them.
 */
export function tolerantBody(oldLines: readonly string[], region: readonly string[], newLines: readonly string[]): string[] {
  const pairs = lcsPairs(oldLines, newLines);
  const out: string[] = [];
  let ref = { model: oldLines.find((l) => l.trim()) ?? '', file: region[oldLines.findIndex((l) => l.trim())] ?? '' };
  let i0 = 0;
  let j0 = 0;
  for (const [pi, pj] of [...pairs, [oldLines.length, newLines.length] as const]) {
    for (let j = j0; j < pj; j++) {
      const i = i0 + (j - j0);
      if (i < pi && oldLines[i].trim()) ref = { model: oldLines[i], file: region[i] };
      out.push(reindent([newLines[j]], indentOf(ref.model), indentOf(ref.file))[0]);
    }
    if (pi < oldLines.length) {
      out.push(region[pi]);
      if (oldLines[pi].trim()) ref = { model: oldLines[pi], file: region[pi] };
    }
    [i0, j0] = [pi + 1, pj + 1];
  }
  return out;
}

/** Index pairs of a longest common subsequence of two line lists (exact equality), in order. Large inputs: only the common prefix and suffix. */
function lcsPairs(a: readonly string[], b: readonly string[]): [number, number][] {
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let ea = a.length;
  let eb = b.length;
  while (ea > lo && eb > lo && a[ea - 1] === b[eb - 1]) [ea, eb] = [ea - 1, eb - 1];
  const head = Array.from({ length: lo }, (_, k) => [k, k] as [number, number]);
  const tail = Array.from({ length: a.length - ea }, (_, k) => [ea + k, eb + k] as [number, number]);
  const n = ea - lo;
  const m = eb - lo;
  if (n === 0 || m === 0 || n * m > 4_000_000) return [...head, ...tail];
  const dp = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      dp[i * (m + 1) + j] = a[lo + i] === b[lo + j] ? dp[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(dp[(i + 1) * (m + 1) + j], dp[i * (m + 1) + j + 1]);
  const mid: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[lo + i] === b[lo + j]) {
      mid.push([lo + i, lo + j]);
      [i, j] = [i + 1, j + 1];
    } else if (dp[(i + 1) * (m + 1) + j] >= dp[i * (m + 1) + j + 1]) i++;
    else j++;
  }
  return [...head, ...mid, ...tail];
}

function nonOverlapping(hits: number[], n: number): number[] {
  const out: number[] = [];
  for (const h of hits) if (out.length === 0 || h >= out[out.length - 1] + n) out.push(h);
  return out;
}

function ambiguous(label: string, lines: number[]): string {
  const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', …' : '');
  return `${label}: old_text appears ${lines.length} times, at lines ${shown}; add context or set replace_all.`;
}

/** Applies `edits` in order; if any fails nothing is applied (the error says which one and why). */
export function applyEdits(text: string, edits: Edit[]): EditResult {
  if (edits.length === 0) return { ok: false, error: 'no edits were given.' };
  const eol = eolOf(text);
  let cur = text;
  let whole = false;
  const applied: { index: number; line: number; mode: MatchMode }[] = [];
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i];
    const label = edits.length > 1 ? `edit ${i + 1} of ${edits.length}` : 'the edit';
    const fail = (error: string): EditResult => ({ ok: false, error: `${error}${edits.length > 1 ? ' No edit was applied.' : ''}` });
    if (typeof e.oldText !== 'string' || typeof e.newText !== 'string') return fail(`${label}: old_text and new_text must be strings.`);
    if (e.oldText === '') return fail(`${label}: old_text is empty; to create a file use write_file, to add text include the lines next to it in old_text.`);
    if (e.oldText === e.newText) return fail(`${label}: old_text and new_text are the same; nothing would change.`);
    const r = applyOne(cur, e, eol, label);
    if (typeof r === 'string') return fail(r);
    applied.push({ index: i, line: r.line, mode: r.mode });
    // Only a match of the whole original text may empty the file.
    whole ||= r.whole && cur === text;
    cur = r.text;
  }
  // A byte-order mark stays (a tolerant match replaces whole lines, the first one included).
  if (text.startsWith('\uFEFF') && !cur.startsWith('\uFEFF') && cur !== '') cur = '\uFEFF' + cur;
  if (!cur.replace(/^\uFEFF/, '').trim() && text.trim() && !whole)
    return { ok: false, error: 'the edits would leave the file empty; to delete all of its text, give the whole file as old_text. No edit was applied.' };
  return { ok: true, text: cur, applied };
}

/** Lines added and removed from `before` to `after` (Myers' O(ND) diff on lines; an estimate beyond 4,000 differences). */
export function diffStat(before: string, after: string): { added: number; removed: number } {
  if (before === after) return { added: 0, removed: 0 };
  const a = before === '' ? [] : before.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let ha = a.length;
  let hb = b.length;
  while (ha > lo && hb > lo && a[ha - 1] === b[hb - 1]) [ha, hb] = [ha - 1, hb - 1];
  const ids = new Map<string, number>();
  const id = (s: string): number => ids.get(s) ?? (ids.set(s, ids.size), ids.size - 1);
  const x = a.slice(lo, ha).map(id);
  const y = b.slice(lo, hb).map(id);
  const d = myersDistance(x, y, 4000);
  if (d >= 0) {
    // d = added + removed, and removed - added = |x| - |y|.
    const removed = (d + x.length - y.length) / 2;
    return { added: d - removed, removed };
  }
  const counts = new Map<number, number>();
  for (const v of x) counts.set(v, (counts.get(v) ?? 0) + 1);
  let common = 0;
  for (const v of y) {
    const n = counts.get(v) ?? 0;
    if (n > 0) {
      common++;
      counts.set(v, n - 1);
    }
  }
  return { added: y.length - common, removed: x.length - common };
}

/** The edit distance (insertions + deletions) between x and y, or -1 when it exceeds `max`. */
function myersDistance(x: number[], y: number[], max: number): number {
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return n + m;
  const limit = Math.min(max, n + m);
  const off = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let i = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) [i, j] = [i + 1, j + 1];
      v[off + k] = i;
      if (i >= n && j >= m) return d;
    }
  }
  return -1;
}
