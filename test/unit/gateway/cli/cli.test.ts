/**
 * The `multiclaw` CLI end to end: `node dist/cli.js gateway` (headless, a temp MULTICLAW_HOME, the
 * provider fixture server's base URLs from the environment and a 0600 config file), then status,
 * agents, tasks, dispatch (--wait streams the reply; exit codes for completed, failed, cancelled and
 * Ctrl+C), cancel, refusals, configuration errors and a clean stop.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalApiClient } from '../../../../src/gateway/localApi/client';
import type { LocalEvent } from '../../../../src/protocol/localApi';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';

const root = path.resolve(__dirname, '../../../../..');
const cli = path.join(root, 'dist/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string, child: ChildProcess) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Headless {
  child: ChildProcess;
  port: number;
  discoveryFile: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Spawns the headless gateway; resolves with its first stdout line (the JSON start line). */
function startGateway(env: NodeJS.ProcessEnv): Promise<Headless> {
  const child = spawn(process.execPath, [cli, 'gateway'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      const line = JSON.parse(out.slice(0, nl)) as { port: number; discoveryFile: string };
      resolve({ child, port: line.port, discoveryFile: line.discoveryFile, exited, stderr: () => stderr });
    });
    void exited.then((code) => reject(new Error(`the gateway exited (${code}) before printing its start line: ${stderr}`)));
  });
}

