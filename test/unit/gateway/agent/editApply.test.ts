import assert from 'node:assert/strict';
import { applyEdits, diffStat, excerpt, type EditResult } from '../../../../src/gateway/agent/editApply';

const ok = (r: EditResult): Extract<EditResult, { ok: true }> => {
  if (!r.ok) assert.fail(`expected success, got: ${r.error}`);
  return r;
};
const err = (r: EditResult): string => {
  if (r.ok) assert.fail(`expected an error, got: ${JSON.stringify(r.text.slice(0, 200))}`);
  return r.error;
};

const SRC = ['function a() {', '  return 1;', '}', '', 'function b() {', '  return 2;', '}', ''].join('\n');

describe('applyEdits', () => {
  it('replaces a unique exact match and reports its line', () => {
    const r = ok(applyEdits(SRC, [{ oldText: '  return 2;', newText: '  return 3;' }]));
    assert.equal(r.text, SRC.replace('return 2', 'return 3'));
    assert.deepEqual(r.applied, [{ index: 0, line: 6, mode: 'exact' }]);
  });

  it('refuses an ambiguous match, naming every line', () => {
    const text = 'x = 1;\ny = 2;\nx = 1;\nz = 3;\nx = 1;\n';
    const e = err(applyEdits(text, [{ oldText: 'x = 1;', newText: 'x = 9;' }]));
    assert.match(e, /appears 3 times, at lines 1, 3, 5; add context or set replace_all/);
  });

  it('replaces every match with replaceAll', () => {
    const r = ok(applyEdits('a-b-a-c-a', [{ oldText: 'a', newText: 'X', replaceAll: true }]));
    assert.equal(r.text, 'X-b-X-c-X');
    assert.equal(r.applied[0].line, 1);
  });

  it('explains a miss with the closest current text, numbered, never the whole file', () => {
    const big = Array.from({ length: 2000 }, (_, i) => `line ${i + 1} of the file`).join('\n');
    const stale = 'line 1000 of the file\nline 1001 CHANGED\nline 1002 of the file';
    const e = err(applyEdits(big, [{ oldText: stale, newText: 'new' }]));
    assert.match(e, /not found/);
    assert.match(e, /closest text is at line 1000 \(2 of 3 lines equal\)/);
    assert.match(e, /1001 \| line 1001 of the file/);
    assert.ok(e.length < 1500, `error too long: ${e.length}`);
    assert.doesNotMatch(e, /line 1 of the file/);
  });

  it('finds the closest line by similarity when no line is equal', () => {
    const e = err(applyEdits(SRC, [{ oldText: 'function bb() {', newText: 'x' }]));
    assert.match(e, /closest text is at line 5 \(no line equal\)/);
    assert.match(e, /5 \| function b\(\) \{/);
  });

  it('applies several edits in order to the evolving text, all or nothing', () => {
    const r = ok(
      applyEdits(SRC, [
        { oldText: 'return 1;', newText: 'return 10;' },
        { oldText: 'return 10;', newText: 'return 100;' },
        { oldText: 'function b', newText: 'function c' },
      ]),
    );
    assert.equal(r.text, SRC.replace('return 1;', 'return 100;').replace('function b', 'function c'));
    assert.deepEqual(
      r.applied.map((a) => a.index),
      [0, 1, 2],
    );
    const e = err(
      applyEdits(SRC, [
        { oldText: 'return 1;', newText: 'return 10;' },
        { oldText: 'return 1;', newText: 'again' },
      ]),
    );
    assert.match(e, /^edit 2 of 2: .*not found/s);
    assert.match(e, /No edit was applied\.$/);
  });

  it('falls back to a whitespace-tolerant match and re-indents the new text', () => {
    const file = 'class A {\n    method() {\n        if (x) {\n            go();\n        }\n    }\n}\n';
    const r = ok(applyEdits(file, [{ oldText: 'if (x) {\n    go();\n}', newText: 'if (x) {\n    go();\n    stop();\n}' }]));
    assert.equal(r.text, 'class A {\n    method() {\n        if (x) {\n            go();\n            stop();\n        }\n    }\n}\n');
    assert.deepEqual(r.applied, [{ index: 0, line: 3, mode: 'whitespace' }]);
  });

  it('tolerates trailing spaces and an over-indented old text (shift left); unchanged lines stay as they were', () => {
    const file = 'a:\n  b: 1   \n  c: 2\nd: 3\n';
    const r = ok(applyEdits(file, [{ oldText: '      b: 1\n      c: 2\n', newText: '      b: 1\n      c: 20\n        e: 5\n' }]));
    assert.equal(r.text, 'a:\n  b: 1   \n  c: 20\n    e: 5\nd: 3\n');
  });

  it('re-indents each new line against the old line it replaces, even when the file is indented unevenly', () => {
    const file = 'if (a) {\n\tone();\n        two();\n}\n';
    const r = ok(applyEdits(file, [{ oldText: 'one();\ntwo();', newText: 'one();\n  twoAndHalf();\ntwo();\nthree();' }]));
    assert.equal(r.text, 'if (a) {\n\tone();\n\t  twoAndHalf();\n        two();\n        three();\n}\n');
  });

  it('the tolerant match must be unique too', () => {
    const file = 'if (a) {\n  f();\n}\nif (a) {\n    f();\n}\n';
    assert.match(err(applyEdits(file, [{ oldText: 'if (a) {\n f();\n}', newText: 'x' }])), /appears 2 times, at lines 1, 4/);
  });

  it('a tolerant deletion removes the lines', () => {
    const r = ok(applyEdits('keep\n    drop me\nkeep too\n', [{ oldText: 'drop me   \n', newText: '' }]));
    assert.equal(r.text, 'keep\nkeep too\n');
  });

  it('keeps CRLF line endings', () => {
    const file = 'one\r\ntwo\r\nthree\r\n';
    const r = ok(applyEdits(file, [{ oldText: 'two\nthree', newText: 'TWO\nand a half\nthree' }]));
    assert.equal(r.text, 'one\r\nTWO\r\nand a half\r\nthree\r\n');
    const t = ok(applyEdits('  a\r\n  b\r\n', [{ oldText: 'a\nb', newText: 'a\nx\nb' }]));
    assert.equal(t.text, '  a\r\n  x\r\n  b\r\n');
    assert.equal(t.applied[0].mode, 'whitespace');
  });

  it('keeps a byte-order mark when a tolerant match replaces the first line', () => {
    const r = ok(applyEdits('\uFEFF  first\nsecond\n', [{ oldText: 'first  \nsecond', newText: 'FIRST\nsecond' }]));
    assert.equal(r.text, '\uFEFF  FIRST\nsecond\n');
  });

  it('handles unicode (astral characters, combining marks, RTL)', () => {
    const file = 'const s = "héllo 👋🏽";\nconst t = "שלום";\n';
    const r = ok(applyEdits(file, [{ oldText: '"héllo 👋🏽"', newText: '"e\u0301 🚀"' }]));
    assert.equal(r.text, 'const s = "e\u0301 🚀";\nconst t = "שלום";\n');
    assert.equal(ok(applyEdits(file, [{ oldText: 'שלום', newText: 'مرحبا' }])).applied[0].line, 2);
  });

  it('refuses empty and no-op edits', () => {
    assert.match(err(applyEdits(SRC, [{ oldText: '', newText: 'x' }])), /old_text is empty; to create a file use write_file/);
    assert.match(err(applyEdits(SRC, [{ oldText: 'return 1;', newText: 'return 1;' }])), /the same/);
    assert.match(err(applyEdits(SRC, [])), /no edits/);
    assert.match(err(applyEdits(SRC, [{ oldText: '   \n  ', newText: 'x' }])), /only whitespace/);
  });

  it('never empties a file unless the old text was the whole file', () => {
    const file = 'a\nb\n';
    assert.equal(ok(applyEdits(file, [{ oldText: file, newText: '' }])).text, '');
    const e = err(
      applyEdits(file, [
        { oldText: 'a\n', newText: '' },
        { oldText: 'b\n', newText: '' },
      ]),
    );
    assert.match(e, /leave the file empty/);
  });

  it('stays fast on a huge file (sanity, no timing assert)', () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `    value_${i} = compute(${i}); // ${'x'.repeat(i % 40)}`);
    const file = lines.join('\n') + '\n';
    const r = ok(applyEdits(file, [{ oldText: lines[15_000], newText: '    replaced();' }]));
    assert.equal(r.applied[0].line, 15_001);
    const tolerant = ok(applyEdits(file, [{ oldText: lines[20_000].trim() + '\n' + lines[20_001].trim(), newText: 'a();\nb();' }]));
    assert.equal(tolerant.text.split('\n')[20_000], '    a();');
    assert.match(err(applyEdits(file, [{ oldText: 'not there at all\nnor this', newText: 'x' }])), /not found/);
    const rep = ok(applyEdits(file, [{ oldText: 'compute', newText: 'calc', replaceAll: true }]));
    assert.equal(rep.text.split('calc(').length - 1, 30_000);
  });
});

