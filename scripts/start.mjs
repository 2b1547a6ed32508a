#!/usr/bin/env node
// `npm start`: build the extension and open it in VS Code, ready to try without a key.
//  - a desktop `code` on PATH (and MULTICLAW_USE_CODE_SERVER unset): `code --extensionDevelopmentPath=<repo>`
//  - otherwise: set up code-server (scripts/setup-test-env.sh, idempotent), install the freshly packaged
//    VSIX into a persistent profile (~/.cache/multiclaw-test/start-profile), start the demo model (the
//    provider fixture in DEMO mode: scripted replies, no AI) and serve VS Code on 127.0.0.1 with a
//    generated password, opened on its own sample folder, trusted. Prints each step; Ctrl+C stops it all.
//
// Trust: code-server keeps the trusted-folder list in the browser (IndexedDB), which a script cannot
// seed, so this code-server runs with --disable-workspace-trust: it serves only the profile's sample
// folder, which the demo created. `npm run test:e2e` covers Restricted Mode (test/e2e/restricted.e2e.ts).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasCode = !process.env.MULTICLAW_USE_CODE_SERVER && spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
const TOTAL = hasCode ? 1 : 7;
let n = 0;
/** Prints `[start i/N] what…` before and the time taken after each of npm start's own steps. */
const progress = (what) => {
  n++;
  const t0 = Date.now();
  console.log(`[start ${n}/${TOTAL}] ${what}…`);
  return () => console.log(`[start ${n}/${TOTAL}] done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};
const step = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    console.error(`[start] ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
  return r;
};

if (hasCode) {
  const done = progress('Building the extension (esbuild, ~5 s)');
  step(process.execPath, ['esbuild.js']);
  done();
  console.log('[start] opening desktop VS Code with the extension in development mode');
  spawn('code', [`--extensionDevelopmentPath=${root}`, root], { stdio: 'inherit', detached: true }).unref();
  process.exit(0);
}

let done = progress('Setting up code-server and Chromium (first time: a download of ~3 min; then instant)');
const setup = step('bash', ['scripts/setup-test-env.sh'], { stdio: ['ignore', 'pipe', 'inherit'] });
const env = Object.fromEntries(
  setup.stdout
    .split('\n')
    .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
done();

done = progress('Building the extension for production (esbuild, ~10 s)');
step(process.execPath, ['esbuild.js', '--production']);
done();

done = progress('Packaging the VSIX (vsce, ~10 s)');
step(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '-o', 'dist/multiclaw.vsix']);
done();

const profile = path.join(process.env.MULTICLAW_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'multiclaw-test'), 'start-profile');
const dirs = ['--user-data-dir', path.join(profile, 'user-data'), '--extensions-dir', path.join(profile, 'extensions')];
done = progress('Installing it into the start profile (~15 s)');
fs.mkdirSync(path.join(profile, 'user-data', 'User'), { recursive: true });
step(env.CODE_SERVER_NODE, [env.CODE_SERVER_ENTRY, ...dirs, '--force', '--install-extension', path.join(root, 'dist/multiclaw.vsix')]);
done();

// The demo model: the provider fixture tests use, bundled on the fly, in DEMO mode (keyword-scripted tool calls).
done = progress('Starting the demo model (scripted replies, no AI) on 127.0.0.1');
const demoBundle = path.join(profile, 'demo-model-server.js');
step(path.join(root, 'node_modules/.bin/esbuild'), [
  'test/fixtures/providerServerMain.ts',
  '--bundle',
  '--platform=node',
  '--log-level=warning',
  `--outfile=${demoBundle}`,
]);
const demo = spawn(process.execPath, [demoBundle, '--demo'], { stdio: ['ignore', 'pipe', 'inherit'] });
const demoInfo = await new Promise((resolve, reject) => {
  readline.createInterface({ input: demo.stdout }).once('line', (l) => resolve(JSON.parse(l)));
  demo.once('exit', (c) => reject(new Error(`the demo model exited (${c})`)));
});
done();

done = progress('Writing the sample folder and the profile settings (demo agent)');
const sample = path.join(profile, 'sample');
const sampleFiles = {
  'README.md': '# MultiClaw sample folder\n\nA folder of its own for `npm start`: the demo agent may list, read, edit and create files here.\n',
  'hello.js': "console.log('Hello, world');\n",
  'notes/todo.md': '- [ ] Try the demo model: "list the files", "edit hello.js", "run a command"\n- [ ] Set a real key: MultiClaw: Set Provider API Key\n',
};
for (const [rel, text] of Object.entries(sampleFiles)) {
  const file = path.join(sample, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, text);
}
const settingsFile = path.join(profile, 'user-data', 'User', 'settings.json');
let settings = { 'telemetry.telemetryLevel': 'off', 'update.mode': 'none' };
try {
  settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
} catch {
  // first run (or a settings file with comments, which we rewrite): the defaults above
}
const DEMO_AGENT = { id: 'demo', name: 'Demo model — scripted replies, no AI', provider: 'openai-compatible', model: 'demo' };
const agents = Array.isArray(settings['multiclaw.agents']) ? settings['multiclaw.agents'].filter((a) => a?.id !== DEMO_AGENT.id) : [];
settings = {
  ...settings,
  'multiclaw.providers.openaiCompatible.baseUrl': demoInfo.baseUrls['openai-compatible'],
  'multiclaw.providers.openaiCompatible.model': 'demo',
  'multiclaw.agents': [DEMO_AGENT, ...agents],
};
fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
done();

const port =
  Number(process.env.PORT) ||
  (await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  }));
done = progress(`Starting VS Code (code-server) on 127.0.0.1:${port}`);
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
    '--disable-workspace-trust',
    ...dirs,
    sample,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PASSWORD: password } },
);
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(sample)}`;
for (let i = 0; i < 600; i++) {
  const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up || cs.exitCode !== null) break;
  await new Promise((r) => setTimeout(r, 100)); // polling a child's port: there is no event to wait on
}
done();
console.log(
  [
    '',
    'MultiClaw is running in VS Code (code-server) at:',
    '',
    `   ${url}`,
    '',
    `   password: ${password}`,
    '',
    'Open the MultiClaw icon in the activity bar: the Chat view offers "Demo model — scripted replies, no AI"',
    '(try "list the files", "edit hello.js", "create a notes file", "run a command"). Ctrl+C stops it all.',
  ].join('\n'),
);
const stop = () => {
  cs.kill('SIGTERM');
  demo.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
cs.on('exit', (c) => {
  demo.kill('SIGTERM');
  process.exit(c ?? 0);
});
