/**
 * A soft check of a pasted provider API key: the format each provider documents (OpenAI `sk-`,
 * Anthropic `sk-ant-`, Gemini `AIza`). A mismatch is a warning the user may override (keys change
 * format, proxies take other keys); only the provider decides whether a key works. No `vscode`.
 */
import type { ProviderId } from '../gateway/providers/types';

const FORMATS: Partial<Record<ProviderId, { prefix: string; label: string }>> = {
  openai: { prefix: 'sk-', label: 'OpenAI' },
  anthropic: { prefix: 'sk-ant-', label: 'Anthropic' },
  gemini: { prefix: 'AIza', label: 'Google Gemini' },
};

const an = (word: string): string => `${/^[AEIOU]/i.test(word) ? 'an' : 'a'} ${word}`;

/** Why `key` does not look like a key of `provider`; undefined when it does (or the provider has no format). */
export function keyFormatWarning(provider: ProviderId, key: string): string | undefined {
  const k = key.trim();
  const f = FORMATS[provider];
  if (!f || !k) return undefined;
  if (provider === 'openai' && k.startsWith('sk-ant-')) return 'This looks like an Anthropic key (sk-ant-…), not an OpenAI key (sk-…)';
  if (k.startsWith(f.prefix)) return undefined;
  const other = (Object.entries(FORMATS) as Array<[ProviderId, { prefix: string; label: string }]>).find(
    ([p, o]) => p !== provider && k.startsWith(o.prefix) && o.prefix !== 'sk-',
  );
  if (other) return `This looks like ${an(other[1].label)} key (${other[1].prefix}…), not ${an(f.label)} key (${f.prefix}…)`;
  return `This does not look like ${an(f.label)} key: those start with ${f.prefix}`;
}
