/** Small builders for the tools' JSON schemas (what the model sees), kept next to their zod twins. */
import type { z } from 'zod';
import type { JsonSchema } from '../../providers/types';

export const str = (description: string): JsonSchema => ({ type: 'string', description });
export const int = (description: string): JsonSchema => ({ type: 'integer', description });
export const bool = (description: string): JsonSchema => ({ type: 'boolean', description });

export function obj(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', properties, required };
}

/** A zod failure as one line naming the field: `startLine: expected a number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}