describe('multiclaw CLI (end to end against a headless gateway)', function () {
  this.timeout(60_000);
  let server: ProviderServer;
  let home: string;
  let workspace: string;
  let env: NodeJS.ProcessEnv;
  let gw: Headless;

  before(async function () {
    if (!fs.existsSync(cli)) {
      const b = spawnSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
      assert.equal(b.status, 0, 'node esbuild.js');
    }
    server = await startProviderServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-home-'));
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-ws-'));
    // Keys from a 0600 config file, base URLs and the port from the environment.
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ providers: { openai: { apiKey: server.keys.openai } }, chat: { maxAttempts: 1 } }), {
      mode: 0o600,
    });
    env = {
      PATH: process.env.PATH,
      HOME: home,
      MULTICLAW_HOME: home,
      MULTICLAW_GATEWAY_PORT: '0',
      MULTICLAW_WORKSPACE: workspace,
      MULTICLAW_OPENAI_BASE_URL: server.baseUrls.openai,
      MULTICLAW_OPENAI_COMPATIBLE_BASE_URL: server.baseUrls['openai-compatible'],
    };
    gw = await startGateway(env);
  });

  after(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
    await server?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('approvals lists what an agent asks; approve allows it (the task runs in MULTICLAW_WORKSPACE); bad ids and flags are refused', async () => {
    const d = JSON.parse(fs.readFileSync(gw.discoveryFile, 'utf8')) as { port: number; token: string };
    const client = new LocalApiClient({ port: d.port, token: d.token });
    const frames: LocalEvent[] = [];
    const waiters: Array<() => void> = [];
    const events = await client.events(
      (e) => {
        frames.push(e);
        for (const w of waiters.splice(0)) w();
      },
      () => undefined,
    );
    const next = async (pred: (e: LocalEvent) => boolean): Promise<LocalEvent> => {
      for (;;) {
        const hit = frames.find(pred);
        if (hit) return hit;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    try {
      server.script([{ toolCalls: [{ name: 'run_command', arguments: { command: 'touch from-cli.txt' } }] }, { text: 'touched' }]);
      const q = await runCli(['dispatch', 'touch a file', '--agent', 'default-openai'], env);
      assert.equal(q.code, 0, q.stderr);
      const asked = await next((e) => e.type === 'approval.requested');
      const id = asked.type === 'approval.requested' ? asked.request.id : '';
      const list = await runCli(['approvals'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`${id}  run_command  Run touch from-cli.txt`));
      assert.match(list.stdout, /multiclaw approve <id>/);
      assert.equal((await runCli(['approve'], env)).code, 2);
      assert.equal((await runCli(['approve', id, '--deny', '--always'], env)).code, 2);
      const bogus = await runCli(['approve', 'no-such-approval'], env);
      assert.equal(bogus.code, 5);
      assert.match(bogus.stderr, /approval_not_found/);
      const ok = await runCli(['approve', id], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `${id} allowed\n`);
      await next((e) => e.type === 'task.updated' && e.task.status === 'completed' && e.task.result?.text === 'touched');
      assert.ok(fs.existsSync(path.join(workspace, 'from-cli.txt')), 'ran in MULTICLAW_WORKSPACE');
      const none = await runCli(['approvals', '--json'], env);
      assert.deepEqual(JSON.parse(none.stdout), []);
    } finally {
      server.reset();
      events.close();
      client.close();
    }
  });

  it('starts: one JSON line with port and discoveryFile; the discovery file is 0600 and holds port, token and pid', () => {
    assert.ok(gw.port > 0);
    assert.equal(gw.discoveryFile, path.join(home, 'local-api.json'));
    const d = JSON.parse(fs.readFileSync(gw.discoveryFile, 'utf8')) as { port: number; token: string; pid: number };
    assert.equal(d.port, gw.port);
    assert.equal(d.pid, gw.child.pid);
    assert.match(d.token, /^mcl_[A-Za-z0-9_-]{43}$/, '256 bits, base64url');
    assert.equal(fs.statSync(gw.discoveryFile).mode & 0o777, 0o600);
  });

  it('status, agents and --help', async () => {
    const s = await runCli(['status'], env);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`Local API: http://127\\.0\\.0\\.1:${gw.port}`));
    assert.match(s.stdout, /running \(headless\)/);
    const j = await runCli(['status', '--json'], env);
    assert.equal((JSON.parse(j.stdout) as { pid: number }).pid, gw.child.pid);
    const a = await runCli(['agents', '--json'], env);
    assert.deepEqual((JSON.parse(a.stdout) as Array<{ id: string }>).map((x) => x.id).sort(), ['default-openai', 'default-openai-compatible']);
    const help = await runCli(['--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:[\s\S]*3 +no running gateway/);
  });

  it('dispatch --wait streams the reply and exits 0; without --wait prints the task id; tasks lists both', async () => {
    const r = await runCli(['dispatch', 'Hello from the CLI', '--agent', 'default-openai', '--wait'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /You said: \*\*Hello from the CLI\*\*/);
    assert.match(r.stderr, /^task [0-9a-f-]{36} dispatched to default-openai/);
    const quick = await runCli(['dispatch', 'Fire and forget', '--agent', 'default-openai-compatible', '--title', 'FF'], env);
    assert.equal(quick.code, 0, quick.stderr);
    const id = quick.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const t = await runCli(['tasks', '--json'], env);
    const tasks = JSON.parse(t.stdout) as Array<{ id: string; title: string; status: string }>;
    assert.ok(tasks.some((x) => x.id === id && x.title === 'FF'));
    assert.ok(tasks.some((x) => x.title === 'Hello from the CLI' && x.status === 'completed'));
    const table = await runCli(['tasks', '--status', 'completed'], env);
    assert.match(table.stdout, /^ID +STATUS +AGENT/);
  });

  it('exit codes: failed task 6, Ctrl+C cancels the task and exits 130, cancel of a finished task 5', async () => {
    const failed = await runCli(['dispatch', 'boom #scenario:error-500', '--agent', 'default-openai', '--wait'], env);
    assert.equal(failed.code, 6, failed.stderr);
    assert.match(failed.stderr, /task failed/);

    let sent = false;
    const interrupted = await runCli(['dispatch', 'long #scenario:slow:200', '--agent', 'default-openai-compatible', '--wait'], env, (out, child) => {
      if (!sent && out.length > 0) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(interrupted.stderr, /cancelling the task/);
    const cancelled = JSON.parse((await runCli(['tasks', '--status', 'cancelled', '--json'], env)).stdout) as Array<{ id: string; title: string }>;
    const task = cancelled.find((x) => x.title.startsWith('long'));
    assert.ok(task, 'the task was cancelled');
    const again = await runCli(['cancel', task.id], env);
    assert.equal(again.code, 5);
    assert.match(again.stderr, /task_finished/);
  });

  it('exit codes: unknown agent 5, usage 2, wrong token 4, no gateway 3', async () => {
    const unknown = await runCli(['dispatch', 'x', '--agent', 'nope'], env);
    assert.equal(unknown.code, 5);
    assert.match(unknown.stderr, /Unknown agent "nope"/);
    assert.equal((await runCli(['dispatch', 'x'], env)).code, 2);
    assert.equal((await runCli(['frobnicate'], env)).code, 2);
    assert.equal((await runCli(['status', '--nope'], env)).code, 2);

    const fake = path.join(home, 'fake-discovery.json');
    fs.writeFileSync(fake, JSON.stringify({ port: gw.port, token: 'mcl_' + 'A'.repeat(43), pid: process.pid }), { mode: 0o600 });
    const wrong = await runCli(['status', '--discovery-file', fake], env);
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /not valid for this gateway session/);

    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-empty-'));
    const none = await runCli(['status'], { ...env, MULTICLAW_HOME: empty });
    assert.equal(none.code, 3);
    assert.match(none.stderr, /No running MultiClaw gateway found/);
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it('desktop: bad flags exit 2 with what to type; without enrolment credentials it exits 1 and says which are needed', async () => {
    const dhome = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-desktop-cli-'));
    const denv = { ...env, MULTICLAW_HOME: dhome };
    const noServer = await runCli(['desktop'], denv);
    assert.equal(noServer.code, 2);
    assert.match(noServer.stderr, /--server <url> or MULTICLAW_WORKSPACE_URL/);
    const size = await runCli(['desktop', '--server', 'http://127.0.0.1:9', '--size', '12x12'], denv);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /--size takes WIDTHxHEIGHT/);
    assert.equal((await runCli(['desktop', '--server', 'http://127.0.0.1:9', '--fps', '500'], denv)).code, 2);
    assert.equal((await runCli(['desktop', '--server', 'http://127.0.0.1:9', '--turn-transport', 'carrier-pigeon'], denv)).code, 2);
    const noCreds = await runCli(['desktop', '--server', 'http://127.0.0.1:9', '--port', '0'], denv);
    assert.equal(noCreds.code, 1, noCreds.stderr);
    assert.match(noCreds.stderr, /MULTICLAW_ENROLL_TOKEN/);
    assert.equal(fs.existsSync(path.join(dhome, 'desktop', 'credentials.json')), false, 'nothing enrolled');
    fs.rmSync(dhome, { recursive: true, force: true });
  });

  it('refuses a second gateway on the same MULTICLAW_HOME (9), a config file others can read (8), a weak token (8)', async () => {
    const second = await runCli(['gateway'], env);
    assert.equal(second.code, 9);
    assert.match(second.stderr, /already runs/);

    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-home2-'));
    fs.writeFileSync(path.join(other, 'config.json'), JSON.stringify({ providers: { openai: { apiKey: server.keys.openai } } }), { mode: 0o644 });
    fs.chmodSync(path.join(other, 'config.json'), 0o644);
    const loose = await runCli(['gateway'], { ...env, MULTICLAW_HOME: other });
    assert.equal(loose.code, 8);
    assert.match(loose.stderr, /readable or writable by other users \(mode 0644\).*chmod 600/);
    assert.ok(!fs.existsSync(path.join(other, 'local-api.json')), 'nothing started');

    fs.chmodSync(path.join(other, 'config.json'), 0o600);
    const weak = await runCli(['gateway'], { ...env, MULTICLAW_HOME: other, MULTICLAW_LOCAL_API_TOKEN: 'hunter2' });
    assert.equal(weak.code, 8);
    assert.match(weak.stderr, /at least 32 characters/);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('a headless gateway takes its token from MULTICLAW_LOCAL_API_TOKEN', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-home3-'));
    const token = 'fixed-token-for-a-cloud-desktop-0123456789';
    const g2 = await startGateway({ ...env, MULTICLAW_HOME: other, MULTICLAW_LOCAL_API_TOKEN: token });
    try {
      assert.equal((JSON.parse(fs.readFileSync(g2.discoveryFile, 'utf8')) as { token: string }).token, token);
      const r = await fetch(`http://127.0.0.1:${g2.port}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
    } finally {
      g2.child.kill('SIGTERM');
      assert.equal(await g2.exited, 0);
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('logs to $MULTICLAW_HOME/logs/gateway.log (0600, no key, no token); SIGTERM stops it, exit 0, discovery file removed', async () => {
    const token = (JSON.parse(fs.readFileSync(gw.discoveryFile, 'utf8')) as { token: string }).token;
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    assert.ok(!fs.existsSync(gw.discoveryFile), 'discovery file removed');
    const logFile = path.join(home, 'logs', 'gateway.log');
    assert.equal(fs.statSync(logFile).mode & 0o777, 0o600);
    const log = fs.readFileSync(logFile, 'utf8');
    assert.match(log, /local API listening on http:\/\/127\.0\.0\.1:/);
    assert.match(log, /SIGTERM: stopping/);
    assert.ok(!log.includes(server.keys.openai), 'no provider key in the log');
    assert.ok(!log.includes(token), 'no token in the log');
    const after = await runCli(['status'], env);
    assert.equal(after.code, 3, 'no gateway after stop');
  });
});
