import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { call, sessionToken, startTestServer, WsClient } from '../../support/server';

const MAIN = path.resolve(__dirname, '../../../src/server/main.js');

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('server admin CLI and --demo', function () {
  this.timeout(30_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a user, a workspace, members, an invite and a task, and lists members', async () => {
    const d = ['--data-dir', dir];
    const u1 = await cli(['admin', 'create-user', ...d, '--email', 'ada@example.test', '--name', 'Ada'], { MULTICLAW_PASSWORD: 'ada-password-1' });
    assert.equal(u1.code, 0, u1.stderr);
    assert.ok(!u1.stdout.includes('ada-password-1'), 'a password from the environment is not echoed');
    const u2 = await cli(['admin', 'create-user', ...d, '--email', 'bob@example.test', '--name', 'Bob']);
    const generated = (JSON.parse(u2.stdout) as { password: string }).password;
    assert.ok(generated.length >= 12, 'a generated password is printed once');
    const ws = await cli(['admin', 'create-workspace', ...d, '--slug', 'acme', '--name', 'Acme', '--owner', 'ada@example.test']);
    assert.equal(ws.code, 0, ws.stderr);
    assert.equal((await cli(['admin', 'add-member', ...d, '--workspace', 'acme', '--email', 'bob@example.test', '--role', 'member'])).code, 0);
    const inv = await cli(['admin', 'invite', ...d, '--workspace', 'acme', '--role', 'viewer']);
    assert.match((JSON.parse(inv.stdout) as { token: string }).token, /^mcinv_/);
    const task = await cli([
      'admin',
      'create-task',
      ...d,
      '--workspace',
      'acme',
      '--title',
      'Ship it',
      '--prompt',
      'Release v1',
      '--assignee-email',
      'bob@example.test',
    ]);
    assert.equal((JSON.parse(task.stdout) as { status: string }).status, 'assigned');
    const members = await cli(['admin', 'members', ...d, '--workspace', 'acme']);
    const rows = members.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      rows.map((r) => [r[1].trim(), r[2]]),
      [
        ['owner', 'ada@example.test'],
        ['member', 'bob@example.test'],
      ],
    );
    const dup = await cli(['admin', 'create-workspace', ...d, '--slug', 'acme', '--name', 'Again', '--owner', 'bob@example.test']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /conflict: the slug "acme" is taken/);
    const unknown = await cli(['admin', 'frobnicate', ...d]);
    assert.equal(unknown.code, 2);
  });

  it('pushes changes made by the CLI to clients of a running server', async () => {
    const ts = await startTestServer({ dataDir: dir, env: process.env, databaseUrl: undefined }); // the CLI writes the SQLite file
    try {
      const login = await call<{ session: { token: string }; workspaces: Array<{ id: string }> }>(ts.url, 'POST', '/v1/auth/login', {
        body: { email: 'ada@example.test', password: 'ada-password-1' },
      });
      const wid = login.body.workspaces[0].id;
      const { client } = await WsClient.ready(ts.wsUrl, await sessionToken(ts, login.body.session.token, wid));
      const out = await cli(['admin', 'create-task', '--data-dir', dir, '--workspace', 'acme', '--title', 'From the CLI', '--prompt', 'p']);
      assert.equal(out.code, 0, out.stderr);
      const ev = await client.next((f) => f.type === 'event' && f.name === 'task.created', 10_000);
      assert.equal((ev.data as { task: { title: string } }).task.title, 'From the CLI');
      client.close();
    } finally {
      await ts.server.close();
    }
  });

  it('--demo seeds a workspace with a task for the Owner, prints how to sign in from VS Code, and keeps its data out of the current folder', async () => {
    const cwd = path.join(dir, 'repo');
    const cache = path.join(dir, 'cache');
    fs.mkdirSync(cwd);
    const child = spawn(process.execPath, [MAIN, '--demo', '--port', '0'], {
      cwd,
      env: { ...process.env, XDG_CACHE_HOME: cache },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines: string[] = [];
      const rl = readline.createInterface({ input: child.stdout });
      await new Promise<void>((resolve) => rl.on('line', (l) => (lines.push(l), l.startsWith('  curl -s http') && resolve())));
      const text = lines.join('\n');
      const url = /URL:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const owner = /owner\s+(\S+)\s+password: (\S+)/.exec(text);
      assert.ok(url && owner, text);
      // How to sign in from VS Code: the URL setting, the command, the Owner's email and password.
      assert.ok(text.includes(`"multiclaw.workspace.url" to ${url}`), text);
      assert.match(text, /MultiClaw: Sign In/);
      assert.ok(text.includes(`Email ${owner[1]}, password ${owner[2]}`), text);
      // The data folder is in the cache, not in the folder the server was started from.
      assert.deepEqual(fs.readdirSync(cwd), []);
      assert.ok(fs.existsSync(path.join(cache, 'multiclaw', 'demo-server')), 'the demo data in $XDG_CACHE_HOME/multiclaw/demo-server');
      assert.ok(text.includes(path.join(cache, 'multiclaw', 'demo-server')), 'the output says where the data is');
      const login = await call<{ workspaces: Array<{ slug: string; role: string }>; session: { token: string }; user: { id: string } }>(
        url,
        'POST',
        '/v1/auth/login',
        {
          body: { email: owner[1], password: owner[2] },
        },
      );
      assert.equal(login.status, 200);
      assert.deepEqual(
        login.body.workspaces.map((w) => [w.slug, w.role]),
        [['demo', 'owner']],
      );
      const token = login.body.session.token;
      const wid = (await call<{ workspaces: Array<{ id: string }> }>(url, 'GET', '/v1/workspaces', { token })).body.workspaces[0].id;
      const tasks = await call<{ tasks: Array<{ title: string; assignee: { type: string; memberId?: string } | null }> }>(
        url,
        'GET',
        `/v1/workspaces/${wid}/tasks`,
        {
          token,
        },
      );
      assert.equal(tasks.body.tasks.length, 3);
      const members = await call<{ members: Array<{ id: string; userId: string }> }>(url, 'GET', `/v1/workspaces/${wid}/members`, { token });
      const me = members.body.members.find((m) => m.userId === login.body.user.id)?.id;
      assert.ok(me);
      assert.deepEqual(
        tasks.body.tasks.filter((t) => t.assignee?.type === 'member' && t.assignee.memberId === me).map((t) => t.title),
        ['Plan the first sprint'],
        'the Owner sees a task assigned to them',
      );
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(child.exitCode, 0);
  });
});
