/**
 * The MCP manager over stdio with real servers: the reference servers (server-everything,
 * server-filesystem) run from their installed entry points, and the SDK-built fixture in its failure
 * modes (crash at start, hang, stderr flood, 50 MB result, progress, a tool that hangs).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { McpServerState } from '../../../../src/gateway/mcp/mcpManager';
import { until } from '../../../support/wait';
import { childProcessesWith, harness, packageBin, stdioServer, type Harness } from './helpers';

describe('mcp: stdio servers', function () {
  this.timeout(60_000);
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.dispose();
  });
  const make = async (...args: Parameters<typeof harness>): Promise<Harness> => {
    const h = await harness(...args);
    open.push(h);
    return h;
  };
  const running = (s: McpServerState): boolean => s.status === 'running';

  it('runs the reference server-everything: tools listed as everything__<tool>, echo answers, marked untrusted', async () => {
    const h = await make([
      {
        name: 'everything',
        enabled: true,
        transport: 'stdio',
        command: process.execPath,
        args: [packageBin('@modelcontextprotocol/server-everything'), 'stdio'],
      },
    ]);
    const state = await h.manager.start('everything');
    assert.equal(state.status, 'running', JSON.stringify(state));
    const names = h.manager.toolDefinitions().map((d) => d.name);
    assert.ok(names.includes('everything__echo'), names.join(', '));
    assert.ok(names.every((n) => /^everything__[A-Za-z0-9_-]+$/.test(n) && n.length <= 64));
    const r = await h.manager.call('everything__echo', { message: 'hello from the test' });
    assert.equal(r.isError, false, r.content);
    assert.match(r.content, /hello from the test/);
    assert.match(r.content, /untrusted data/);
    assert.deepEqual(h.consentAsked, ['everything']);
  });

  it('runs the reference server-filesystem on a temp folder and reads a file through it', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-mcp-fs-')));
    fs.writeFileSync(path.join(dir, 'note.txt'), 'the quick brown fox');
    const h = await make([
      { name: 'fs', enabled: true, transport: 'stdio', command: process.execPath, args: [packageBin('@modelcontextprotocol/server-filesystem'), dir] },
    ]);
    assert.equal((await h.manager.start('fs')).status, 'running');
    const tool = h.manager.tools().find((t) => t.name === 'read_text_file' || t.name === 'read_file');
    assert.ok(
      tool,
      h.manager
        .tools()
        .map((t) => t.name)
        .join(', '),
    );
    const r = await h.manager.call(tool.qualifiedName, { path: path.join(dir, 'note.txt') });
    assert.equal(r.isError, false, r.content);
    assert.match(r.content, /the quick brown fox/);
    const outside = await h.manager.call(tool.qualifiedName, { path: '/etc/hostname' });
    assert.equal(outside.isError, true, 'the server refuses paths outside its folder');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a server that crashes at start is in Error with its exit code and stderr tail', async () => {
    const h = await make([stdioServer('crashy', 'crash')]);
    const s = await h.manager.start('crashy');
    assert.equal(s.status, 'error');
    assert.match(s.status === 'error' ? s.reason : '', /exited with code 3 during start/);
    assert.match(s.status === 'error' ? s.reason : '', /fatal: API_TOKEN is not set/);
    assert.equal(h.manager.toolDefinitions().length, 0);
    assert.match((await h.manager.call('crashy__echo', {})).content, /no MCP tool named/);
  });

  it('a server that hangs at start times out into Error with a clear message, and is stopped', async () => {
    const h = await make([stdioServer('stuck', 'hang')], { settings: { connectTimeoutMs: 1500 } });
    const s = await h.manager.start('stuck');
    assert.equal(s.status, 'error');
    assert.match(s.status === 'error' ? s.reason : '', /did not answer "initialize" within 1\.5 s/);
    assert.deepEqual(childProcessesWith('stdioServer.js'), [], 'the stuck process was killed');
  });

  it('explains spawn ENOENT (a command not on the PATH) with the fix', async () => {
    const h = await make([{ name: 'nopath', enabled: true, transport: 'stdio', command: 'npx-not-installed-here', args: ['-y', 'x'] }]);
    const s = await h.manager.start('nopath');
    assert.equal(s.status, 'error');
    const reason = s.status === 'error' ? s.reason : '';
    assert.match(reason, /"npx-not-installed-here" was not found \(spawn npx-not-installed-here ENOENT\)/);
    assert.match(reason, /absolute path/);
    assert.match(reason, /PATH=/);
  });

  it('a server flooding stderr: the log is capped, the server still works', async () => {
    const h = await make([stdioServer('loud', 'flood', { env: { MCP_TEST_FLOOD_LINES: '20000' } })]);
    assert.equal((await h.manager.start('loud')).status, 'running');
    const stderrLines = h.logger.lines.filter((l) => l.includes('[mcp] [loud]') || l.includes('stderr:')).filter((l) => l.includes('stderr:'));
    assert.ok(stderrLines.length <= 502, `${stderrLines.length} stderr lines logged`);
    assert.ok(stderrLines.length >= 100, 'the first lines are logged');
    assert.ok(h.logger.lines.some((l) => /further lines are counted, not logged/.test(l)));
    assert.equal((await h.manager.call('loud__add', { a: 2, b: 3 })).content.split('\n')[1], '5');
  });

  it('caps a 50 MB result at 1 MiB without running out of memory', async () => {
    const h = await make([stdioServer('big')]);
    assert.equal((await h.manager.start('big')).status, 'running');
    const r = await h.manager.call('big__big', { mb: 50 });
    assert.equal(r.isError, false);
    assert.ok(r.content.length < 1024 * 1024 + 500, `${r.content.length} chars`);
    assert.match(r.content, /truncated: the result had 52428800 characters; the first 1048576 are shown/);
    assert.equal(h.manager.state('big')?.status, 'running', 'the connection survives');
    assert.equal((await h.manager.call('big__echo', { text: 'after' })).content.split('\n')[1], 'after');
  });

  it('a tool that hangs: the call times out with a clear message; the server keeps running', async () => {
    const h = await make([stdioServer('slowpoke')], { settings: { requestTimeoutMs: 1000 } });
    assert.equal((await h.manager.start('slowpoke')).status, 'running');
    const r = await h.manager.call('slowpoke__hang', {});
    assert.equal(r.isError, true);
    assert.match(r.content, /did not answer within 1 s \(the request timeout/);
    assert.equal(h.manager.state('slowpoke')?.status, 'running');
  });

  it('progress notifications reset the request timeout', async () => {
    const h = await make([stdioServer('progress')], { settings: { requestTimeoutMs: 2500 } });
    assert.equal((await h.manager.start('progress')).status, 'running');
    const seen: number[] = [];
    const r = await h.manager.call('progress__slow', { ms: 6000, steps: 12 }, { onProgress: (p) => seen.push(p.progress) });
    assert.equal(r.isError, false, r.content);
    assert.match(r.content, /waited 6000 ms/);
    // The last notification may race the result (the SDK drops progress that arrives after it).
    assert.ok(seen.length >= 6, `progress seen: ${seen.join(',')}`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
  });

  it('summarises images and passes isError results through', async () => {
    const h = await make([stdioServer('pics')]);
    await h.manager.start('pics');
    const pic = await h.manager.call('pics__picture', {});
    assert.match(pic.content, /a red dot\n\[image: image\/png, \d+ bytes; not shown\]/);
    assert.doesNotMatch(pic.content, /iVBOR/);
    const fail = await h.manager.call('pics__fail', {});
    assert.equal(fail.isError, true);
    assert.match(fail.content, /it failed on purpose/);
  });

  it('a server that dies while running goes to Error and its tools disappear', async () => {
    const h = await make([stdioServer('mortal')]);
    await h.manager.start('mortal');
    assert.ok(h.manager.isMcpTool('mortal__echo'));
    const [pid] = childProcessesWith('stdioServer.js');
    assert.ok(pid, 'the server process is a child of this process');
    process.kill(pid, 'SIGKILL');
    const s = await until(h.manager.onDidChange, () => (h.manager.state('mortal')?.status === 'error' ? h.manager.state('mortal') : undefined));
    assert.match(s!.status === 'error' ? s!.reason : '', /was killed by SIGKILL while running/);
    assert.equal(h.manager.isMcpTool('mortal__echo'), false);
    assert.equal(running(h.manager.state('mortal')!), false);
  });
});
