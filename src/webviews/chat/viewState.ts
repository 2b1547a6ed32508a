/**
 * What survives the view being hidden and shown again (the webview is torn down; VS Code keeps what we
 * pass to setState): the draft and where the transcript was scrolled. The host re-sends the
 * conversation on the next ready; the scroll position is reapplied only to the same conversation.
 */
import { z } from 'zod';
import type { ScrollPosition } from './virtualList';

const viewStateSchema = z.object({
  draft: z.string(),
  conversationId: z.string().nullable(),
  scroll: z.union([z.object({ pinned: z.literal(true) }), z.object({ pinned: z.literal(false), id: z.string(), offset: z.number() })]),
});

export interface ChatViewState {
  readonly draft: string;
  readonly conversationId: string | null;
  readonly scroll: ScrollPosition;
}

/** Reads a saved state, ignoring anything from an older or foreign shape. */
export function readViewState(raw: unknown): ChatViewState | undefined {
  const parsed = viewStateSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
