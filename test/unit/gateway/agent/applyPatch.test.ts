import assert from 'node:assert/strict';
import { applyPatchToText, parsePatch, type PatchFile, type PatchHunk } from '../../../../src/gateway/agent/applyPatch';

const parse = (text: string): PatchFile[] => {
  const r = parsePatch(text);
  if (!r.ok) assert.fail(r.error);
  return r.files;
};
const hunksOf = (text: string): PatchHunk[] => {
  const [file] = parse(text);
  assert.equal(file.kind, 'update');
  return file.kind === 'update' ? file.hunks : [];
};
const apply = (original: string, patch: string): string => {
  const r = applyPatchToText(original, hunksOf(patch));
  if (!r.ok) assert.fail(r.error);
  return r.text;
};
const patch = (path: string, ...body: string[]): string => ['*** Begin Patch', `*** Update File: ${path}`, ...body, '*** End Patch'].join('\n');

const PY = ['class A:', '    def f(self):', '        return 1', '', 'class B:', '    def f(self):', '        return 1', ''].join('\n');

describe('parsePatch (V4A)', () => {
  it('parses add, delete, update with a move, anchors and end of file', () => {
    const files = parse(
      [
        '*** Begin Patch',
        '*** Add File: docs/new.md',
        '+# New',
        '+',
        '+text',
        '*** Delete File: old.txt',
        '*** Update File: src/a.py',
        '*** Move to: src/b.py',
        '@@ class B:',
        '@@     def f(self):',
        '-        return 1',
        '+        return 2',
        '@@',
        ' last',
        '+appended',
        '*** End of File',
        '*** End Patch',
      ].join('\n'),
    );
    assert.deepEqual(files[0], { kind: 'add', path: 'docs/new.md', text: '# New\n\ntext\n' });
    assert.deepEqual(files[1], { kind: 'delete', path: 'old.txt' });
    assert.deepEqual(files[2], {
      kind: 'update',
      path: 'src/a.py',
      moveTo: 'src/b.py',
      hunks: [
        {
          anchors: ['class B:', '    def f(self):'],
          lines: [
            { op: '-', text: '        return 1' },
            { op: '+', text: '        return 2' },
          ],
        },
        {
          anchors: [],
          lines: [
            { op: ' ', text: 'last' },
            { op: '+', text: 'appended' },
          ],
          endOfFile: true,
        },
      ],
    });
  });

  it('accepts CRLF, a code fence around it, and empty context lines without their space', () => {
    const files = parse('```\r\n*** Begin Patch\r\n*** Update File: a.txt\r\n x\r\n\r\n-y\r\n+z\r\n*** End Patch\r\n```\r\n');
    assert.equal(files[0].kind === 'update' && files[0].hunks[0].lines.length, 4);
  });

  it('refuses malformed patches with the line', () => {
    const bad = (text: string, re: RegExp) => {
      const r = parsePatch(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, re);
    };
    bad('*** Update File: a\n-x\n*** End Patch', /Begin Patch/);
    bad('*** Begin Patch\n*** Update File: a\n-x', /End Patch/);
    bad('*** Begin Patch\n*** Update File: a\n?x\n*** End Patch', /line 3: a hunk line starts with/);
    bad('*** Begin Patch\n*** Add File: a\nno plus\n*** End Patch', /line 3: every line of an added file starts with "\+"/);
    bad('*** Begin Patch\n*** Update File: a\n*** End Patch', /has no hunks/);
    bad('*** Begin Patch\n*** Update File:   \n-x\n*** End Patch', /path is empty/);
    bad('*** Begin Patch\ngarbage\n*** End Patch', /expected "\*\*\* Add File:"/);
    bad('*** Begin Patch\n*** End Patch', /changes no file/);
  });
});

describe('applyPatchToText', () => {
  it('applies a hunk with context', () => {
    assert.equal(apply('a\nb\nc\n', patch('f', ' a', '-b', '+B', ' c')), 'a\nB\nc\n');
  });

  it('refuses an ambiguous hunk without an anchor, and uses an anchor to place it', () => {
    const r = applyPatchToText(PY, hunksOf(patch('a.py', '-        return 1', '+        return 2')));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /appear 2 times, at lines 3, 7; add context lines or an "@@" anchor/);
    assert.equal(apply(PY, patch('a.py', '@@ class B:', '-        return 1', '+        return 2')), PY.slice(0, PY.lastIndexOf('return 1')) + 'return 2\n');
    assert.equal(apply(PY, patch('a.py', '@@ class B', '     def f(self):', '-        return 1', '+        return 2')).split('\n')[6], '        return 2');
  });

  it('applies several hunks in order, each searched after the previous', () => {
    const text = 'x\nmid\nx\nend\n';
    assert.equal(apply(text, patch('f', '-x', '+first', ' mid', '@@', '-x', '+second', ' end')), 'first\nmid\nsecond\nend\n');
  });

  it('falls back to whitespace-tolerant matching and re-indents', () => {
    const file = 'def f():\n\tif x:\n\t\tgo()\n';
    assert.equal(apply(file, patch('f', ' if x:', '-    go()', '+    go()', '+    stop()')), 'def f():\n\tif x:\n\t\tgo()\n\t\tstop()\n');
  });

  it('inserts pure additions after an anchor, or at the end of the file', () => {
    assert.equal(apply('a\nb\n', patch('f', '@@ a', '+inserted')), 'a\ninserted\nb\n');
    assert.equal(apply('a\nb\n', patch('f', '+tail')), 'a\nb\ntail\n');
    assert.equal(apply('a\nb', patch('f', '+tail')), 'a\nb\ntail');
  });

  it('anchors a hunk at the end of the file', () => {
    const text = 'x\ny\nx\n';
    assert.equal(apply(text, patch('f', '-x', '+z', '*** End of File')), 'x\ny\nz\n');
  });

  it('explains a stale hunk with the current text', () => {
    const r = applyPatchToText('one\ntwo\nthree\n', hunksOf(patch('f', ' one', '-TWO', '+2')));
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.error, /not found/);
      assert.match(r.error, /1 \| one/);
    }
    const a = applyPatchToText('one\n', hunksOf(patch('f', '@@ nowhere', '-one', '+1')));
    assert.equal(a.ok, false);
    if (!a.ok) assert.match(a.error, /the anchor "@@ nowhere" was not found/);
  });

  it('is all or nothing, keeps CRLF and never empties a file silently', () => {
    const r = applyPatchToText('a\nb\n', hunksOf(patch('f', '-a', '+A', '@@', '-missing', '+x')));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /^hunk 2 of 2: .*No hunk was applied\.$/s);
    assert.equal(apply('a\r\nb\r\n', patch('f', ' a', '+new', ' b')), 'a\r\nnew\r\nb\r\n');
    assert.equal(apply('\uFEFFa\nb\n', patch('f', '-a', '+A', ' b')), '\uFEFFA\nb\n');
    const e = applyPatchToText('a\nb\n', hunksOf(patch('f', '-a', '-b')));
    assert.equal(e.ok, false);
    if (!e.ok) assert.match(e.error, /Delete File/);
  });
});
