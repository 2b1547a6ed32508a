/**
 * The V4A patch format OpenAI's GPT/Codex models are trained on (`apply_patch`):
 *
 *   *** Begin Patch
 *   *** Update File: src/a.ts
 *   *** Move to: src/b.ts          (optional)
 *   @@ class Foo                    (optional anchors narrowing where the hunk is)
 *    context line
 *   -removed line
 *   +added line
 *   *** End of File                 (optional: the hunk ends at the end of the file)
 *   *** Add File: new.txt
 *   +its lines
 *   *** Delete File: old.txt
 *   *** End Patch
 *
 * Hunks are applied in order, each searched from where the previous one ended, with editApply's
 * matching: exact lines, then whitespace-tolerant (re-indented); without an anchor the match must be
 * unique; with one, the first match after the anchor is taken. All or nothing. Pure: no I/O.
 */
import { eolOf, findBlock, missMessage, normExact, normLoose, reindent, type EditResult, type MatchMode } from './editApply';

export interface PatchLine {
  op: ' ' | '-' | '+';
  text: string;
}

export interface PatchHunk {
  /** `@@ …` anchor lines before the hunk (in order; each found after the previous). */
  anchors: string[];
  lines: PatchLine[];
  /** `*** End of File`: the hunk's old lines end the file. */
  endOfFile?: boolean;
}

export type PatchFile =
  | { kind: 'add'; path: string; text: string }
  | { kind: 'delete'; path: string }
  | { kind: 'update'; path: string; moveTo?: string; hunks: PatchHunk[] };

const FILE_HEADER = /^\*\*\* (Add|Delete|Update) File:(.*)$/;

export function parsePatch(text: string): { ok: true; files: PatchFile[] } | { ok: false; error: string } {
  let lines = text.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && !lines[0].trim()) lines.shift();
  while (lines.length > 0 && !lines[lines.length - 1].trim()) lines.pop();
  if (lines[0]?.startsWith('```')) lines = lines.slice(1, lines[lines.length - 1]?.startsWith('```') ? -1 : undefined);
  if (lines[0]?.trim() !== '*** Begin Patch') return { ok: false, error: 'the patch must start with "*** Begin Patch".' };
  const end = lines.findIndex((l) => l.trim() === '*** End Patch');
  if (end < 0) return { ok: false, error: 'the patch must end with "*** End Patch".' };
  const files: PatchFile[] = [];
  const bad = (i: number, why: string) => ({ ok: false as const, error: `patch line ${i + 1}: ${why}` });
  let i = 1;
  while (i < end) {
    const line = lines[i];
    const header = FILE_HEADER.exec(line.trimEnd());
    if (!header) {
      if (!line.trim()) {
        i++;
        continue;
      }
      return bad(i, `expected "*** Add File:", "*** Update File:" or "*** Delete File:", got ${JSON.stringify(line.slice(0, 80))}.`);
    }
    const [, kind, rawPath] = header;
    const path = rawPath.trim();
    if (!path) return bad(i, 'the file path is empty.');
    i++;
    if (kind === 'Delete') {
      files.push({ kind: 'delete', path });
      continue;
    }
    if (kind === 'Add') {
      const body: string[] = [];
      for (; i < end && !FILE_HEADER.test(lines[i].trimEnd()); i++) {
        if (!lines[i].startsWith('+')) return bad(i, 'every line of an added file starts with "+".');
        body.push(lines[i].slice(1));
      }
      files.push({ kind: 'add', path, text: body.length ? body.join('\n') + '\n' : '' });
      continue;
    }
    let moveTo: string | undefined;
    if (lines[i]?.startsWith('*** Move to:')) {
      moveTo = lines[i].slice('*** Move to:'.length).trim();
      if (!moveTo) return bad(i, 'the "Move to" path is empty.');
      i++;
    }
    const hunks: PatchHunk[] = [];
    let hunk: PatchHunk = { anchors: [], lines: [] };
    for (; i < end && !FILE_HEADER.test(lines[i].trimEnd()); i++) {
      const l = lines[i];
      if (l.startsWith('@@')) {
        if (hunk.lines.length > 0) {
          hunks.push(hunk);
          hunk = { anchors: [], lines: [] };
        }
        const anchor = l.replace(/^@@ ?/, '').replace(/ ?@@$/, '');
        if (anchor.trim()) hunk.anchors.push(anchor);
      } else if (l.trim() === '*** End of File') hunk.endOfFile = true;
      else if (l === '') hunk.lines.push({ op: ' ', text: '' });
      else if (l[0] === ' ' || l[0] === '-' || l[0] === '+') hunk.lines.push({ op: l[0], text: l.slice(1) });
      else return bad(i, `a hunk line starts with " ", "-", "+" or "@@", got ${JSON.stringify(l.slice(0, 80))}.`);
    }
    if (hunk.lines.length > 0) hunks.push(hunk);
    else if (hunk.anchors.length > 0) return bad(i - 1, 'an "@@" anchor with no lines after it.');
    if (hunks.length === 0 && !moveTo) return bad(i - 1, `"*** Update File: ${path}" has no hunks.`);
    files.push(moveTo ? { kind: 'update', path, moveTo, hunks } : { kind: 'update', path, hunks });
  }
  if (files.length === 0) return { ok: false, error: 'the patch changes no file.' };
  return { ok: true, files };
}

