import assert from 'node:assert/strict';
import { plainText } from '../../../src/gateway/util/plainText';

describe('plainText (tree snippets)', () => {
  it('drops emphasis, code fences, links, headings and list markers', () => {
    assert.equal(plainText('Hello! You said: **Please greet me**'), 'Hello! You said: Please greet me');
    assert.equal(plainText('Use `npm test` and _then_ ~~not~~ this'), 'Use npm test and then not this');
    assert.equal(plainText('# Title\n- one\n- [link](https://x.example)\n```ts\nconst a = 1;\n```'), 'Title one link const a = 1;');
  });

  it('drops a marker a cut left unpaired (a plan summary truncated before its closing **)', () => {
    assert.equal(plainText('Hello! You said: **Before doing anything, propose a plan'), 'Hello! You said: Before doing anything, propose a plan');
  });

  it('keeps lone symbols that are not markup', () => {
    assert.equal(plainText('a * b = c_d'), 'a * b = c_d');
  });
});
