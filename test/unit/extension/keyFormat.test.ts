/** The soft format check of Set Provider API Key: a warning the user may override, never a refusal. */
import assert from 'node:assert/strict';
import { keyFormatWarning } from '../../../src/extension/keyFormat';

describe('provider key format (soft check)', () => {
  it('accepts the documented formats', () => {
    assert.equal(keyFormatWarning('openai', 'sk-proj-abc123'), undefined);
    assert.equal(keyFormatWarning('anthropic', 'sk-ant-api03-abc'), undefined);
    assert.equal(keyFormatWarning('gemini', 'AIzaSyAbc'), undefined);
    assert.equal(keyFormatWarning('openai-compatible', 'anything-goes'), undefined, 'a self-hosted server takes any key');
  });

  it('warns about a key that fails the shown format, naming the expected prefix', () => {
    assert.equal(keyFormatWarning('openai', 'abc123'), 'This does not look like an OpenAI key: those start with sk-');
    assert.equal(keyFormatWarning('anthropic', 'sk-proj-1'), 'This does not look like an Anthropic key: those start with sk-ant-');
    assert.equal(keyFormatWarning('gemini', 'sk-1'), 'This does not look like a Google Gemini key: those start with AIza');
  });

  it("recognises another provider's key", () => {
    assert.equal(keyFormatWarning('openai', 'sk-ant-api03-x'), 'This looks like an Anthropic key (sk-ant-…), not an OpenAI key (sk-…)');
    assert.equal(keyFormatWarning('openai', 'AIzaSy'), 'This looks like a Google Gemini key (AIza…), not an OpenAI key (sk-…)');
    assert.equal(keyFormatWarning('gemini', 'sk-ant-x'), 'This looks like an Anthropic key (sk-ant-…), not a Google Gemini key (AIza…)');
  });
});
