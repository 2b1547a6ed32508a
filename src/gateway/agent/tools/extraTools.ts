/**
 * The tools that are not built in: each enabled MCP server tool (`<server>__<tool>`, kind `mcp`) and
 * `read_skill`, as the agent loop sees them. Sources are small interfaces (McpManager and SkillLibrary
 * fit them) so this file loads neither the MCP SDK nor the skill files. MCP descriptions and results
 * are untrusted text; a tool that changed since it was approved asks again (policy.ts `decideMcp`),
 * and running it after that approval records what was approved.
 */
import { z } from 'zod';
import type { ToolDefinition } from '../../providers/types';
import { defineTool, ToolInputError, type AnyTool, type ToolResult } from './toolTypes';

/** What the loop needs of the MCP servers (McpManager). */
export interface McpToolSource {
  /** The enabled tools of the running servers, at most the cap. */
  toolDefinitions(): ToolDefinition[];
  toolInfo(qualifiedName: string): { server: string; name: string; description: string; changed: boolean } | undefined;
  call(
    qualifiedName: string,
    args: Record<string, unknown>,
    options: { signal?: AbortSignal; onProgress?: (p: { progress: number; total?: number; message?: string }) => void },
  ): Promise<{ content: string; isError: boolean }>;
  /** The user approved the tool as it is now. */
  approveTool(qualifiedName: string): Promise<void>;
}

/** What the loop needs of the skills (SkillLibrary). */
export interface SkillSource {
  /** The system-prompt block; '' when no skill is enabled. */
  skillsPrompt(): string;
  readSkillTool(): ToolDefinition;
  readSkill(args: Record<string, unknown>): { content: string; isError: boolean };
}

const ARGS = z.record(z.string(), z.unknown());
const SUBJECT_CAP = 160;

function subjectOf(args: Record<string, unknown>): string {
  const text = JSON.stringify(args) ?? '';
  if (text === '{}') return '';
  return text.length > SUBJECT_CAP ? `${text.slice(0, SUBJECT_CAP)}…` : text;
}

function progressLine(p: { progress: number; total?: number; message?: string }): string {
  const n = p.total ? `${p.progress}/${p.total}` : String(p.progress);
  return `progress ${n}${p.message ? ` · ${p.message.slice(0, 200)}` : ''}\n`;
}

/** One agent tool per MCP tool the source sends to the model. */
export function mcpTools(source: McpToolSource): AnyTool[] {
  return source.toolDefinitions().map((def) =>
    defineTool<Record<string, unknown>>({
      name: def.name,
      description: def.description,
      inputSchema: def.inputSchema,
      kind: 'mcp',
      schema: ARGS,
      subject: subjectOf,
      detail(args) {
        const info = source.toolInfo(def.name);
        const call = JSON.stringify(args, null, 1);
        if (!info?.changed) return call;
        return `${call}\n\nWhat the server says the tool does now (untrusted text from the server):\n${info.description.slice(0, 4000)}`;
      },
      async policyCall() {
        const info = source.toolInfo(def.name);
        if (!info) throw new ToolInputError(`The MCP tool ${def.name} is no longer there (its server stopped or dropped it); it was not run.`);
        return { tool: def.name, kind: 'mcp', server: info.server, changed: info.changed };
      },
      async run(args, call, ctx): Promise<ToolResult> {
        // Reached only when the policy allowed it, or after the user's approval: a changed tool is approved as it is now.
        if (call.kind === 'mcp' && call.changed) await source.approveTool(def.name);
        const r = await source.call(def.name, args, { signal: ctx.signal, onProgress: (p) => ctx.onOutput?.(progressLine(p)) });
        return { content: r.content, isError: r.isError };
      },
    }),
  );
}

/** `read_skill` while at least one skill is enabled (undefined otherwise). */
export function skillTool(source: SkillSource): AnyTool | undefined {
  if (!source.skillsPrompt()) return undefined;
  const def = source.readSkillTool();
  return defineTool<Record<string, unknown>>({
    name: def.name,
    description: def.description,
    inputSchema: def.inputSchema,
    kind: 'read',
    schema: ARGS,
    subject: (args) => (typeof args.name === 'string' ? args.name.slice(0, SUBJECT_CAP) : ''),
    // Reads MultiClaw's own skill library, not a workspace path: nothing for the path rules to check.
    async policyCall() {
      return { tool: def.name, kind: 'read', paths: [] };
    },
    async run(args): Promise<ToolResult> {
      return source.readSkill(args);
    },
  });
}
