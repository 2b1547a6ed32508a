/**
 * What the agent loop shows of itself, shared by the gateway, the chat webview, the local API and the
 * CLI: tool calls as cards, approval requests, and the files an agent changed (pending review).
 * zod schemas, so each boundary (webview, local API) checks what crosses it.
 */
import { z } from 'zod';

export const TOOL_NAMES = [
  'read_file',
  'list_files',
  'search_files',
  'get_diagnostics',
  'edit_file',
  'write_file',
  'apply_patch',
  'run_command',
  'web_fetch',
  'ask_user',
  'finish',
] as const;
export type BuiltinToolName = (typeof TOOL_NAMES)[number];

/** read: never changes anything; edit: changes files; command/network: acts outside the editor; mcp: a tool of an MCP server (it may do anything). */
export const toolKindSchema = z.enum(['read', 'edit', 'command', 'network', 'interaction', 'mcp']);
export type ToolKind = z.infer<typeof toolKindSchema>;

export const toolCallStatusSchema = z.enum([
  /** The model is still streaming its arguments. */
  'streaming',
  /** Waiting for the user's decision. */
  'awaiting_approval',
  'running',
  'done',
  /** The tool ran and failed (the model got the error). */
  'error',
  /** Refused by the policy or the user (the model was told). */
  'denied',
  /** The turn was stopped, or the gateway went away, before it finished. */
  'interrupted',
]);
export type ToolCallStatus = z.infer<typeof toolCallStatusSchema>;

export const policyDecisionSchema = z.enum(['allow', 'ask', 'deny']);
export type PolicyDecision = z.infer<typeof policyDecisionSchema>;

export const approvalRequestSchema = z.object({
  /** Unique per request (the local API and the CLI answer by it). */
  id: z.string().min(1).max(100),
  conversationId: z.string().min(1).max(100),
  messageId: z.string().min(1).max(100),
  callId: z.string().min(1).max(200),
  toolName: z.string().min(1).max(200),
  /** One line: what will happen (`Run npm test`, `Edit src/a.ts`, `Fetch https://…`). */
  title: z.string().max(2000),
  /** Why it asks (`not in the allow list`, `a protected path: .vscode/settings.json`, `workspace guardrail`). */
  reason: z.string().max(2000),
  /** The full argument that matters (the command line, the path, the URL). */
  detail: z.string().max(20_000).optional(),
  /** A standing rule the user may store with "Always allow…" (absent when none may be stored: guardrails, protected paths). */
  suggestedRule: z.string().max(500).optional(),
  /** Set for workspace tasks. */
  taskId: z.string().max(200).optional(),
  ts: z.number(),
});
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;

export const approvalDecisionSchema = z.object({
  decision: z.enum(['allow', 'deny']),
  /** Store `suggestedRule` for this workspace (only with allow). */
  always: z.boolean().optional(),
  /** Who decided: `chat`, `local-api`, `cli`, `notification`. */
  via: z.string().max(50).optional(),
});
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

export const toolCallViewSchema = z.object({
  /** The provider's call id. */
  id: z.string().min(1).max(200),
  /** The assistant message that made the call. */
  messageId: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  kind: toolKindSchema,
  /** The argument that matters, one line (a path, a command, a URL, a query). */
  subject: z.string().max(2000),
  /** A URL the call names (web_fetch): the card shows its favicon. */
  url: z.string().max(4000).optional(),
  status: toolCallStatusSchema,
  startedAt: z.number().optional(),
  durationMs: z.number().nonnegative().optional(),
  /** The first lines of the result or error, capped. */
  preview: z.string().max(4000).optional(),
  /** The whole arguments (JSON) and result, capped, for the expanded card. */
  argumentsJson: z.string().max(20_000).optional(),
  result: z.string().max(50_000).optional(),
  /** Set while status is awaiting_approval. */
  approval: approvalRequestSchema.optional(),
  /** Lines added / removed by an edit. */
  diffStat: z.object({ added: z.number().int().nonnegative(), removed: z.number().int().nonnegative() }).optional(),
  /** run_command: exit code. */
  exitCode: z.number().int().optional(),
});
export type ToolCallView = z.infer<typeof toolCallViewSchema>;

export const fileChangeSchema = z.object({
  /** Absolute path. */
  path: z.string().min(1).max(4000),
  /** Workspace-relative, for display. */
  label: z.string().max(4000),
  kind: z.enum(['created', 'modified']),
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
});
export type FileChange = z.infer<typeof fileChangeSchema>;
