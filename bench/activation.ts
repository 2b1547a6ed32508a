/**
 * `npm run bench -- activation [runs]`: activation time of the production bundle in a real VS Code
 * extension host (code-server offline), median of 10 fresh extension hosts, and the bundle size.
 * `activateMsMedian` = loading the bundle + `extension.activate()` as the host sees it;
 * `loadMsMedian` = require() of the bundle; `activateFnMsMedian` = the body of activate() alone.
 * Goals: ≤ 20 ms and ≤ 800 KB. Timings are noisy on a loaded 2-core machine: see `loadAvg`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const runs = Number(process.argv[2] ?? 10);
const shim = path.join(root, 'test/harness/code-server-as-vscode');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const total: number[] = [];
const load: number[] = [];
const fn: number[] = [];
for (let i = 0; i < runs; i++) {
  const file = path.join(os.tmpdir(), `mc-activation-${process.pid}-${i}.json`);
  const r = spawnSync(
    shim,
    [`--extensionDevelopmentPath=${root}`, `--extensionTestsPath=${path.join(root, 'out/bench/activationSuite.js')}`, '--disable-extensions'],
    { env: { ...process.env, MULTICLAW_BENCH_FILE: file }, encoding: 'utf8' },
  );
  if (r.status !== 0 || !fs.existsSync(file)) {
    console.error(r.stderr);
    throw new Error(`run ${i + 1} failed (exit ${r.status})`);
  }
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { loadMs: number; activateCallMs: number; activateFnMs: number };
  fs.rmSync(file);
  total.push(m.loadMs + m.activateCallMs);
  load.push(m.loadMs);
  fn.push(m.activateFnMs);
  console.log(
    JSON.stringify({ run: i + 1, loadMs: +m.loadMs.toFixed(2), activateCallMs: +m.activateCallMs.toFixed(2), activateFnMs: +m.activateFnMs.toFixed(2) }),
  );
}
const bundleBytes = fs.statSync(path.join(root, 'dist/extension.js')).size;
console.log(
  JSON.stringify({
    runs,
    activateMsMedian: +median(total).toFixed(2),
    loadMsMedian: +median(load).toFixed(2),
    activateFnMsMedian: +median(fn).toFixed(2),
    bundleBytes,
    loadAvg: +os.loadavg()[0].toFixed(2),
  }),
);
