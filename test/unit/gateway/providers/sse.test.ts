/** The incremental SSE parser: framing edge cases and chunks split at every byte offset. */
import assert from 'node:assert/strict';
import { parseSse, SseParser, type SseEvent } from '../../../../src/gateway/providers/sse';
import { anthropicDialect, geminiDialect, openAiDialect, type Dialect } from '../../../fixtures/providerServerDialects';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (...parts: string[]): SseEvent[] => parseSse(parts.map(enc)).events;
const pick = (events: SseEvent[]): Array<[string, string]> => events.map((e) => [e.type, e.data]);

/** A realistic stream in a provider's framing, with multi-byte text (split points land inside UTF-8 sequences). */
function sampleStream(d: Dialect): string {
  const usage = { input: 5, output: 7 };
  return d.start(usage) + ['Héllo ', '👋🏽 wörld', ' 日本語', '\n```ts\nx\n```'].map((t) => d.delta(t, usage)).join('') + d.finish('stop', usage);
}

describe('SseParser', () => {
  it('parses events with LF, CRLF and CR line ends alike', () => {
    const expected: Array<[string, string]> = [
      ['message', 'a'],
      ['ping', 'b'],
    ];
    assert.deepEqual(pick(parse('data: a\n\nevent: ping\ndata: b\n\n')), expected);
    assert.deepEqual(pick(parse('data: a\r\n\r\nevent: ping\r\ndata: b\r\n\r\n')), expected);
    assert.deepEqual(pick(parse('data: a\r\revent: ping\rdata: b\r\r')), expected);
    assert.deepEqual(pick(parse('data: a\r\n\nevent: ping\rdata: b\n\r')), expected);
  });

  it('joins multi-line data with LF, keeps inner spaces, strips only one leading space', () => {
    const [e] = parse('data: line one\ndata:line two\ndata:   indented\n\n');
    assert.equal(e?.data, 'line one\nline two\n  indented');
  });

  it('ignores comments and unknown fields; a field without colon has an empty value', () => {
    const events = parse(': keep-alive\n\nfoo: bar\ndata\n\n: comment\ndata: x\n\n');
    assert.deepEqual(pick(events), [
      ['message', ''],
      ['message', 'x'],
    ]);
  });

  it('does not dispatch a block without data, and resets its event type', () => {
    const events = parse('event: lonely\n\ndata: after\n\n');
    assert.deepEqual(pick(events), [['message', 'after']]);
  });

  it('keeps the last event id across events and reads retry', () => {
    const events = parse('id: 7\ndata: a\n\ndata: b\n\nid: 8\nretry: 1500\ndata: c\n\nid: bad\0id\ndata: d\n\n');
    assert.deepEqual(
      events.map((e) => e.id),
      ['7', '7', '8', '8'],
    );
    assert.equal(events[2]?.retry, 1500);
    assert.equal(events[0]?.retry, undefined);
  });

  it('drops a leading BOM', () => {
    assert.deepEqual(pick(parseSse([new Uint8Array([0xef, 0xbb, 0xbf]), enc('data: x\n\n')]).events), [['message', 'x']]);
  });

  it('does not dispatch a final event without its blank line, and reports it as incomplete', () => {
    const { events, end } = parseSse([enc('data: a\n\ndata: [DONE]')]);
    assert.deepEqual(pick(events), [['message', 'a']]);
    assert.equal(end.incomplete, true);
    const complete = parseSse([enc('data: a\n\n')]);
    assert.equal(complete.end.incomplete, false);
    const fieldsOnly = parseSse([enc('data: a\n\nevent: x\n')]);
    assert.equal(fieldsOnly.end.incomplete, true);
  });

  it('treats a CR at the end of a chunk and a LF at the start of the next as one line end', () => {
    const events = parse('data: a\r', '\n\r', '\ndata: b\r\n\r\n');
    assert.deepEqual(pick(events), [
      ['message', 'a'],
      ['message', 'b'],
    ]);
  });

  it('is pull-based: push once, then take events one at a time', () => {
    const p = new SseParser();
    p.push(enc('data: 1\n\ndata: 2\n\ndata: 3'));
    assert.equal(p.next()?.data, '1');
    assert.equal(p.next()?.data, '2');
    assert.equal(p.next(), undefined);
    p.push(enc('\n\n'));
    assert.equal(p.next()?.data, '3');
    assert.equal(p.next(), undefined);
  });

  const dialects: Array<[string, Dialect]> = [
    ['OpenAI (LF)', openAiDialect('gpt-4o-mini', true)],
    ['Anthropic (event + data)', anthropicDialect('claude')],
    ['Gemini (CRLF)', geminiDialect('gemini-2.0-flash')],
  ];
  for (const [name, dialect] of dialects) {
    it(`gives the same events for a ${name} stream split at every byte offset, and byte by byte`, () => {
      const bytes = enc(sampleStream(dialect));
      const whole = parseSse([bytes]).events;
      assert.ok(whole.length >= 5, `${whole.length} events`);
      assert.ok(
        whole.some((e) => e.data.includes('👋🏽 wörld')),
        'multi-byte text survives',
      );
      for (let i = 0; i <= bytes.length; i++) {
        const split = parseSse([bytes.subarray(0, i), bytes.subarray(i)]);
        assert.deepEqual(split.events, whole, `split at byte ${i}`);
        assert.equal(split.end.incomplete, false);
      }
      const single = parseSse(Array.from(bytes, (b) => new Uint8Array([b]))).events;
      assert.deepEqual(single, whole);
    });
  }

  it('splits at every pair of offsets on a short CRLF stream with a multi-byte character', () => {
    const bytes = enc('event: a\r\ndata: é€𝄞\r\n\r\ndata: x\r\ndata: y\r\n\r\n');
    const whole = parseSse([bytes]).events;
    assert.deepEqual(pick(whole), [
      ['a', 'é€𝄞'],
      ['message', 'x\ny'],
    ]);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        assert.deepEqual(parseSse([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]).events, whole, `split at ${i}, ${j}`);
      }
    }
  });
});
