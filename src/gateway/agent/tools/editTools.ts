/**
 * The edit tools: edit_file (exact old → new replacements), write_file (new files), apply_patch (the
 * V4A patch format GPT models are trained on). Every write goes through the ChangeTracker (a
 * checkpoint first) and the port; a miss is a precise error with the current excerpt, never an
 * emptied file or a silent whole-file rewrite.
 */
import { z } from 'zod';
import { applyPatchToText, parsePatch } from '../applyPatch';
import { applyEdits, diffStat, excerpt } from '../editApply';
import type { PolicyCall, ResolvedPath } from '../policy';
import { defineTool, displayPath, errorResult, onlyPath, ToolInputError, type ToolContext, type ToolResult } from './toolTypes';
import { bool, obj, str } from './schema';

const EDIT_MAX_FILE = 8 * 1024 * 1024;

/** The 1-based line of the first difference between two texts. */
function firstChangedLine(before: string, after: string): number {
  let i = 0;
  const n = Math.min(before.length, after.length);
  while (i < n && before.charCodeAt(i) === after.charCodeAt(i)) i++;
  return before.slice(0, i).split('\n').length;
}

/** Writes through the tracker: a checkpoint of the original, the write, then what the agent wrote. */
async function writeTracked(ctx: ToolContext, file: string, before: string | undefined, after: string, label: string): Promise<void> {
  await ctx.changes.checkpoint(ctx.conversationId, ctx.messageId, file, before);
  await ctx.port.write(file, after, { create: before === undefined, label });
  ctx.changes.wrote(ctx.conversationId, file, after);
  ctx.reads.saw(ctx.conversationId, file, after);
}

async function currentText(ctx: ToolContext, file: string, shown: string): Promise<string | ToolResult> {
  const st = await ctx.port.stat(file);
  if (!st) return errorResult(`${shown} does not exist. Use write_file to create a new file.`);
  if (st.type !== 'file') return errorResult(`${shown} is not a regular file.`);
  if (st.size > EDIT_MAX_FILE) return errorResult(`${shown} is too large to edit here (${st.size} bytes).`);
  if ((await ctx.port.readBytes(file, 8192)).includes(0)) return errorResult(`${shown} is a binary file; it cannot be edited as text.`);
  return (await ctx.port.read(file)).text;
}

const editArgs = z.object({
  path: z.string().min(1),
  edits: z
    .array(z.object({ old_text: z.string(), new_text: z.string(), replace_all: z.boolean().optional() }))
    .min(1)
    .max(100),
});

export const editFile = defineTool<z.infer<typeof editArgs>>({
  name: 'edit_file',
  kind: 'edit',
  description:
    'Edit a file by exact text replacement. Each edit replaces old_text (which must match the current file exactly, whitespace included, and be unique unless replace_all) with new_text. Put all edits to one file in one call; read the file first.',
  inputSchema: obj(
    {
      path: str('Path relative to the workspace folder.'),
      edits: {
        type: 'array',
        description: 'Replacements, applied in order.',
        items: obj(
          {
            old_text: str('The exact text to replace (a few lines of context make it unique).'),
            new_text: str('The replacement text.'),
            replace_all: bool('Replace every occurrence (default: exactly one must exist).'),
          },
          ['old_text', 'new_text'],
        ),
      },
    },
    ['path', 'edits'],
  ),
  schema: editArgs,
  subject: (a) => a.path,
  policyCall: async (a, env): Promise<PolicyCall> => ({ tool: 'edit_file', kind: 'edit', paths: [await env.resolve(a.path)] }),
  async run(a, call, ctx): Promise<ToolResult> {
    const p = onlyPath(call);
    const file = p.real ?? p.absolute;
    const shown = displayPath(ctx.port, p.absolute);
    const current = await currentText(ctx, file, shown);
    if (typeof current !== 'string') return current;
    if (ctx.reads.check(ctx.conversationId, file, current) === 'stale') {
      ctx.reads.saw(ctx.conversationId, file, current);
      const firstOld = a.edits[0]?.old_text.split('\n').find((l) => l.trim()) ?? '';
      const at = firstOld ? current.split('\n').findIndex((l) => l.includes(firstOld.trim())) + 1 : 0;
      return errorResult(
        `${shown} changed since you read it (the user or a formatter edited it); nothing was changed. Here is the current text${at > 0 ? ` around line ${at}` : ''}:\n${excerpt(current, Math.max(1, at), 20)}\nRe-read the file if you need more, then retry with old_text from the current text.`,
      );
    }
    const r = applyEdits(
      current,
      a.edits.map((e) => ({ oldText: e.old_text, newText: e.new_text, replaceAll: e.replace_all })),
    );
    if (!r.ok) return errorResult(`${shown}: ${r.error}\nNothing was changed.`);
    if (r.text === current) return { content: `${shown}: the edits change nothing (new_text equals old_text).` };
    if (!r.text.trim() && current.trim()) return errorResult(`${shown}: these edits would leave the file empty; refused. Nothing was changed.`);
    await writeTracked(ctx, file, current, r.text, `Agent: edit ${shown}`);
    const stat = diffStat(current, r.text);
    const line = firstChangedLine(current, r.text);
    return {
      content: `Edited ${shown}: ${r.applied.length} replacement(s)${r.applied.some((x) => x.mode === 'whitespace') ? ' (matched ignoring whitespace)' : ''}, +${stat.added} −${stat.removed} lines. Around line ${line} now:\n${excerpt(r.text, line, 4)}`,
      diffStat: stat,
    };
  },
});

const writeArgs = z.object({ path: z.string().min(1), content: z.string().max(4 * 1024 * 1024) });

