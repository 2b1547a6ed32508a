/**
 * Limits every listener applies to JSON from a client before it parses or validates it (REST bodies,
 * WSS frames, local API bodies), and the one way to quote a client's value in an error message.
 * Deep nesting is refused from the text, before `JSON.parse`: schema validation, `JSON.stringify` and
 * any recursive walk of a 20,000-deep value would overflow the stack. Imports nothing.
 */

/** Deepest nesting of arrays and objects accepted anywhere (a frame's envelope counts). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays/objects deeper than `limit`. One pass over the text, strings
 * skipped (a bracket inside a string does not count); it stops at the first level over the limit.
 * Malformed text is left to `JSON.parse`.
 */
export function jsonTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Whether a value (already parsed, e.g. read back from storage) nests deeper than `limit`; iterative. */
export function valueTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
}

/** A client's string, cut to `max` characters (with an ellipsis) so an error message stays bounded. */
export function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** What a client sent, described by kind only (never stringified): for "expected a string, got …". */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
