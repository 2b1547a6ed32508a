#!/usr/bin/env node
// `npm start`: build the extension and open it in VS Code.
//  - a desktop `code` on PATH (and MULTICLAW_USE_CODE_SERVER unset): `code --extensionDevelopmentPath=<repo>`
//  - otherwise: set up code-server (scripts/setup-test-env.sh, idempotent), install the freshly packaged
//    VSIX into a persistent profile (~/.cache/multiclaw-test/start-profile) and serve VS Code on
//    127.0.0.1 with a generated password; prints the URL. Ctrl+C stops it.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    console.error(`[start] ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
  return r;
};
const hasCode = !process.env.MULTICLAW_USE_CODE_SERVER && spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;

step(process.execPath, ['esbuild.js']);
if (hasCode) {
  console.log('[start] opening desktop VS Code with the extension in development mode');
  spawn('code', [`--extensionDevelopmentPath=${root}`, root], { stdio: 'inherit', detached: true }).unref();
  process.exit(0);
}

const setup = step('bash', ['scripts/setup-test-env.sh'], { stdio: ['ignore', 'pipe', 'inherit'] });
const env = Object.fromEntries(
  setup.stdout
    .split('\n')
    .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
step(process.execPath, ['esbuild.js', '--production']);
step(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '-o', 'dist/multiclaw.vsix']);

const profile = path.join(process.env.MULTICLAW_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'multiclaw-test'), 'start-profile');
const dirs = ['--user-data-dir', path.join(profile, 'user-data'), '--extensions-dir', path.join(profile, 'extensions')];
fs.mkdirSync(path.join(profile, 'user-data', 'User'), { recursive: true });
const settingsFile = path.join(profile, 'user-data', 'User', 'settings.json');
if (!fs.existsSync(settingsFile))
  fs.writeFileSync(settingsFile, JSON.stringify({ 'telemetry.telemetryLevel': 'off', 'update.mode': 'none', 'workbench.startupEditor': 'none' }, null, 2));
step(env.CODE_SERVER_NODE, [env.CODE_SERVER_ENTRY, ...dirs, '--force', '--install-extension', path.join(root, 'dist/multiclaw.vsix')]);

const port =
  Number(process.env.PORT) ||
  (await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  }));
const password = crypto.randomBytes(12).toString('base64url');
const cs = spawn(
  env.CODE_SERVER_NODE,
  [
    env.CODE_SERVER_ENTRY,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'password',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...dirs,
    root,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PASSWORD: password } },
);
console.log(
  `\nMultiClaw is running in VS Code (code-server) at:\n\n   http://127.0.0.1:${port}/?folder=${encodeURIComponent(root)}\n\n   password: ${password}\n\nOpen the MultiClaw icon in the activity bar. Ctrl+C stops it.`,
);
const stop = () => {
  cs.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
cs.on('exit', (c) => process.exit(c ?? 0));
