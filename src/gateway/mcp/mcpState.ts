/** An MCP server's state and its one-line description: light (no SDK), so the extension's MCP view can use it. */
export type McpServerState =
  | { status: 'stopped'; reason?: string }
  | { status: 'starting' }
  | { status: 'running'; tools: number; transport: 'stdio' | 'streamable-http' | 'sse' }
  | { status: 'error'; reason: string };

export function describeState(s: McpServerState): string {
  switch (s.status) {
    case 'stopped':
      return s.reason ? `stopped: ${s.reason}` : 'stopped';
    case 'starting':
      return 'starting';
    case 'running':
      return `running · ${s.tools} tool${s.tools === 1 ? '' : 's'}`;
    case 'error':
      return `error: ${s.reason}`;
  }
}
