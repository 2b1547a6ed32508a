/**
 * What a reply cost, from its token usage and a price table (USD per 1M tokens, list prices of the
 * standard tier). Pure: no I/O, no zod (the settings reader and the chat view import it).
 *
 * Matching: a table key prices the model id it names and any id that continues it with a suffix
 * after `-`, `@` or `:` (`gpt-4o-2024-08-06`, `claude-3-7-sonnet-latest`, `gemini-2.5-flash-preview-05-20`);
 * the longest matching key wins, so `gpt-4o-mini-2024-07-18` gets `gpt-4o-mini`, not `gpt-4o`. A key
 * does not price an id that goes on with a short version number (`claude-opus-4` does not price
 * `claude-opus-4-5`, a different model) or with another character (`gpt-5` does not price `gpt-5.2`):
 * an unknown model has no cost, never a neighbour's price.
 *
 * The built-in table is per provider; `openai-compatible` models (Ollama, LM Studio, vLLM, a corporate
 * gateway) cost 0. The user's table (`multiclaw.chat.modelPrices`) is matched for every provider, the
 * same way, and its keys win over built-in keys that match no longer.
 *
 * Cached input (OpenAI `cached_tokens`, Anthropic cache reads, Gemini `cachedContentTokenCount`) is
 * part of the input count the providers report and is priced at `cachedInput` (`input` when absent).
 * Anthropic cache writes are priced as plain input (the API bills them at 1.25×).
 */
import type { ProviderId } from '../../protocol/providerIds';

/** USD per 1M tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Prompt tokens served from the provider's cache; absent = priced as `input`. */
  cachedInput?: number;
}

/** A built-in price, with the dearer tier of models that charge more for a long prompt. */
interface TablePrice extends ModelPrice {
  /** Requests whose prompt has more than `above` tokens are priced at these rates. */
  longPrompt?: ModelPrice & { above: number };
}

/** Model id or prefix → price (the setting's shape). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const p = (input: number, output: number, cachedInput?: number): ModelPrice => (cachedInput === undefined ? { input, output } : { input, output, cachedInput });

const SONNET_4: TablePrice = { ...p(3, 15, 0.3), longPrompt: { above: 200_000, ...p(6, 22.5, 0.6) } };
const OPUS_4: TablePrice = p(15, 75, 1.5);

/** Built-in list prices per provider (USD per 1M tokens). */
export const BUILTIN_PRICES: Readonly<Record<Exclude<ProviderId, 'openai-compatible'>, Readonly<Record<string, TablePrice>>>> = {
  openai: {
    'gpt-4o': p(2.5, 10, 1.25),
    'gpt-4o-2024-05-13': p(5, 15),
    'gpt-4o-mini': p(0.15, 0.6, 0.075),
    'gpt-4.1': p(2, 8, 0.5),
    'gpt-4.1-mini': p(0.4, 1.6, 0.1),
    'gpt-4.1-nano': p(0.1, 0.4, 0.025),
    o3: p(2, 8, 0.5),
    'o3-mini': p(1.1, 4.4, 0.55),
    'o3-pro': p(20, 80),
    'o4-mini': p(1.1, 4.4, 0.275),
    'gpt-5': p(1.25, 10, 0.125),
    'gpt-5-mini': p(0.25, 2, 0.025),
    'gpt-5-nano': p(0.05, 0.4, 0.005),
    'gpt-5-pro': p(15, 120),
    'gpt-5.1': p(1.25, 10, 0.125),
    'gpt-5.1-codex-mini': p(0.25, 2, 0.025),
  },
  anthropic: {
    'claude-opus-4': OPUS_4,
    'claude-opus-4-0': OPUS_4,
    'claude-opus-4-1': OPUS_4,
    'claude-opus-4-5': p(5, 25, 0.5),
    'claude-sonnet-4': SONNET_4,
    'claude-sonnet-4-0': SONNET_4,
    'claude-sonnet-4-5': SONNET_4,
    'claude-haiku-4-5': p(1, 5, 0.1),
    'claude-3-7-sonnet': p(3, 15, 0.3),
    'claude-3-5-sonnet': p(3, 15, 0.3),
    'claude-3-5-haiku': p(0.8, 4, 0.08),
  },
  gemini: {
    'gemini-2.5-pro': { ...p(1.25, 10, 0.125), longPrompt: { above: 200_000, ...p(2.5, 15, 0.25) } },
    'gemini-2.5-flash': p(0.3, 2.5, 0.03),
    'gemini-2.5-flash-lite': p(0.1, 0.4, 0.01),
    'gemini-2.0-flash': p(0.1, 0.4, 0.025),
    'gemini-2.0-flash-lite': p(0.075, 0.3),
  },
};

/** Where a price came from. */
export type PriceSource = 'builtin' | 'settings' | 'local';

export interface PriceMatch {
  /** The table key that matched ('' for an unpriced local model). */
  key: string;
  source: PriceSource;
  price: ModelPrice;
  longPrompt?: ModelPrice & { above: number };
}

/** Gemini ids may come as `models/<id>`; ids compare case-insensitively. */
function normalizeModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^models\//, '');
}

