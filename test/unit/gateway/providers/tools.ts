/** Tools and helpers shared by the tool-call tests. */
import { PROVIDER_IDS, type ProviderId, type ToolDefinition } from '../../../../src/gateway/providers/types';

export const TOOLS: ToolDefinition[] = [
  {
    name: 'read_file',
    description: 'Read a file of the workspace.',
    inputSchema: { type: 'object', properties: { path: { type: 'string' }, startLine: { type: 'integer' } }, required: ['path'] },
  },
  {
    name: 'run_command',
    description: 'Run a shell command.',
    inputSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
];

export const TOOL_PROVIDERS: readonly ProviderId[] = PROVIDER_IDS;

/** The tool names a request body declared, in order, for any provider's shape. */
export function wireToolNames(body: unknown): string[] {
  const b = body as { tools?: Array<{ name?: string; function?: { name: string }; functionDeclarations?: Array<{ name: string }> }> };
  return (b.tools ?? []).flatMap((t) => (t.functionDeclarations ? t.functionDeclarations.map((d) => d.name) : [t.function?.name ?? t.name ?? '']));
}
