import { z } from 'zod';
import { PROVIDER_IDS } from '../protocol/providerIds';
import type { AgentDefinition } from './config';

/** zod schema of one `multiclaw.agents` entry. Loaded lazily (zod stays off the activation path). */
export const agentDefinitionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1–64 letters, digits, dot, dash or underscore'),
  name: z.string().min(1).max(100),
  provider: z.enum(PROVIDER_IDS),
  model: z.string().min(1).max(200),
  systemPrompt: z.string().max(50_000).optional(),
}) satisfies z.ZodType<AgentDefinition>;

/** How an entry is named in a message: its index, and its id or name when it has a readable one. */
function entryLabel(entry: unknown, i: number): string {
  const o = entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
  const name = [o.id, o.name].find((v): v is string => typeof v === 'string' && v.trim() !== '');
  return `multiclaw.agents[${i}]${name ? ` ("${name.slice(0, 60)}")` : ''}`;
}

/**
 * Validates raw agent entries one by one: a bad entry is skipped with a reason that names the entry
 * and the field, the others are kept. Duplicate ids keep the first.
 */
export function parseAgents(raw: unknown): { agents: AgentDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const agents: AgentDefinition[] = [];
  if (raw === undefined || raw === null) return { agents, problems };
  if (!Array.isArray(raw)) return { agents, problems: ['multiclaw.agents must be an array of agents; ignoring it'] };
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const r = agentDefinitionSchema.safeParse(entry);
    if (!r.success) {
      const why = r.error.issues.map((x) => {
        const field = x.path.join('.');
        if (!field) return 'it must be an object with id, name, provider and model';
        return x.code === 'invalid_type' && x.input === undefined ? `"${field}" is missing` : `"${field}": ${x.message}`;
      });
      problems.push(`${entryLabel(entry, i)} skipped: ${why.join('; ')}`);
    } else if (seen.has(r.data.id)) {
      problems.push(`${entryLabel(entry, i)} skipped: "id": another agent already uses "${r.data.id}"`);
    } else {
      seen.add(r.data.id);
      agents.push(r.data);
    }
  });
  return { agents, problems };
}
