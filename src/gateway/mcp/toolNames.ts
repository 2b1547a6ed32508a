/**
 * MCP tool names as the model sees them: `<server>__<tool>`, made legal for every provider
 * (`[A-Za-z0-9_-]`, at most 64 characters: Gemini's limit) and unique. The manager keeps the map
 * back to (server, tool), so the name is never parsed.
 */
import { createHash } from 'node:crypto';
import type { JsonSchema } from '../providers/types';

export const MAX_TOOL_NAME = 64;

const clean = (s: string): string =>
  s
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '') || 'x';

const shortHash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 6);

/** `<server>__<tool>`, sanitised; `taken` holds names already given (a clash gets a hash suffix). */
export function qualifiedToolName(server: string, tool: string, taken: ReadonlySet<string> = new Set()): string {
  const s = clean(server).slice(0, 24);
  let name = `${s}__${clean(tool)}`;
  // A suffix only when needed to stay within the limit or unique; a plain rename (dots to _) stays readable.
  if (name.length > MAX_TOOL_NAME) name = `${name.slice(0, MAX_TOOL_NAME - 7)}_${shortHash(`${server}\0${tool}`)}`;
  const base = name.slice(0, MAX_TOOL_NAME - 7);
  for (let i = 0; taken.has(name); i++) name = `${base}_${shortHash(`${server}\0${tool}\0${i}`)}`;
  return name;
}

/** The fingerprint a tool is approved under: its name, description and input schema (keys sorted). */
export function toolFingerprint(name: string, description: string, inputSchema: JsonSchema): string {
  return createHash('sha256')
    .update(JSON.stringify([name, description, canonical(inputSchema)]))
    .digest('hex');
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}
