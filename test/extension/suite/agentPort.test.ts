/**
 * The editor port in a real VS Code: reads see unsaved editor text, listing honours `.gitignore` and
 * `files.exclude`, search runs VS Code's own ripgrep, diagnostics come from the language services,
 * writes are WorkspaceEdits (editor Undo restores the text), and commands run in a terminal — through
 * shell integration when the shell has it, else (and when forced) as a child process whose output a
 * Pseudoterminal shows — with their output and exit code, a timeout that ends them, background mode
 * and Stop.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { AgentTerminal, FALLBACK_TERMINAL_NAME } from '../../../src/extension/agent/terminal';
import { bundledRipgrep, VsCodeWorkspace } from '../../../src/extension/agent/vscodeWorkspace';
import { MemoryLogger } from '../../support/logger';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agent editor port (in a real VS Code)', function () {
  this.timeout(60_000);
  let root: string;
  let port: VsCodeWorkspace;
  let terminal: AgentTerminal;
  const logger = new MemoryLogger();
  const signal = (): AbortSignal => new AbortController().signal;
  const file = (rel: string, text: string): string => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };

  before(() => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test window has a workspace folder (test/extension/runTest.ts opens one)');
    root = fs.mkdtempSync(path.join(folder.uri.fsPath, 'agent-port-'));
    terminal = new AgentTerminal(logger);
    port = new VsCodeWorkspace({ terminal, logger });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('files').update('exclude', undefined, vscode.ConfigurationTarget.Global);
    port.dispose();
    terminal.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("knows the folders and trust, and finds VS Code's own ripgrep", () => {
    assert.ok(port.folders().some((f) => root.startsWith(f.path)));
    assert.equal(port.isTrusted(), vscode.workspace.isTrusted);
    const bundled = bundledRipgrep();
    assert.ok(bundled ? port.rg === bundled : port.rg === '/usr/bin/rg', `rg in use: ${port.rg}; VS Code's: ${bundled}`);
  });

  it('reads the editor buffer when the file is open with unsaved text, else the disk', async () => {
    const p = file('read/a.txt', 'on disk\n');
    assert.deepEqual(await port.read(p), { text: 'on disk\n', fromEditor: false });
    const doc = await vscode.workspace.openTextDocument(p);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'unsaved '));
    assert.deepEqual(await port.read(p), { text: 'unsaved on disk\n', fromEditor: true });
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await assert.rejects(port.read(path.join(root, 'read/missing.txt')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    const bytes = await port.readBytes(p, 3);
    assert.equal(Buffer.from(bytes).toString('utf8'), 'on ');
    assert.equal((await port.stat(p))?.type, 'file');
    assert.equal(await port.stat(path.join(root, 'nope')), undefined);
    assert.equal(await port.realpath(p), fs.realpathSync(p));
  });

  it('lists files honouring .gitignore and files.exclude, with globs and one level', async () => {
    const dir = path.join(root, 'list');
    file('list/.gitignore', 'build/\n*.log\n');
    file('list/src/a.ts', 'export const a = 1;\n');
    file('list/src/b.js', 'module.exports = 2;\n');
    file('list/build/out.js', 'ignored\n');
    file('list/debug.log', 'ignored\n');
    file('list/secret/key.txt', 'excluded\n');
    file('list/README.md', '# hi\n');
    await vscode.workspace.getConfiguration('files').update('exclude', { '**/secret': true }, vscode.ConfigurationTarget.Global);
    const all = await port.list({ dir, maxResults: 100 });
    const rel = all.paths.map((p) => path.relative(dir, p));
    assert.deepEqual(
      rel,
      ['.gitignore', 'README.md', 'src/a.ts', 'src/b.js'].map((r) => r.split('/').join(path.sep)),
    );
    assert.equal(all.truncated, false);
    const ts = await port.list({ dir, glob: '**/*.ts', maxResults: 100 });
    assert.deepEqual(ts.paths, [path.join(dir, 'src', 'a.ts')]);
    const top = await port.list({ dir, recursive: false, maxResults: 100 });
    assert.deepEqual(
      top.paths.map((p) => path.relative(dir, p) + (p.endsWith('/') ? '/' : '')),
      ['.gitignore', 'README.md', 'src/'],
    );
    const capped = await port.list({ dir, maxResults: 2 });
    assert.equal(capped.paths.length, 2);
    assert.equal(capped.truncated, true);
  });

  it('searches with ripgrep', async () => {
    file('search/src/one.ts', 'const needle = 1;\nconst other = 2;\n');
    file('search/src/two.ts', 'function needle() {}\n');
    const r = await port.search({ pattern: 'needle', paths: [path.join(root, 'search')], maxResults: 10 });
    assert.deepEqual(r.matches.map((m) => `${path.basename(m.path)}:${m.line}:${m.text}`).sort(), [
      'one.ts:1:const needle = 1;',
      'two.ts:1:function needle() {}',
    ]);
    const one = await port.search({ pattern: 'NEEDLE', caseSensitive: true, paths: [path.join(root, 'search')], maxResults: 10 });
    assert.equal(one.matches.length, 0);
  });

  it('reports diagnostics', async () => {
    const p = file('diag/x.ts', 'let x = ;\n');
    const collection = vscode.languages.createDiagnosticCollection('multiclaw-test');
    collection.set(vscode.Uri.file(p), [new vscode.Diagnostic(new vscode.Range(0, 8, 0, 9), 'Expression expected.', vscode.DiagnosticSeverity.Error)]);
    try {
      const d = await port.diagnostics(p);
      assert.deepEqual(
        d.map((x) => ({ line: x.line, column: x.column, severity: x.severity, message: x.message })),
        [{ line: 1, column: 9, severity: 'error', message: 'Expression expected.' }],
      );
      assert.ok((await port.diagnostics()).some((x) => x.path === p));
    } finally {
      collection.dispose();
    }
  });

  it('writes through a WorkspaceEdit and saves: editor Undo restores the previous text', async () => {
    const p = file('write/a.ts', 'const a = 1;\n');
    const doc = await vscode.workspace.openTextDocument(p);
    await vscode.window.showTextDocument(doc);
    await port.write(p, 'const a = 2;\nconst b = 3;\n', { label: 'MultiClaw: edit a.ts' });
    assert.equal(fs.readFileSync(p, 'utf8'), 'const a = 2;\nconst b = 3;\n');
    assert.equal(doc.isDirty, false, 'saved');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), 'const a = 1;\n', 'Undo restores the text before the agent edit');
    await doc.save();
    assert.equal(fs.readFileSync(p, 'utf8'), 'const a = 1;\n');

    const created = path.join(root, 'write', 'new', 'b.ts');
    await port.write(created, 'export {};\n', { create: true, label: 'MultiClaw: create b.ts' });
    assert.equal(fs.readFileSync(created, 'utf8'), 'export {};\n');
    await assert.rejects(port.write(created, 'again', { create: true, label: 'x' }), /already exists/);
    await assert.rejects(port.write(path.join(root, 'write', 'missing.ts'), 'x', { label: 'x' }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await port.remove(created);
    assert.equal(fs.existsSync(created), false);
  });

  it('runs a command through shell integration: output, exit code, in the "MultiClaw Agent" terminal', async function () {
    const outputs: string[] = [];
    const r = await port.runCommand({
      command: "printf 'hello from %s\\n' shell-integration; (exit 3)",
      cwd: root,
      timeoutMs: 30_000,
      background: false,
      signal: signal(),
      onOutput: (c) => outputs.push(c),
    });
    if (r.via !== 'shell-integration') {
      // This VS Code's terminal offered no shell integration for its shell: the fallback ran it (tested below).
      assert.equal(r.via, 'pseudoterminal');
      this.skip();
    }
    assert.equal(r.exitCode, 3);
    assert.equal(r.ended, 'exited');
    assert.match(r.output, /hello from shell-integration/);
    assert.match(outputs.join(''), /hello from shell-integration/);
    assert.ok(vscode.window.terminals.some((t) => t.name === 'MultiClaw Agent'));

    // The terminal is reused, in the asked-for folder; Stop interrupts a command that would not end.
    const sub = path.join(root, 'read');
    const pwd = await port.runCommand({ command: 'pwd', cwd: sub, timeoutMs: 30_000, background: false, signal: signal() });
    assert.equal(pwd.exitCode, 0);
    assert.match(pwd.output, new RegExp(path.basename(sub)));
    assert.equal(vscode.window.terminals.filter((t) => t.name === 'MultiClaw Agent').length, 1);
    const stop = new AbortController();
    const running = port.runCommand({
      command: 'sleep 600',
      cwd: root,
      timeoutMs: 120_000,
      background: false,
      signal: stop.signal,
      onStart: () => stop.abort(),
    });
    const stopped = await running;
    assert.equal(stopped.ended, 'cancelled');
    const timedOut = await port.runCommand({ command: 'sleep 600', cwd: root, timeoutMs: 500, background: false, signal: signal() });
    assert.equal(timedOut.ended, 'timeout');
  });

  it('runs a command as a child process shown in a Pseudoterminal when forced (or without shell integration)', async () => {
    const fallback = new AgentTerminal(logger, { forceFallback: true });
    try {
      const chunks: string[] = [];
      let pid: number | undefined;
      const r = await fallback.run({
        command: 'echo out; echo err >&2; exit 4',
        cwd: root,
        timeoutMs: 30_000,
        background: false,
        signal: signal(),
        onOutput: (c) => chunks.push(c),
        onStart: (i) => (pid = i.pid),
      });
      assert.equal(r.via, 'pseudoterminal');
      assert.equal(r.exitCode, 4);
      assert.equal(r.ended, 'exited');
      assert.match(r.output, /out/);
      assert.match(r.output, /err/);
      assert.ok(pid && pid > 0);
      assert.ok(
        vscode.window.terminals.some((t) => t.name === FALLBACK_TERMINAL_NAME),
        'its output is shown in a terminal',
      );

      // A command that never exits is killed at its timeout, with its whole process group.
      let sleeper: number | undefined;
      const t = await fallback.run({
        command: 'sleep 600 & wait',
        cwd: root,
        timeoutMs: 300,
        background: false,
        signal: signal(),
        onStart: (i) => (sleeper = i.pid),
      });
      assert.equal(t.ended, 'timeout');
      assert.ok(sleeper);
      assert.equal(alive(sleeper), false, 'the timed-out command is gone');

      // Background: returns at the timeout with the output so far and leaves it running; Stop ends it.
      const stop = new AbortController();
      let server: number | undefined;
      const bg = await fallback.run({
        command: 'echo started; sleep 600',
        cwd: root,
        timeoutMs: 5000,
        background: true,
        signal: stop.signal,
        onStart: (i) => (server = i.pid),
      });
      assert.equal(bg.ended, 'background');
      assert.equal(bg.exitCode, undefined);
      assert.match(bg.output, /started/);
      assert.ok(server && alive(server), 'still running');
    } finally {
      fallback.dispose();
    }
  });
});