export const writeFile = defineTool<z.infer<typeof writeArgs>>({
  name: 'write_file',
  kind: 'edit',
  description: 'Create a new file with the given content (missing folders are created). Refuses an existing file: use edit_file for those.',
  inputSchema: obj({ path: str('Path of the new file, relative to the workspace folder.'), content: str('The whole content.') }, ['path', 'content']),
  schema: writeArgs,
  subject: (a) => a.path,
  policyCall: async (a, env): Promise<PolicyCall> => ({ tool: 'write_file', kind: 'edit', paths: [await env.resolve(a.path)] }),
  async run(a, call, ctx): Promise<ToolResult> {
    const p = onlyPath(call);
    const file = p.real ?? p.absolute;
    const shown = displayPath(ctx.port, p.absolute);
    const st = await ctx.port.stat(file);
    let before: string | undefined;
    if (st) {
      if (!ctx.createdThisTurn.has(file)) return errorResult(`${shown} already exists; use edit_file to change it (write_file only creates files).`);
      if (st.type !== 'file') return errorResult(`${shown} is not a regular file.`);
      before = (await ctx.port.read(file)).text;
    }
    await writeTracked(ctx, file, before, a.content, `Agent: ${before === undefined ? 'create' : 'rewrite'} ${shown}`);
    ctx.createdThisTurn.add(file);
    const stat = diffStat(before ?? '', a.content);
    return { content: `${before === undefined ? 'Created' : 'Rewrote'} ${shown} (${a.content.split('\n').length} lines).`, diffStat: stat };
  },
});

const patchArgs = z.object({
  input: z
    .string()
    .min(1)
    .max(4 * 1024 * 1024),
});

export const applyPatch = defineTool<z.infer<typeof patchArgs>>({
  name: 'apply_patch',
  kind: 'edit',
  description:
    'Apply a patch in the V4A format: "*** Begin Patch", then per file "*** Add File: <path>" (lines prefixed "+"), "*** Delete File: <path>" or "*** Update File: <path>" (optionally "*** Move to: <path>") with "@@" hunks of " " context, "-" removed and "+" added lines, then "*** End Patch".',
  inputSchema: obj({ input: str('The whole patch, from "*** Begin Patch" to "*** End Patch".') }, ['input']),
  schema: patchArgs,
  subject: (a) => {
    const parsed = parsePatch(a.input);
    return parsed.ok ? parsed.files.map((f) => f.path).join(', ') : 'patch';
  },
  async policyCall(a, env): Promise<PolicyCall> {
    const parsed = parsePatch(a.input);
    if (!parsed.ok) throw new ToolInputError(`The patch does not parse: ${parsed.error}`);
    const paths: ResolvedPath[] = [];
    for (const f of parsed.files) {
      paths.push(await env.resolve(f.path));
      if (f.kind === 'update' && f.moveTo) paths.push(await env.resolve(f.moveTo));
    }
    return { tool: 'apply_patch', kind: 'edit', paths };
  },
  async run(a, call, ctx): Promise<ToolResult> {
    const parsed = parsePatch(a.input);
    if (!parsed.ok) return errorResult(`The patch does not parse: ${parsed.error}`);
    const resolved = call.kind === 'edit' ? call.paths : [];
    const planned: Array<{ file: string; shown: string; before: string | undefined; after: string | undefined }> = [];
    let i = 0;
    // Every file is worked out before anything is written: a patch applies whole or not at all.
    for (const f of parsed.files) {
      const p = resolved[i++]!;
      const file = p.real ?? p.absolute;
      const shown = displayPath(ctx.port, p.absolute);
      const target = f.kind === 'update' && f.moveTo ? resolved[i++]! : undefined;
      if (f.kind === 'add') {
        if (await ctx.port.stat(file)) return errorResult(`${shown} already exists (the patch adds it). Nothing was changed.`);
        planned.push({ file, shown, before: undefined, after: f.text });
        continue;
      }
      const current = await currentText(ctx, file, shown);
      if (typeof current !== 'string') return { ...current, content: `${current.content} Nothing was changed.` };
      if (f.kind === 'delete') {
        planned.push({ file, shown, before: current, after: undefined });
        continue;
      }
      const r = applyPatchToText(current, f.hunks);
      if (!r.ok) return errorResult(`${shown}: ${r.error}\nNothing was changed.`);
      if (target) {
        planned.push({ file, shown, before: current, after: undefined });
        const tFile = target.real ?? target.absolute;
        planned.push({ file: tFile, shown: displayPath(ctx.port, target.absolute), before: undefined, after: r.text });
      } else {
        planned.push({ file, shown, before: current, after: r.text });
      }
    }
    const lines: string[] = [];
    let added = 0;
    let removed = 0;
    for (const pl of planned) {
      if (pl.after === undefined) {
        await ctx.changes.checkpoint(ctx.conversationId, ctx.messageId, pl.file, pl.before);
        await ctx.port.remove(pl.file);
        ctx.changes.wrote(ctx.conversationId, pl.file, undefined);
        removed += (pl.before ?? '').split('\n').length;
        lines.push(`deleted ${pl.shown}`);
        continue;
      }
      await writeTracked(ctx, pl.file, pl.before, pl.after, `Agent: patch ${pl.shown}`);
      const s = diffStat(pl.before ?? '', pl.after);
      added += s.added;
      removed += s.removed;
      lines.push(`${pl.before === undefined ? 'added' : 'updated'} ${pl.shown} (+${s.added} −${s.removed})`);
    }
    return { content: `Patch applied: ${lines.join('; ')}.`, diffStat: { added, removed } };
  },
});
