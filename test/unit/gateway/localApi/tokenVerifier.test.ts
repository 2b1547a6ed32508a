/**
 * The bearer-token check (guard.ts): only the exact token passes; near misses of every kind fail.
 */
import assert from 'node:assert/strict';
import { newToken, TokenVerifier } from '../../../../src/gateway/localApi/guard';

describe('local API TokenVerifier', () => {
  const token = newToken();
  const verifier = new TokenVerifier(token);

  it('accepts the exact token', () => {
    assert.equal(verifier.verify(token), true);
    assert.equal(verifier.verify(String(token)), true);
  });

  it('refuses near misses: empty, prefix, suffix, case, one character, padding, a huge value', () => {
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const misses = [
      '',
      token.slice(0, -1),
      token + 'x',
      token + '==',
      token.toUpperCase(),
      token.slice(0, -1) + last,
      ' ' + token,
      'x'.repeat(100_000),
      token.replace('mcl_', ''),
    ];
    for (const m of misses) assert.equal(verifier.verify(m), false, `accepted ${JSON.stringify(m.slice(0, 40))}`);
  });

  it('works for non-ASCII input without throwing (digests have one length)', () => {
    assert.equal(verifier.verify('ключ🔑'.repeat(20)), false);
  });
});