const indentOf = (s: string): string => /^\uFEFF?([ \t]*)/.exec(s)![1];

/** Applies an update's hunks to the file's text; if one fails, nothing applies. */
export function applyPatchToText(original: string, hunks: PatchHunk[]): EditResult {
  const eol = eolOf(original);
  let lines = original.split('\n');
  let pos = 0;
  const applied: { index: number; line: number; mode: MatchMode }[] = [];
  for (let h = 0; h < hunks.length; h++) {
    const hunk = hunks[h];
    const label = hunks.length > 1 ? `hunk ${h + 1} of ${hunks.length}` : 'the hunk';
    const fail = (why: string): EditResult => ({ ok: false, error: `${label}: ${why}${hunks.length > 1 ? ' No hunk was applied.' : ''}` });
    let from = pos;
    for (const anchor of hunk.anchors) {
      const at = firstLine(lines, anchor, from);
      if (at < 0) return fail(missMessage(lines.join('\n'), [anchor], `the anchor "@@ ${anchor.trim().slice(0, 80)}"`));
      from = at + 1;
    }
    const oldLines = hunk.lines.filter((l) => l.op !== '+').map((l) => l.text);
    const newLines = hunk.lines.filter((l) => l.op !== '-').map((l) => l.text);
    // The file's last line break leaves an empty last element: it is not a line of the file.
    const fileEnd = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
    if (oldLines.length === 0) {
      const at = hunk.anchors.length > 0 && !hunk.endOfFile ? from : fileEnd;
      lines = [...lines.slice(0, at), ...newLines.map((l) => l + (eol === '\r\n' ? '\r' : '')), ...lines.slice(at)];
      applied.push({ index: h, line: at + 1, mode: 'exact' });
      pos = at + newLines.length;
      continue;
    }
    let found: { start: number; mode: MatchMode } | undefined;
    for (const mode of ['exact', 'whitespace'] as const) {
      const norm = mode === 'exact' ? normExact : normLoose;
      let hits = findBlock(norm(lines), norm(oldLines), from, fileEnd);
      if (hunk.endOfFile) hits = hits.filter((s) => s + oldLines.length === fileEnd);
      if (hits.length > 1 && hunk.anchors.length === 0) {
        const shown = hits.slice(0, 10).map((s) => s + 1);
        return fail(`its lines appear ${hits.length} times, at lines ${shown.join(', ')}; add context lines or an "@@" anchor.`);
      }
      if (hits.length > 0) {
        found = { start: hits[0], mode };
        break;
      }
    }
    if (!found) return fail(missMessage(lines.join('\n'), oldLines, 'its context and removed lines'));
    lines = [...lines.slice(0, found.start), ...rebuild(hunk, lines, found.start, eol), ...lines.slice(found.start + oldLines.length)];
    applied.push({ index: h, line: found.start + 1, mode: found.mode });
    pos = found.start + newLines.length;
  }
  let text = lines.join('\n');
  if (original.startsWith('\uFEFF') && !text.startsWith('\uFEFF')) text = '\uFEFF' + text;
  if (!text.replace(/^\uFEFF/, '').trim() && original.trim())
    return { ok: false, error: 'the patch would leave the file empty; use "*** Delete File:" to delete it.' };
  return { ok: true, text, applied };
}

/**
 * The hunk's new lines over the matched region: context lines stay exactly as they are in the file;
 * added lines are re-indented by the shift between the hunk's and the file's version of the nearest
 * old line (so a whitespace-tolerant match keeps the file's indentation style).
 */
function rebuild(hunk: PatchHunk, lines: readonly string[], start: number, eol: string): string[] {
  const out: string[] = [];
  const cr = eol === '\r\n' ? '\r' : '';
  const old = hunk.lines.filter((l) => l.op !== '+');
  const firstOld = Math.max(
    0,
    old.findIndex((l) => l.text.trim()),
  );
  let ref = { model: old[firstOld]?.text ?? '', file: lines[start + firstOld] ?? '' };
  let k = 0;
  for (const l of hunk.lines) {
    if (l.op === '+') {
      out.push(reindent([l.text], indentOf(ref.model), indentOf(ref.file))[0] + cr);
      continue;
    }
    const fileLine = lines[start + k];
    if (l.text.trim()) ref = { model: l.text, file: fileLine };
    if (l.op === ' ') out.push(fileLine);
    k++;
  }
  // The region's last line keeps its own ending.
  const lastCr = lines[start + k - 1]?.endsWith('\r') ? '\r' : '';
  if (out.length > 0) out[out.length - 1] = out[out.length - 1].replace(/\r$/, '') + lastCr;
  return out;
}

function firstLine(lines: readonly string[], anchor: string, from: number): number {
  const exact = anchor.replace(/\r$/, '');
  for (let i = from; i < lines.length; i++) if (lines[i].replace(/\r$/, '') === exact) return i;
  const loose = anchor.trim();
  for (let i = from; i < lines.length; i++) if (lines[i].trim() === loose) return i;
  // Anchors are often a line's start (`@@ def foo`): accept a unique line that starts with it.
  const starts: number[] = [];
  for (let i = from; i < lines.length && starts.length < 2; i++) if (loose && lines[i].trim().startsWith(loose)) starts.push(i);
  return starts.length === 1 ? starts[0] : -1;
}
