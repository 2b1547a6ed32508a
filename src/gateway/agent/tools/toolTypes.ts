/**
 * What a tool is: its definition for the model (name, description, JSON-schema input, kind), a zod
 * schema for its arguments, how it names what it touches for the policy, and how it runs. Tools act
 * only through the WorkspacePort; results are data for the model and never change a verdict.
 */
import type { z } from 'zod';
import type { BuiltinToolName, ToolKind } from '../../../protocol/agent';
import type { NetService } from '../../net/net';
import type { JsonSchema } from '../../providers/types';
import type { ChangeTracker } from '../changes';
import type { PolicyCall, ResolvedPath } from '../policy';
import type { WorkspacePort } from '../workspacePort';
import type { ReadTracker } from './readTracker';

export interface ToolResult {
  content: string;
  /** The tool failed: the model gets the error and the loop goes on. */
  isError?: boolean;
  exitCode?: number;
  diffStat?: { added: number; removed: number };
  /** `finish` ends the loop; `ask_user` ends the turn with the question. */
  endsTurn?: 'finish' | 'ask_user';
  /** The summary (finish) or the question (ask_user). */
  message?: string;
}

/** Everything a running tool may use. */
export interface ToolContext {
  port: WorkspacePort;
  net: NetService;
  conversationId: string;
  messageId: string;
  callId: string;
  signal: AbortSignal;
  reads: ReadTracker;
  changes: ChangeTracker;
  /** Files this turn's tools created (write_file may overwrite those). */
  createdThisTurn: Set<string>;
  /** The policy's answer for a URL a redirect leads to (web_fetch re-checks every hop). */
  urlAllowed: (url: string) => { ok: true } | { ok: false; reason: string };
  /** Live output (run_command) for the card. */
  onOutput?: (chunk: string) => void;
  onStart?: (info: { pid?: number; terminal?: string }) => void;
}

/** What the policy needs about the workspace to resolve a call's paths. */
export interface ResolveEnv {
  port: WorkspacePort;
  resolve: (requested: string) => Promise<ResolvedPath>;
}

export interface Tool<A = unknown> {
  /** A built-in name, or `<server>__<tool>` for an MCP tool. */
  name: BuiltinToolName | (string & {});
  description: string;
  inputSchema: JsonSchema;
  kind: ToolKind;
  schema: z.ZodType<A>;
  /** The argument that matters, one line (a path, a command, a URL, a query). */
  subject(args: A): string;
  url?(args: A): string | undefined;
  /** What the approval card shows (default: the arguments as JSON). */
  detail?(args: A): string;
  /** The call as the policy sees it (paths resolved: absolute and real). Throws ToolInputError for a path it cannot use. */
  policyCall(args: A, env: ResolveEnv): Promise<PolicyCall>;
  run(args: A, call: PolicyCall, ctx: ToolContext): Promise<ToolResult>;
}

/** Bad input the model can fix (a path that is not a file, a patch that does not parse…): an error result. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

export function errorResult(content: string): ToolResult {
  return { content, isError: true };
}

/** A tool definition with its argument type erased, for the registry. */
export type AnyTool = Tool<never> & { schema: z.ZodType };

export function defineTool<A>(tool: Tool<A>): AnyTool {
  return tool as unknown as AnyTool;
}

/** The first resolved path of a read/edit call (tools with one path). */
export function onlyPath(call: PolicyCall): ResolvedPath {
  if ((call.kind === 'read' || call.kind === 'edit') && call.paths[0]) return call.paths[0];
  throw new Error(`${call.tool}: no path`);
}

/** A path for the model: relative to its workspace folder when inside one. */
export function displayPath(port: WorkspacePort, absolute: string): string {
  const folders = port.folders();
  for (const f of folders) {
    if (absolute === f.path) return folders.length > 1 ? f.name : '.';
    if (absolute.startsWith(f.path.endsWith('/') ? f.path : f.path + '/')) {
      const rel = absolute.slice(f.path.length).replace(/^\/+/, '');
      return folders.length > 1 ? `${f.name}/${rel}` : rel;
    }
  }
  return absolute;
}
