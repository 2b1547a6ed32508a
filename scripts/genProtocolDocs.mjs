#!/usr/bin/env node
// Writes docs/protocol.md and docs/protocol.schema.json from the zod schemas in src/protocol/workspace
// (compiled to out/ by `tsc -p tsconfig.json`). `--check` exits 1 when the committed files differ.
// Usage: npx tsc -p tsconfig.json && node scripts/genProtocolDocs.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { protocolMarkdown, protocolJsonSchema } = require(path.join(root, 'out/src/protocol/workspace/docs.js'));

const files = {
  'docs/protocol.md': protocolMarkdown() + '\n',
  'docs/protocol.schema.json': JSON.stringify(protocolJsonSchema(), null, 2) + '\n',
};
const check = process.argv.includes('--check');
let drift = false;
for (const [rel, text] of Object.entries(files)) {
  const file = path.join(root, rel);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current === text) continue;
  if (check) {
    console.error(`${rel} is out of date: run \`npx tsc -p tsconfig.json && node scripts/genProtocolDocs.mjs\``);
    drift = true;
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${rel}`);
  }
}
process.exit(drift ? 1 : 0);
