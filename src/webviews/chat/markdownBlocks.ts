/**
 * Incremental markdown for streaming replies. The text is cut into top-level blocks at blank lines
 * that cannot be inside a construct (not in a code fence, and the next line is not indented, a list
 * item, a quote or a table row), so each block renders the same alone as in the whole. Deltas only
 * append, so all blocks but the last are unchanged: their DOM nodes stay, and only the tail is
 * rendered, sanitised and laid out again. (Reference-style link definitions in a later block would
 * not resolve; chat replies practically never use them.)
 */
import type { MarkdownCache } from './markdown';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const NOT_A_BOUNDARY = /^(?:\s|[-*+>|]|\d{1,9}[.)])/;

export function splitBlocks(text: string): string[] {
  const blocks: string[] = [];
  let blockStart = 0;
  let fence: string | null = null;
  let prevBlank = false;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    const blank = line.trim() === '';
    if (fence === null && prevBlank && !blank && pos > blockStart && !NOT_A_BOUNDARY.test(line)) {
      blocks.push(text.slice(blockStart, pos));
      blockStart = pos;
    }
    const m = FENCE.exec(line);
    if (m) {
      const marker = m[1];
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
    }
    prevBlank = blank;
    pos = end + 1;
  }
  if (blockStart < text.length) blocks.push(text.slice(blockStart));
  return blocks;
}

interface Rendered {
  blocks: string[];
  /** The top-level nodes each block produced, in order. */
  nodes: ChildNode[][];
}

const state = new WeakMap<HTMLElement, Rendered>();
const template = document.createElement('template');

/** Renders `text` into `container`, reusing the nodes of unchanged leading blocks. */
export function renderMarkdownInto(container: HTMLElement, text: string, cache: MarkdownCache): void {
  const blocks = splitBlocks(text);
  let prev = state.get(container);
  if (!prev) {
    container.replaceChildren();
    prev = { blocks: [], nodes: [] };
  }
  let same = 0;
  while (same < blocks.length && same < prev.blocks.length && blocks[same] === prev.blocks[same]) same++;
  for (const nodes of prev.nodes.slice(same)) for (const n of nodes) n.remove();
  const nodes = prev.nodes.slice(0, same);
  for (const block of blocks.slice(same)) {
    template.innerHTML = cache.render(block);
    const fresh = [...template.content.childNodes];
    container.append(template.content);
    nodes.push(fresh);
  }
  state.set(container, { blocks, nodes });
}