/** Whether table key `key` prices `model` (both normalised): see the header for the rule. */
export function keyMatches(key: string, model: string): boolean {
  if (!key || !model.startsWith(key)) return false;
  const rest = model.slice(key.length);
  if (rest === '') return true;
  if (!/^[-@:]/.test(rest)) return false;
  // `-5`, `-10`: a version of its own (claude-opus-4-5); `-2024-08-06`, `-001`, `-latest`: the same model.
  return !/^-\d{1,2}(?:$|[-@:.])/.test(rest);
}

function longest<T>(table: Readonly<Record<string, T>>, model: string): { key: string; value: T } | undefined {
  let best: { key: string; value: T } | undefined;
  for (const [rawKey, value] of Object.entries(table)) {
    const key = normalizeModel(rawKey);
    if (keyMatches(key, model) && (!best || key.length > best.key.length)) best = { key: rawKey, value };
  }
  return best;
}

/** The price of `provider`'s `model`: the user's table first on a tie, then the built-in one; undefined = unknown. */
export function findPrice(provider: ProviderId, model: string, overrides: PriceTable = {}): PriceMatch | undefined {
  const id = normalizeModel(model);
  const user = longest(overrides, id);
  const builtin = provider === 'openai-compatible' ? undefined : longest(BUILTIN_PRICES[provider], id);
  if (user && (!builtin || normalizeModel(user.key).length >= normalizeModel(builtin.key).length)) {
    return { key: user.key, source: 'settings', price: user.value };
  }
  if (builtin) {
    const { longPrompt, ...price } = builtin.value;
    return longPrompt ? { key: builtin.key, source: 'builtin', price, longPrompt } : { key: builtin.key, source: 'builtin', price };
  }
  if (provider === 'openai-compatible') return { key: '', source: 'local', price: { input: 0, output: 0 } };
  return undefined;
}

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
}

export interface ReplyCost {
  usd: number;
  /** The rates applied (the long-prompt tier when it applied). */
  price: ModelPrice;
  key: string;
  source: PriceSource;
}

const count = (n: number | undefined): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);

/** The cost of one reply; undefined when the model has no price or the provider reported no usage. */
export function costOf(usage: TokenUsage | undefined, provider: ProviderId, model: string, overrides?: PriceTable): ReplyCost | undefined {
  if (!usage || (usage.inputTokens === undefined && usage.outputTokens === undefined)) return undefined;
  const match = findPrice(provider, model, overrides);
  if (!match) return undefined;
  const input = count(usage.inputTokens);
  const cached = Math.min(count(usage.cachedInputTokens), input);
  const price = match.longPrompt && input > match.longPrompt.above ? match.longPrompt : match.price;
  const usd = ((input - cached) * price.input + cached * (price.cachedInput ?? price.input) + count(usage.outputTokens) * price.output) / 1_000_000;
  const rates: ModelPrice = p(price.input, price.output, price.cachedInput);
  return { usd, price: rates, key: match.key, source: match.source };
}

const MAX_PRICE = 100_000;
const MAX_ENTRIES = 500;

function isPrice(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_PRICE;
}

/**
 * Validates the `multiclaw.chat.modelPrices` setting: `{ "<model id or prefix>": { input, output, cachedInput? } }`,
 * USD per 1M tokens. Each invalid entry is skipped with a warning naming it; the valid ones load.
 */
export function parseModelPrices(raw: unknown, warn: (message: string) => void): Record<string, ModelPrice> {
  const out: Record<string, ModelPrice> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    warn('setting multiclaw.chat.modelPrices must be an object of model id → { input, output, cachedInput? }; ignored');
    return out;
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) warn(`setting multiclaw.chat.modelPrices has ${entries.length} entries; only the first ${MAX_ENTRIES} are read`);
  for (const [key, value] of entries.slice(0, MAX_ENTRIES)) {
    const id = key.trim();
    const why = problem(id, value);
    if (why) {
      warn(`setting multiclaw.chat.modelPrices: skipped "${id.slice(0, 200)}": ${why}`);
      continue;
    }
    const v = value as { input: number; output: number; cachedInput?: number };
    out[id] = p(v.input, v.output, v.cachedInput);
  }
  return out;
}

function problem(id: string, value: unknown): string | undefined {
  if (!id || id.length > 200) return 'the model id must have 1 to 200 characters';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the price must be an object { input, output, cachedInput? }';
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => k !== 'input' && k !== 'output' && k !== 'cachedInput');
  if (unknown.length) return `unknown field ${unknown.map((k) => `"${k.slice(0, 50)}"`).join(', ')} (allowed: input, output, cachedInput)`;
  for (const field of ['input', 'output'] as const) {
    if (!isPrice(v[field])) return `"${field}" must be a number of USD per 1M tokens from 0 to ${MAX_PRICE}`;
  }
  if (v.cachedInput !== undefined && !isPrice(v.cachedInput)) return `"cachedInput" must be a number of USD per 1M tokens from 0 to ${MAX_PRICE}`;
  return undefined;
}