describe('diffStat and excerpt', () => {
  it('counts added and removed lines', () => {
    assert.deepEqual(diffStat('a\nb\nc\n', 'a\nB\nc\nd\n'), { added: 2, removed: 1 });
    assert.deepEqual(diffStat('', 'x\ny\n'), { added: 2, removed: 0 });
    assert.deepEqual(diffStat('x\ny', ''), { added: 0, removed: 2 });
    assert.deepEqual(diffStat('same\r\n', 'same\n'), { added: 0, removed: 0 });
    assert.deepEqual(diffStat('a\nb\nc\nd\n', 'c\nd\na\nb\n'), { added: 2, removed: 2 });
  });

  it('is exact on a 10k-line file with scattered changes, and bounded on a total rewrite', () => {
    const before = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
    const after = before.filter((_, i) => i % 100 !== 0).map((l, i) => (i % 250 === 0 ? l + ' changed' : l));
    after.splice(5000, 0, 'inserted 1', 'inserted 2');
    const removed = 100 + Math.ceil(after.length / 250);
    const s = diffStat(before.join('\n'), after.join('\n'));
    assert.equal(s.removed, removed);
    assert.equal(s.added, removed - 100 + 2);
    const rewrite = diffStat(before.join('\n'), before.map((l) => l + '!').join('\n'));
    assert.deepEqual(rewrite, { added: 10_000, removed: 10_000 });
  });

  it('excerpt numbers lines around the given one', () => {
    const text = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\r\n');
    assert.equal(excerpt(text, 10, 1), ' 9 | l9\n10 | l10\n11 | l11');
    assert.equal(excerpt(text, 1, 1), '1 | l1\n2 | l2');
    assert.equal(excerpt('x'.repeat(300), 1, 0), `1 | ${'x'.repeat(200)}…`);
  });
});
