#!/usr/bin/env node
// `npm test`: set up (idempotent), then every tier in order:
//   typecheck → lint (eslint, then prettier --check) → build → unit (mocha on Node) → unit-postgres (the server suites on
//   PostgreSQL) → extension host (mocha inside VS Code via runTests())
//   → package (vsce) → UI end-to-end (Playwright + Chromium against code-server with the packaged VSIX)
// and end with one line `N passed, N failed` summing every tier. Exits non-zero when anything failed.
// Steps that are not test suites (typecheck, lint, build, package) count as one check each.
// Options: --only <tier>[,<tier>] runs a subset (setup always runs unless MULTICLAW_SKIP_SETUP=1).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(root, 'test-results', 'summary');
const argOnly = process.argv.indexOf('--only');
const only = argOnly > 0 ? new Set(process.argv[argOnly + 1].split(',')) : undefined;
const t0 = Date.now();
const secs = (ms) => (ms / 1000).toFixed(1) + 's';

function setup() {
  if (process.env.MULTICLAW_SKIP_SETUP === '1') return;
  const r = spawnSync('bash', [path.join(root, 'scripts/setup-test-env.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error('[test] set-up failed (see above); nothing else was run.');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2];
  }
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    p.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    p.on('error', () => resolve(127));
  });
}

const node = process.execPath;
const bin = (pkg, rel) => path.join(root, 'node_modules', pkg, rel);
const tiers = [
  {
    name: 'typecheck',
    kind: 'step',
    run: async () =>
      (await run(node, [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json'])) || run(node, [bin('typescript', 'bin/tsc'), '-p', 'src/webviews/tsconfig.json']),
  },
  {
    name: 'lint',
    kind: 'step',
    run: async () =>
      (await run(node, [bin('eslint', 'bin/eslint.js'), '--max-warnings', '0', 'src', 'test', 'bench', 'scripts', 'esbuild.js'])) ||
      run(node, [bin('prettier', 'bin/prettier.cjs'), '--check', '--log-level', 'warn', '.']),
  },
  { name: 'build', kind: 'step', run: () => run(node, [path.join(root, 'esbuild.js')]) },
  {
    name: 'unit',
    kind: 'suite',
    run: (env) =>
      run(node, [bin('mocha', 'bin/mocha.js'), '--config', '.mocharc.json', '--reporter', path.join(root, 'out/test/harness/summaryReporter.js')], env),
  },
  {
    // The workspace server's suites again, on a PostgreSQL cluster the root hooks start and stop (test/support/postgresHooks.ts).
    name: 'unit-postgres',
    kind: 'suite',
    run: (env) =>
      run(
        node,
        [
          bin('mocha', 'bin/mocha.js'),
          '--no-config',
          '--exit',
          '--enable-source-maps',
          '--timeout',
          '20000',
          '--require',
          path.join(root, 'out/test/support/postgresHooks.js'),
          '--reporter',
          path.join(root, 'out/test/harness/summaryReporter.js'),
          // The admin CLI and kill -9 suites drive the SQLite data dir (they ran in the unit tier).
          '--ignore',
          'out/test/unit/server/cli.test.js',
          '--ignore',
          'out/test/unit/server/persistence.test.js',
          'out/test/unit/server/**/*.test.js',
        ],
        { MULTICLAW_TEST_DATABASE: 'postgres', ...env },
      ),
  },
  { name: 'extension-host', kind: 'suite', run: (env) => run(node, [path.join(root, 'out/test/extension/runTest.js')], env) },
  {
    name: 'package',
    kind: 'step',
    run: async () =>
      (await run(node, [path.join(root, 'esbuild.js'), '--production'])) ||
      (await run(node, [bin('@vscode/vsce', 'vsce'), 'package', '--no-dependencies', '-o', 'dist/multiclaw.vsix'])) ||
      run(node, [path.join(root, 'scripts/checkPackage.mjs')]),
  },
  {
    name: 'e2e',
    kind: 'suite',
    run: (env) =>
      run(
        node,
        [
          bin('mocha', 'bin/mocha.js'),
          '--no-config',
          '--exit',
          '--enable-source-maps',
          '--timeout',
          '180000',
          '--reporter',
          path.join(root, 'out/test/harness/summaryReporter.js'),
          'out/test/e2e/**/*.e2e.js',
        ],
        { MULTICLAW_VSIX: path.join(root, 'dist/multiclaw.vsix'), ...env },
      ),
  },
];

async function main() {
  setup();
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  let passed = 0,
    failed = 0;
  const report = [];
  for (const t of tiers) {
    if (only && !only.has(t.name)) continue;
    const started = Date.now();
    console.log(`\n━━ ${t.name} ━━`);
    const resultFile = path.join(resultsDir, `${t.name}.json`);
    const code = await t.run({ MULTICLAW_RESULT_FILE: resultFile });
    let p = 0,
      f = 0;
    if (t.kind === 'suite' && fs.existsSync(resultFile)) {
      const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      p = r.passed;
      f = r.failed;
      if (code !== 0 && f === 0) f = 1; // the runner itself failed (harness error, timeout, crash)
      if (code === 0 && p === 0) f = 1; // a suite that ran no test is a failure
    } else if (code === 0) p = 1;
    else f = 1;
    passed += p;
    failed += f;
    report.push(
      `${t.name.padEnd(15)} ${String(p).padStart(4)} passed ${String(f).padStart(3)} failed  ${secs(Date.now() - started)}${code ? `  (exit ${code})` : ''}`,
    );
  }
  console.log('\n━━ summary ━━');
  for (const l of report) console.log(l);
  console.log(`total ${secs(Date.now() - t0)}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}
main();
