/**
 * A read-only import of VS Code's `.vscode/mcp.json`: `servers.<name>` with `type: stdio` (command,
 * args, env, cwd) or `http`/`sse` (url, headers). JSON with comments and trailing commas, as VS Code
 * accepts. `${workspaceFolder}`, `${userHome}` and `${env:NAME}` are substituted; `inputs` (prompted
 * values, `${input:id}`) are not supported and reported with a note: store the value as a secret and
 * write `${secret:NAME}` in MultiClaw's own settings instead. Imported servers are `source: 'workspace'`.
 */
import type { McpServerConfig } from './mcpConfig';

export interface McpJsonImport {
  servers: McpServerConfig[];
  /** Things left out or not understood, one line each (shown in the MCP view and the log). */
  notes: string[];
}

export interface McpJsonContext {
  workspaceFolder?: string;
  userHome?: string;
  env?: Record<string, string | undefined>;
}

/** Removes // and /* *\/ comments and trailing commas outside strings. */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (ch === ',') {
      let j = i + 1;
      while (j < n && /\s/.test(text[j]!)) j++;
      if (text[j] !== '}' && text[j] !== ']') out += ch;
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseMcpJson(text: string, ctx: McpJsonContext = {}): McpJsonImport {
  const notes: string[] = [];
  const servers: McpServerConfig[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(stripJsonc(text.replace(/^\uFEFF/, '')));
  } catch (err) {
    return { servers, notes: [`mcp.json is not valid JSON: ${(err as Error).message}`] };
  }
  if (!isObject(doc)) return { servers, notes: ['mcp.json: expected an object with "servers"'] };
  if (Array.isArray(doc.inputs) && doc.inputs.length)
    notes.push('mcp.json "inputs" are not supported (MultiClaw never prompts for them): use ${secret:NAME} in MultiClaw\'s own MCP settings instead');
  const raw = doc.servers ?? doc.mcpServers;
  if (!isObject(raw)) return { servers, notes: [...notes, 'mcp.json has no "servers" object'] };
  const subst = (v: string): string =>
    v.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (m, key: string, envName?: string) => {
      if (key === 'workspaceFolder') return ctx.workspaceFolder ?? m;
      if (key === 'userHome') return ctx.userHome ?? m;
      return ctx.env?.[envName!] ?? '';
    });
  const strings = (name: string, field: string, v: unknown): Record<string, string> | undefined => {
    if (v === undefined) return undefined;
    if (!isObject(v)) {
      notes.push(`mcp.json server "${name}": "${field}" is not an object; left out`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = subst(String(x));
      else if (x !== null) notes.push(`mcp.json server "${name}": ${field}.${k} is not a string; left out`);
    }
    return out;
  };
  for (const [name, v] of Object.entries(raw)) {
    if (!isObject(v)) {
      notes.push(`mcp.json server "${name}": not an object; left out`);
      continue;
    }
    const type = typeof v.type === 'string' ? v.type : typeof v.url === 'string' ? 'http' : 'stdio';
    const usesInput = JSON.stringify(v).includes('${input:');
    if (usesInput)
      notes.push(`mcp.json server "${name}" uses \${input:…} values, which are not resolved: store them as secrets and reference them as \${secret:NAME}`);
    if (v.envFile !== undefined) notes.push(`mcp.json server "${name}": "envFile" is not read`);
    if (v.dev !== undefined) notes.push(`mcp.json server "${name}": "dev" (watch/debug) is ignored`);
    const c: McpServerConfig = { name, enabled: v.disabled !== true, transport: 'stdio', source: 'workspace' };
    if (type === 'stdio') {
      if (typeof v.command !== 'string' || !v.command) {
        notes.push(`mcp.json server "${name}": no "command"; left out`);
        continue;
      }
      c.command = subst(v.command);
      if (Array.isArray(v.args))
        c.args = v.args.filter((a): a is string | number => typeof a === 'string' || typeof a === 'number').map((a) => subst(String(a)));
      if (typeof v.cwd === 'string') c.cwd = subst(v.cwd);
      const env = strings(name, 'env', v.env);
      if (env) c.env = env;
    } else if (type === 'http' || type === 'sse' || type === 'streamableHttp' || type === 'streamable-http') {
      if (typeof v.url !== 'string' || !/^https?:\/\//i.test(subst(v.url))) {
        notes.push(`mcp.json server "${name}": no http(s) "url"; left out`);
        continue;
      }
      c.transport = 'http';
      c.url = subst(v.url);
      if (type === 'sse') c.sseOnly = true;
      const headers = strings(name, 'headers', v.headers);
      if (headers) c.headers = headers;
    } else {
      notes.push(`mcp.json server "${name}": unknown type "${type}"; left out`);
      continue;
    }
    servers.push(c);
  }
  return { servers, notes };
}
