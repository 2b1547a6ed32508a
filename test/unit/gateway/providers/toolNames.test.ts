/** Tool names made legal per provider and mapped back; call ids; tool-call arguments parsed without throwing. */
import assert from 'node:assert/strict';
import {
  ANTHROPIC_CALL_IDS,
  argumentsFromValue,
  GEMINI_TOOL_NAMES,
  legalName,
  mintCallId,
  OPENAI_CALL_IDS,
  OPENAI_TOOL_NAMES,
  parseToolArguments,
  ToolNameMap,
} from '../../../../src/gateway/providers/toolNames';

describe('tool names and arguments', () => {
  it('keeps a legal name as is, and rewrites characters a provider refuses', () => {
    assert.equal(legalName('read_file', OPENAI_TOOL_NAMES), 'read_file');
    assert.equal(legalName('github__create-issue', GEMINI_TOOL_NAMES), 'github__create-issue');
    assert.equal(legalName('github.create issue', OPENAI_TOOL_NAMES), 'github_create_issue');
    assert.equal(legalName('outil/éditer', OPENAI_TOOL_NAMES), 'outil__diter');
    assert.equal(legalName('', OPENAI_TOOL_NAMES), 'tool');
  });

  it('makes a Gemini name start with a letter or an underscore', () => {
    assert.equal(legalName('3d_render', GEMINI_TOOL_NAMES), '_3d_render');
    assert.equal(legalName('-x', GEMINI_TOOL_NAMES), '_-x');
    assert.equal(legalName('3d_render', OPENAI_TOOL_NAMES), '3d_render', 'OpenAI has no such rule');
  });

  it('cuts a long name to the limit with a hash suffix, so two long names sharing a prefix stay apart', () => {
    const prefix = 'mcp__a_server_with_a_remarkably_long_name__and_a_tool_called_';
    const a = legalName(`${prefix}alpha`, OPENAI_TOOL_NAMES);
    const b = legalName(`${prefix}bravo`, OPENAI_TOOL_NAMES);
    assert.equal(a.length, 64);
    assert.equal(legalName(`${prefix}alpha`, GEMINI_TOOL_NAMES).length, 63);
    assert.notEqual(a, b);
    assert.match(a, /^mcp__a_server.*_[0-9a-f]{8}$/);
    assert.equal(legalName(`${prefix}alpha`, OPENAI_TOOL_NAMES), a, 'deterministic');
  });

  it('maps our names to wire names and back, tells colliding names apart, and passes unknown names through', () => {
    const map = new ToolNameMap(['a.b', 'a_b', 'read_file', 'a.b'], OPENAI_TOOL_NAMES);
    const [x, y] = [map.toWire('a.b'), map.toWire('a_b')];
    assert.equal(x, 'a_b');
    assert.match(y, /^a_b_[0-9a-f]{8}$/);
    assert.equal(map.fromWire(x), 'a.b');
    assert.equal(map.fromWire(y), 'a_b');
    assert.equal(map.toWire('read_file'), 'read_file');
    assert.equal(map.fromWire('hallucinated'), 'hallucinated');
    assert.equal(map.toWire('not offered.now'), 'not_offered_now', 'history names outside the list are still made legal');
  });

  it('makes call ids legal: OpenAI at most 40 characters, Anthropic letters, digits, _ and -', () => {
    assert.equal(legalName('call_abc', OPENAI_CALL_IDS), 'call_abc');
    const long = `call_${'x'.repeat(60)}`;
    assert.equal(legalName(long, OPENAI_CALL_IDS).length, 40);
    assert.equal(legalName('toolu_01AbC-d_e', ANTHROPIC_CALL_IDS), 'toolu_01AbC-d_e');
    assert.equal(legalName('call:1/2', ANTHROPIC_CALL_IDS), 'call_1_2');
    const minted = new Set(Array.from({ length: 200 }, () => mintCallId()));
    assert.equal(minted.size, 200);
    for (const id of minted) assert.match(id, /^call_[A-Za-z0-9_-]{16}$/);
  });

  it('parses arguments: none is {}, bad JSON and non-objects become invalidArguments with the raw text', () => {
    assert.deepEqual(parseToolArguments(''), { arguments: {} });
    assert.deepEqual(parseToolArguments('  '), { arguments: {} });
    assert.deepEqual(parseToolArguments('{"a":[1,{"b":null}]}'), { arguments: { a: [1, { b: null }] } });
    const cut = parseToolArguments('{"a": "unterminated', 'the reply hit the output token limit');
    assert.deepEqual(cut.arguments, {});
    assert.equal(cut.invalidArguments?.raw, '{"a": "unterminated');
    assert.match(cut.invalidArguments?.error ?? '', /not valid JSON .*; the reply hit the output token limit/);
    assert.match(parseToolArguments('42').invalidArguments?.error ?? '', /not number/);
    assert.match(parseToolArguments('"text"').invalidArguments?.error ?? '', /not string/);
    assert.deepEqual(parseToolArguments('null'), { arguments: {} });
    const huge = parseToolArguments(`{"x": "${'y'.repeat(10_000)}`);
    assert.ok((huge.invalidArguments?.raw.length ?? 0) <= 4_001, 'the raw text is capped');
    assert.match(argumentsFromValue([1]).invalidArguments?.error ?? '', /not an array/);
    assert.deepEqual(argumentsFromValue({ k: 1 }), { arguments: { k: 1 } });
  });
});
