/**
 * The headless editor port's file listing (what `list_files` sees): `.gitignore` outside a git
 * repository, VS Code's default `files.exclude` and the folder's own from `.vscode/settings.json`
 * (JSON with comments; `false` switches a default off); a settings file that does not parse leaves
 * the defaults in force.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../../src/gateway/agent/nodeWorkspace';

describe('NodeWorkspace listing: .gitignore and files.exclude', () => {
  let root: string;
  let port: NodeWorkspace | undefined;
  const write = (rel: string, text = 'x'): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  const list = async (dir = root): Promise<string[]> => {
    port = new NodeWorkspace({ folders: [root] });
    const r = await port.list({ dir, recursive: true, maxResults: 1000 });
    return r.paths.map((p) => path.relative(root, p).split(path.sep).join('/')).sort();
  };

  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-nodews-')));
    write('src/a.ts');
    write('src/gen/out.js');
    write('build/app.js');
    write('.svn/entries');
    write('notes.log');
    write('.gitignore', 'build/\n*.log\n');
  });
  afterEach(() => {
    port?.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("honours .gitignore and VS Code's default files.exclude", async () => {
    assert.deepEqual(await list(), ['.gitignore', 'src/a.ts', 'src/gen/out.js']);
  });

  it("honours the folder's files.exclude (comments, a folder glob, a default switched off), also when listing a subfolder", async () => {
    write('.vscode/settings.json', '{\n  // generated code\n  "files.exclude": { "**/gen": true, "**/.svn": false },\n}\n');
    assert.deepEqual(await list(), ['.gitignore', '.svn/entries', '.vscode/settings.json', 'src/a.ts']);
    assert.deepEqual(await list(path.join(root, 'src')), ['src/a.ts']);
  });

  it('keeps the defaults when the settings file does not parse', async () => {
    write('.vscode/settings.json', '{ "files.exclude": { "**/gen": true ');
    assert.deepEqual(await list(), ['.gitignore', '.vscode/settings.json', 'src/a.ts', 'src/gen/out.js']);
  });
});
