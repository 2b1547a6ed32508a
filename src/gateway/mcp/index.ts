/**
 * MCP for the agent loop and the MCP view. Load it with `await import()` (it pulls in the SDK and
 * zod): construct one `McpManager` per gateway run, `await load()`, `startEnabled()`; send
 * `toolDefinitions()` with the built-in tools, route a call whose name `isMcpTool()` to `call()`
 * (policy kind `mcp`; ask again when `isChanged()`, then `approveTool()`), and `shutdown()` on stop.
 */
export { McpManager, describeState, type McpServerState, type McpServerStatus, type McpToolInfo, type McpManagerOptions, type McpNet } from './mcpManager';
export { MCP_DEFAULTS, mcpSecretKey, readServerConfigs, configHash, type McpServerConfig, type McpSettings } from './mcpConfig';
export { parseMcpJson, type McpJsonImport } from './mcpJson';
export type { McpProgress } from './mcpClient';
