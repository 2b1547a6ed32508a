/**
 * A tool result as the model sees it: the text parts joined, images, audio and embedded resources
 * summarised (never their bytes), structured content as JSON when there is no text, all capped.
 */
import { formatBytes } from './stdioTransport';

export interface McpCallResult {
  /** What the model reads (capped; a truncation note at the end when cut). */
  content: string;
  isError: boolean;
  /** True when the text was cut at the cap. */
  truncated: boolean;
}

interface ContentPart {
  type?: unknown;
  text?: unknown;
  mimeType?: unknown;
  data?: unknown;
  uri?: unknown;
  name?: unknown;
  resource?: { uri?: unknown; mimeType?: unknown; text?: unknown; blob?: unknown };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const b64Bytes = (v: unknown): number => (typeof v === 'string' ? Math.floor((v.length * 3) / 4) : 0);

/** Formats a CallToolResult (as the SDK returns it, possibly the legacy `toolResult` form). */
export function formatToolResult(raw: Record<string, unknown>, maxChars: number): McpCallResult {
  const parts: string[] = [];
  let size = 0;
  const push = (s: string): void => {
    // Stop collecting once well past the cap: a 50 MB result is not joined into a second copy.
    if (size > maxChars) return;
    parts.push(s);
    size += s.length;
  };
  const content = Array.isArray(raw.content) ? (raw.content as ContentPart[]) : [];
  let totalChars = 0;
  for (const p of content) {
    switch (p.type) {
      case 'text':
        totalChars += str(p.text).length;
        push(str(p.text));
        break;
      case 'image':
      case 'audio':
        push(`[${p.type}: ${str(p.mimeType) || 'unknown type'}, ${formatBytes(b64Bytes(p.data))}; not shown]`);
        break;
      case 'resource': {
        const r = p.resource ?? {};
        const text = str(r.text);
        totalChars += text.length;
        push(`[resource ${str(r.uri)}${r.mimeType ? ` (${str(r.mimeType)})` : ''}${r.blob ? `, ${formatBytes(b64Bytes(r.blob))} binary; not shown` : ''}]`);
        if (text) push(text);
        break;
      }
      case 'resource_link':
        push(`[resource link: ${str(p.uri)}${p.name ? ` "${str(p.name)}"` : ''}]`);
        break;
      default:
        push(`[content of type ${JSON.stringify(p.type)}; not shown]`);
    }
  }
  if (!content.length && raw.structuredContent !== undefined) push(JSON.stringify(raw.structuredContent));
  else if (!content.length && raw.toolResult !== undefined) push(JSON.stringify(raw.toolResult));
  let text = parts.join('\n');
  let truncated = false;
  if (text.length > maxChars) {
    truncated = true;
    const shown = text.slice(0, maxChars);
    text = `${shown}\n[… truncated: the result had ${totalChars > text.length ? totalChars : text.length} characters; the first ${maxChars} are shown]`;
  }
  return { content: text, isError: raw.isError === true, truncated };
}
