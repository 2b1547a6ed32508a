/**
 * Property-based fuzzing (fast-check) for every listener: the budget, and arbitraries for what an
 * attacker sends — JSON that is valid but wrong, near-valid bodies with one field mutated, deep nesting,
 * huge strings, non-JSON bytes. CI runs a small fixed budget with a fixed seed (the suite never
 * flakes); a long run: `MULTICLAW_FUZZ_RUNS=20000 MULTICLAW_FUZZ_SEED=$RANDOM npm run test:unit -- --grep fuzz`.
 * A failure prints the seed and the shrunk counterexample; rerun it with the same seed.
 */
import fc from 'fast-check';

export interface FuzzBudget {
  seed: number;
  numRuns: number;
}

/** MULTICLAW_FUZZ_SEED (default 11), MULTICLAW_FUZZ_RUNS (default `ciRuns`). */
export function fuzzBudget(ciRuns: number): FuzzBudget {
  const seed = Number(process.env.MULTICLAW_FUZZ_SEED ?? 11);
  const runs = Number(process.env.MULTICLAW_FUZZ_RUNS ?? ciRuns);
  return { seed: Number.isFinite(seed) ? seed : 11, numRuns: Number.isFinite(runs) && runs > 0 ? runs : ciRuns };
}

/** Whether a long run was asked for (tests then raise their mocha timeout). */
export const longFuzz = (): boolean => process.env.MULTICLAW_FUZZ_RUNS !== undefined;

export const deepArrayText = (n: number): string => '['.repeat(n) + ']'.repeat(n);
export const deepObjectText = (n: number): string => '{"a":'.repeat(n) + '0' + '}'.repeat(n);

/** Strings that tend to break things: empty, huge, control characters, lone surrogates, path tricks, SQL. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '../../etc/passwd', "' OR 1=1 --", '%00', '__proto__', 'constructor', '\r\nX-Injected: 1', 'é'.repeat(200)),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)),
);

/** Any JSON value, including prototype-pollution keys and nasty strings. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'type', 'status'), fc.jsonValue({ maxDepth: 2 })),
  nastyString,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}),
);

/** `sample` with one field replaced, one added, or one removed (a near-valid body). */
export function mutated(sample: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(sample);
  const replace = keys.length ? fc.tuple(fc.constantFrom(...keys), anyJson).map(([k, v]) => ({ ...sample, [k]: v })) : fc.constant(sample);
  const add = fc.tuple(nastyString, anyJson).map(([k, v]) => ({ ...sample, [k]: v }));
  const remove = keys.length ? fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(sample).filter(([x]) => x !== k))) : fc.constant(sample);
  return fc.oneof(fc.constant(sample), replace, add, remove);
}

/**
 * The text of a request body or frame: a near-valid JSON object (from `samples`), any JSON, nesting
 * from just under to far over the depth limit, or bytes that are not JSON.
 */
export function bodyText(samples: Array<Record<string, unknown>>): fc.Arbitrary<string> {
  const near = samples.length ? fc.constantFrom(...samples).chain((s) => mutated(s)) : fc.constant({});
  return fc.oneof(
    { weight: 4, arbitrary: near.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? 'null') },
    fc.integer({ min: 30, max: 20_000 }).map(deepArrayText),
    fc.integer({ min: 30, max: 5_000 }).map(deepObjectText),
    near.chain((v) =>
      fc.integer({ min: 60, max: 5_000 }).map((n) => JSON.stringify({ ...v, context: JSON.parse(deepObjectText(Math.min(n, 1000))) as unknown })),
    ),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom('', '{', '{"a":', 'null', '[]', '{"a":1}{"b":2}', '\ufeff{}'),
  );
}

/** Whether `s` is at most `max` characters: an error never echoes a client's value without bound. */
export const bounded = (s: string, max = 2_000): boolean => s.length <= max;
