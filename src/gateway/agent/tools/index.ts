/** The built-in tools, in the order the model sees them, and argument parsing. */
import type { BuiltinToolName } from '../../../protocol/agent';
import type { ToolDefinition } from '../../providers/types';
import { applyPatch, editFile, writeFile } from './editTools';
import { askUser, finish, runCommand, webFetch } from './otherTools';
import { getDiagnostics, listFiles, readFile, searchFiles } from './readTools';
import { describeIssues } from './schema';
import type { AnyTool } from './toolTypes';

export const BUILTIN_TOOLS: readonly AnyTool[] = [
  readFile,
  listFiles,
  searchFiles,
  getDiagnostics,
  editFile,
  writeFile,
  applyPatch,
  runCommand,
  webFetch,
  askUser,
  finish,
];

const BY_NAME = new Map<string, AnyTool>(BUILTIN_TOOLS.map((t) => [t.name, t]));

export function toolByName(name: string): AnyTool | undefined {
  return BY_NAME.get(name);
}

export function toolDefinition(t: AnyTool): ToolDefinition {
  return { name: t.name, description: t.description, inputSchema: t.inputSchema };
}

export type ParsedArguments = { ok: true; args: never } | { ok: false; error: string };

/** Validates a call's arguments; a failure names the field, for an error result the model can act on. */
export function parseToolArguments(t: AnyTool, args: unknown): ParsedArguments {
  const r = t.schema.safeParse(args);
  if (r.success) return { ok: true, args: r.data as never };
  return { ok: false, error: `Invalid arguments for ${t.name}: ${describeIssues(r.error)}. Nothing was run; fix the arguments and call it again.` };
}

export type { BuiltinToolName };
export type { AnyTool, ToolContext, ToolResult } from './toolTypes';
export { ToolInputError } from './toolTypes';
