/**
 * What every adapter needs for tool calls: tool names and call ids made legal for a provider (and
 * mapped back, so `ToolCall.name` is always our name), and tool-call arguments parsed without ever
 * throwing (bad JSON becomes `invalidArguments`, which the agent loop answers with an error result).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ToolCall } from './types';

export interface NameRules {
  maxLength: number;
  /** Matches one character the provider does not allow (global). */
  invalid: RegExp;
  /** When set, the first character must match it (Gemini: a letter or an underscore). */
  first?: RegExp;
}

/** OpenAI and OpenAI-compatible function names: `^[a-zA-Z0-9_-]{1,64}$`. */
export const OPENAI_TOOL_NAMES: NameRules = { maxLength: 64, invalid: /[^A-Za-z0-9_-]/g };
/** Anthropic tool names: `^[a-zA-Z0-9_-]{1,64}$`. */
export const ANTHROPIC_TOOL_NAMES: NameRules = { maxLength: 64, invalid: /[^A-Za-z0-9_-]/g };
/**
 * Gemini function names: start with a letter or an underscore; letters, digits, `_` and `-` (some
 * API versions also allow `.` and `:`, older ones cap at 63 characters: we keep to what all accept).
 */
export const GEMINI_TOOL_NAMES: NameRules = { maxLength: 63, invalid: /[^A-Za-z0-9_-]/g, first: /^[A-Za-z_]/ };

/** OpenAI refuses tool call ids longer than 40 characters in the history. */
export const OPENAI_CALL_IDS: NameRules = { maxLength: 40, invalid: /[^\x21-\x7e]/g };
/** Anthropic tool_use ids: `^[a-zA-Z0-9_-]+$`. */
export const ANTHROPIC_CALL_IDS: NameRules = { maxLength: 64, invalid: /[^A-Za-z0-9_-]/g };

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** `text` if it already follows `rules`; otherwise a legal, deterministic form of it (cut to length with a hash suffix). */
export function legalName(text: string, rules: NameRules, fallback = 'tool'): string {
  let out = text.replace(rules.invalid, '_');
  if (out.length === 0) out = fallback;
  if (rules.first && !rules.first.test(out)) out = `_${out}`;
  return out.length <= rules.maxLength ? out : withHash(out, text, rules);
}

/**
 * Our tool names ↔ one provider's. A legal name is sent as is; any other is rewritten (invalid
 * characters → `_`, too long → cut with a hash suffix); two of our names that would collide are
 * told apart by the hash. `fromWire` of a name the model made up returns it unchanged.
 */
export class ToolNameMap {
  private readonly toWireMap = new Map<string, string>();
  private readonly fromWireMap = new Map<string, string>();

  constructor(
    names: Iterable<string>,
    private readonly rules: NameRules,
  ) {
    for (const name of names) {
      if (this.toWireMap.has(name)) continue;
      let wire = legalName(name, rules);
      if (this.fromWireMap.has(wire)) wire = withHash(wire, name, rules);
      this.toWireMap.set(name, wire);
      this.fromWireMap.set(wire, name);
    }
  }

  /** The provider's name for one of our tools (also for names in the history that are not offered this turn). */
  toWire(name: string): string {
    return this.toWireMap.get(name) ?? legalName(name, this.rules);
  }

  /** Our name for the name the model called. */
  fromWire(wire: string): string {
    return this.fromWireMap.get(wire) ?? wire;
  }
}

function withHash(wire: string, original: string, rules: NameRules): string {
  const suffix = `_${shortHash(original)}`;
  return wire.slice(0, rules.maxLength - suffix.length) + suffix;
}

/** A call id unique within any conversation (Gemini sends none). */
export function mintCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

/** Raw arguments kept on an invalid call (the model's text, for the error result). */
const MAX_RAW_ARGUMENTS = 4_000;

/** Parses a tool call's JSON arguments: `{}` for none; never throws. */
export function parseToolArguments(raw: string, hint?: string): Pick<ToolCall, 'arguments' | 'invalidArguments'> {
  if (raw.trim() === '') return { arguments: {} };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return invalid(raw, `the arguments are not valid JSON (${why})${hint ? `; ${hint}` : ''}`);
  }
  return argumentsFromValue(value, raw);
}

/** Arguments that arrived as a value (Gemini `args`, Anthropic `input`): must be a JSON object. */
export function argumentsFromValue(value: unknown, raw?: string): Pick<ToolCall, 'arguments' | 'invalidArguments'> {
  if (value === undefined || value === null) return { arguments: {} };
  if (typeof value === 'object' && !Array.isArray(value)) return { arguments: value as Record<string, unknown> };
  return invalid(raw ?? JSON.stringify(value), `the arguments must be a JSON object, not ${Array.isArray(value) ? 'an array' : typeof value}`);
}

function invalid(raw: string, error: string): Pick<ToolCall, 'arguments' | 'invalidArguments'> {
  const capped = raw.length > MAX_RAW_ARGUMENTS ? `${raw.slice(0, MAX_RAW_ARGUMENTS)}…` : raw;
  return { arguments: {}, invalidArguments: { raw: capped, error } };
}
