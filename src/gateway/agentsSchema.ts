import { z } from 'zod';
import { PROVIDER_IDS } from '../protocol/providerIds';
import type { AgentDefinition } from './config';

/** zod schema of one `multiclaw.agents` entry. Loaded lazily (zod stays off the activation path). */
export const agentDefinitionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id: 1–64 letters, digits, dot, dash or underscore'),
  name: z.string().min(1).max(100),
  provider: z.enum(PROVIDER_IDS),
  model: z.string().min(1).max(200),
  systemPrompt: z.string().max(50_000).optional(),
}) satisfies z.ZodType<AgentDefinition>;

/**
 * Validates raw agent entries one by one: a bad entry is skipped with a reason, the others are kept.
 * Duplicate ids keep the first.
 */
export function parseAgents(raw: unknown): { agents: AgentDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const agents: AgentDefinition[] = [];
  if (raw === undefined || raw === null) return { agents, problems };
  if (!Array.isArray(raw)) return { agents, problems: ['multiclaw.agents must be an array; ignoring it'] };
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const r = agentDefinitionSchema.safeParse(entry);
    if (!r.success) {
      problems.push(`multiclaw.agents[${i}] ignored: ${r.error.issues.map((x) => `${x.path.join('.') || 'entry'}: ${x.message}`).join('; ')}`);
    } else if (seen.has(r.data.id)) {
      problems.push(`multiclaw.agents[${i}] ignored: duplicate id "${r.data.id}"`);
    } else {
      seen.add(r.data.id);
      agents.push(r.data);
    }
  });
  return { agents, problems };
}
