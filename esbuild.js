// Bundles the product: the extension host bundle (node, cjs, `vscode` external), the gateway runtime
// it loads on demand, and each webview (browser, iife) separately. `--production` minifies (the VSIX
// build); source maps always. `--watch` rebuilds on change. Usage: node esbuild.js [--production] [--watch]
'use strict';
const esbuild = require('esbuild');
const path = require('node:path');
const fs = require('node:fs');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const root = __dirname;

/**
 * zod's classic API re-exports every locale (~260 KB minified); we only show English messages.
 * Replace the locale index with one that exports `en` (what zod configures by default).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.c?js$/ }, (args) => ({
      contents: args.path.endsWith('.cjs') ? 'exports.en = require("./en.cjs").default;' : 'export { default as en } from "./en.js";',
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

/**
 * zod's eval probe reads the `navigator` global (a Cloudflare check). VS Code's extension host turns
 * any `navigator` access by an installed extension into a PendingMigrationError, which breaks
 * activation. The extension host is Node, never Cloudflare: drop the probe. Fails loudly if zod changes.
 */
const zodNoNavigatorProbe = {
  name: 'zod-no-navigator-probe',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]core[\\/]util\.c?js$/ }, async (args) => {
      const src = await fs.promises.readFile(args.path, 'utf8');
      const probe = 'typeof navigator !== "undefined" && navigator?.userAgent?.includes("Cloudflare")';
      if (!src.includes(probe)) throw new Error(`zod-no-navigator-probe: pattern not found in ${args.path}; re-check zod's navigator use`);
      return { contents: src.replace(probe, 'false'), loader: 'js' };
    });
  },
};

/**
 * Activation loads only `dist/extension.js`. Every dynamic `import()` from `src/` in the extension
 * build (the gateway runtime: net, store, chat, providers, cloud link, local API, zod schemas…) is
 * served by a second bundle, `dist/runtime.js`, required the first time one of them is awaited.
 * The import becomes `require('./runtime.js').load('<module path under src>')`; the runtime bundle's
 * entry maps each such path to its module. Code shared by both bundles exists twice: do not rely on
 * `instanceof` for classes that cross the boundary (compare `name`).
 */
const runtimeModules = new Map(); // key (path under src, no extension) -> absolute path
const lazyRuntime = {
  name: 'lazy-runtime',
  setup(b) {
    const srcDir = path.join(root, 'src') + path.sep;
    b.onResolve({ filter: /^\.\/runtime\.js$/ }, () => ({ path: './runtime.js', external: true }));
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === 'lazy-runtime' || !args.importer.startsWith(srcDir)) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'lazy-runtime' });
      if (r.errors.length > 0) return { errors: r.errors };
      const key = path.relative(srcDir, r.path).split(path.sep).join('/').replace(/\.ts$/, '');
      runtimeModules.set(key, r.path);
      return { path: key, namespace: 'lazy-runtime' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-runtime' }, (args) => ({
      contents: `module.exports = require('./runtime.js').load(${JSON.stringify(args.path)});`,
      loader: 'js',
      resolveDir: path.join(root, 'dist'),
    }));
    b.onStart(() => runtimeModules.clear());
  },
};

/** The runtime bundle: a `load(key)` over every module the extension bundle imports lazily. */
function runtimeBuild() {
  const entries = [...runtimeModules]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, file]) => `  ${JSON.stringify(key)}: () => require(${JSON.stringify(file)}),`);
  return {
    stdin: {
      contents:
        `'use strict';\nconst modules = {\n${entries.join('\n')}\n};\n` +
        `exports.load = (key) => {\n  const m = modules[key];\n  if (!m) throw new Error('MultiClaw runtime: no module ' + key);\n  return m();\n};\n`,
      resolveDir: root,
      sourcefile: 'runtime-entry.js',
      loader: 'js',
    },
    outfile: 'dist/runtime.js',
    plugins: [zodEnglishOnly, zodNoNavigatorProbe],
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  };
}

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    entryPoints: { extension: 'src/extension/extension.ts' },
    plugins: [lazyRuntime, zodEnglishOnly, zodNoNavigatorProbe],
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    entryPoints: { 'webviews/viewer': 'src/webviews/viewer/main.ts' },
    plugins: [zodEnglishOnly],
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    loader: { '.css': 'css' },
  },
  {
    entryPoints: { 'webviews/chat': 'src/webviews/chat/main.ts' },
    plugins: [zodEnglishOnly],
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    loader: { '.css': 'css' },
  },
];

// Entry points that exist only once their feature lands (headless gateway CLI, reference workspace server).
const optional = [
  {
    entryPoints: { cli: 'src/gateway/cli/main.ts' },
    plugins: [zodEnglishOnly],
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    entryPoints: { server: 'src/server/main.ts' },
    plugins: [zodEnglishOnly],
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3', 'pg'],
  },
];
for (const b of optional) if (fs.existsSync(path.join(root, Object.values(b.entryPoints)[0]))) builds.push(b);

function copyCodicons() {
  const src = path.join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  const dst = path.join(root, 'dist', 'webviews', 'codicons');
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}

async function main() {
  const common = { bundle: true, sourcemap: true, minify: production, logLevel: 'warning', absWorkingDir: root, legalComments: 'none' };
  copyCodicons();
  const [extensionBuild, ...others] = builds;
  if (watch) {
    const rebuildRuntime = { name: 'rebuild-runtime', setup: (b) => b.onEnd(() => esbuild.build({ ...common, ...runtimeBuild() }).catch(() => undefined)) };
    (await esbuild.context({ ...common, ...extensionBuild, plugins: [...extensionBuild.plugins, rebuildRuntime] })).watch();
    for (const b of others) (await esbuild.context({ ...common, ...b })).watch();
    return;
  }
  const started = Date.now();
  // The runtime bundle's contents are known once the extension bundle has been resolved.
  const extensionAndRuntime = esbuild
    .build({ ...common, ...extensionBuild, metafile: true })
    .then(async (r) => [r, await esbuild.build({ ...common, ...runtimeBuild(), metafile: true })]);
  const results = (await Promise.all([extensionAndRuntime, ...others.map((b) => esbuild.build({ ...common, ...b, metafile: true }))])).flat();
  const sizes = {};
  const inputs = {}; // bundle -> the src/ modules in it (scripts/checkPackage.mjs checks what is in both)
  for (const r of results) {
    for (const [file, info] of Object.entries(r.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      sizes[file] = info.bytes;
      inputs[file] = Object.keys(info.inputs)
        .filter((i) => i.startsWith('src/'))
        .sort();
    }
  }
  fs.writeFileSync(path.join(root, 'dist', 'bundles.json'), JSON.stringify(inputs, null, 1) + '\n');
  process.stderr.write(`esbuild ${production ? 'production' : 'dev'} build in ${Date.now() - started} ms: ${JSON.stringify(sizes)}\n`);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
