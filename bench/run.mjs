#!/usr/bin/env node
// `npm run bench -- <name> [args]`: compiles (tsc, and the product bundles) and runs bench/<name>.ts
// from out/. Each benchmark prints JSON; its last line is one JSON object. Timings never gate CI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
const available = fs
  .readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
const toFile = (n) => n.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
if (!name || !available.includes(toFile(name))) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.map((n) => n.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')}`);
  process.exit(2);
}
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
// tsc emits even with type errors; a benchmark still runs, with a warning (the test command gates types).
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (tsc.status !== 0) console.error('[bench] warning: the type check failed (see above); running the emitted code anyway');
run(process.execPath, [path.join(root, 'esbuild.js'), '--production']);
run(process.execPath, ['--enable-source-maps', path.join(root, 'out/bench', toFile(name) + '.js'), ...rest]);
