#!/usr/bin/env node
// Checks the packaged VSIX: the files it must hold, the files it must not (sources, tests,
// node_modules), the bundle-size budgets, and that @types/vscode is pinned to the engines minimum.
// Usage: node scripts/checkPackage.mjs [dist/multiclaw.vsix]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsix = path.resolve(root, process.argv[2] ?? 'dist/multiclaw.vsix');
// extension.js is what activation loads; runtime.js (the gateway runtime) loads when the gateway starts.
const BUDGETS = { 'extension/dist/extension.js': 800_000, 'extension/dist/runtime.js': 1_200_000, 'extension/dist/webviews/chat.js': 500_000 };
const REQUIRED = [
  'extension/package.json',
  'extension/readme.md',
  'extension/dist/extension.js',
  'extension/dist/runtime.js',
  'extension/dist/webviews/chat.js',
  'extension/dist/webviews/chat.css',
  'extension/dist/webviews/codicons/codicon.css',
  'extension/dist/webviews/codicons/codicon.ttf',
  'extension/media/multiclaw.svg',
  'extension/media/icon.png',
  ...['connect-model', 'chat', 'review', 'sign-in', 'dispatch', 'mcp'].map((n) => `extension/media/walkthrough/${n}.svg`),
  'extension/LICENSE.txt',
  'extension/changelog.md',
];
/** The whole VSIX: what a user downloads (source maps stay out of it). */
const VSIX_BUDGET = 800_000;
const FORBIDDEN = [
  /^extension\/src\//,
  /^extension\/test\//,
  /node_modules\//,
  /^extension\/out\//,
  /^extension\/docs\//,
  /\.ts$/,
  /\.map$/,
  /\.vsix$/,
  /^extension\/media\/icon\.svg$/,
];

/** Reads a ZIP's central directory: name -> { size, offset, method, csize }. */
function readZip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = new Map();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(p + 10),
      csize = buf.readUInt32LE(p + 20),
      size = buf.readUInt32LE(p + 24);
    const n = buf.readUInt16LE(p + 28),
      x = buf.readUInt16LE(p + 30),
      c = buf.readUInt16LE(p + 32),
      offset = buf.readUInt32LE(p + 42);
    entries.set(buf.subarray(p + 46, p + 46 + n).toString('utf8'), { size, csize, method, offset });
    p += 46 + n + x + c;
  }
  return entries;
}

function read(buf, e) {
  const n = buf.readUInt16LE(e.offset + 26),
    x = buf.readUInt16LE(e.offset + 28);
  const data = buf.subarray(e.offset + 30 + n + x, e.offset + 30 + n + x + e.csize);
  return e.method === 8 ? zlib.inflateRawSync(data) : data;
}

/** What the Marketplace and Open VSX show: icon, banner, keywords, a real repository, licence. */
function manifestProblems(pkg) {
  const out = [];
  const hostOf = (u) => {
    try {
      return new URL(String(u)).hostname;
    } catch {
      return '';
    }
  };
  const placeholder = (h) => !h || /(^|\.)(example|invalid|test|localhost)(\.|$)|example\.(com|org|net)$/.test(h);
  if (!/\.png$/.test(pkg.icon ?? '')) out.push('package.json "icon" must be a PNG');
  else {
    const png = fs.readFileSync(path.join(root, pkg.icon));
    if (png.readUInt32BE(16) < 128 || png.readUInt32BE(20) < 128) out.push(`${pkg.icon} must be at least 128×128`);
  }
  if (!pkg.galleryBanner?.color || !['dark', 'light'].includes(pkg.galleryBanner?.theme)) out.push('package.json needs galleryBanner { color, theme }');
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length < 5) out.push('package.json needs keywords');
  for (const [k, u] of [
    ['repository', pkg.repository?.url],
    ['bugs', pkg.bugs?.url],
    ['homepage', pkg.homepage],
  ])
    if (placeholder(hostOf(u))) out.push(`package.json "${k}" must be a real address, not ${u ?? 'missing'}`);
  const license = fs.existsSync(path.join(root, 'LICENSE')) ? fs.readFileSync(path.join(root, 'LICENSE'), 'utf8') : '';
  if (!license.startsWith(`${pkg.license} License`)) out.push(`LICENSE must be the ${pkg.license} licence that package.json names`);
  if (!fs.existsSync(path.join(root, 'CHANGELOG.md'))) out.push('CHANGELOG.md is missing');
  return out;
}

const problems = [];
if (!fs.existsSync(vsix)) problems.push(`no VSIX at ${vsix}`);
else {
  const buf = fs.readFileSync(vsix);
  const entries = readZip(buf);
  for (const f of REQUIRED) if (!entries.has(f)) problems.push(`missing ${f}`);
  for (const name of entries.keys()) if (FORBIDDEN.some((re) => re.test(name))) problems.push(`must not ship ${name}`);
  for (const [f, max] of Object.entries(BUDGETS)) {
    const e = entries.get(f);
    if (e && e.size > max) problems.push(`${f} is ${e.size} bytes, over its ${max}-byte budget`);
    if (e) console.log(`${f}: ${e.size} bytes (budget ${max})`);
  }
  const pkg = JSON.parse(read(buf, entries.get('extension/package.json')).toString('utf8'));
  if (pkg.activationEvents?.includes('*')) problems.push('activationEvents contains "*"');
  const local = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const min = /^\^?(\d+\.\d+\.\d+)$/.exec(local.engines.vscode)?.[1];
  if (local.devDependencies['@types/vscode'] !== min)
    problems.push(`@types/vscode (${local.devDependencies['@types/vscode']}) must be pinned to the engines minimum ${min}`);
  for (const problem of manifestProblems(pkg)) problems.push(problem);
  if (buf.length > VSIX_BUDGET) problems.push(`the VSIX is ${buf.length} bytes, over its ${VSIX_BUDGET}-byte budget`);
  console.log(`${path.relative(root, vsix)}: ${entries.size} files, ${buf.length} bytes (budget ${VSIX_BUDGET})`);
}
// The Gateway class lives in the extension bundle only: the runtime reaches it through narrow host
// interfaces (e.g. LocalApiHost). A module in both bundles exists twice (compare errors by name).
const bundles = path.join(root, 'dist', 'bundles.json');
if (!fs.existsSync(bundles)) problems.push('no dist/bundles.json (esbuild.js writes it)');
else {
  const inputs = JSON.parse(fs.readFileSync(bundles, 'utf8'));
  const ext = new Set(inputs['dist/extension.js'] ?? []);
  const runtime = inputs['dist/runtime.js'] ?? [];
  if (runtime.includes('src/gateway/gateway.ts'))
    problems.push('src/gateway/gateway.ts is in dist/runtime.js: a runtime module imports the Gateway class (give it a host interface)');
  const both = runtime.filter((m) => ext.has(m));
  console.log(`modules in both extension.js and runtime.js: ${both.length} (${both.join(', ')})`);
}
if (problems.length) {
  for (const p of problems) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log('✓ package contents and budgets');
