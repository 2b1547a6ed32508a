/**
 * Lint holds the layer map (AGENTS.md): a planted import of each forbidden kind fails `npm run lint`
 * with the zone's message, an import cycle fails, and the allowed directions pass. Runs ESLint's API
 * on the project's own eslint.config.mjs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '../../../..');

/** [file that imports (virtual), import specifier, what the error says] */
const FORBIDDEN: Array<[string, string, RegExp]> = [
  ['src/gateway/planted.ts', '../extension/commands', /never imports the extension/],
  ['src/gateway/planted.ts', '../webviews/chat/dom', /never imports webview/],
  ['src/gateway/planted.ts', '../server/server', /over the protocol/],
  ['src/gateway/planted.ts', './cli/usage', /Only the CLI imports the CLI/],
  ['src/server/planted.ts', '../gateway/gateway', /server never imports the gateway/],
  ['src/server/planted.ts', '../extension/commands', /server never imports the extension/],
  ['src/webviews/chat/planted.ts', '../../gateway/gateway', /never by importing the gateway/],
  ['src/webviews/chat/planted.ts', '../../extension/commands', /never import the extension host/],
  ['src/webviews/chat/planted.ts', '../../server/server', /never import the workspace server/],
  ['src/extension/planted.ts', '../server/server', /extension never imports the workspace server/],
  ['src/extension/planted.ts', '../webviews/chat/dom', /loads the built bundle/],
  ['src/protocol/planted.ts', '../gateway/errors', /imports only zod/],
  ['src/gateway/planted.ts', '../../test/support/wait', /never imports tests/],
  ['src/extension/planted.ts', '../../bench/stream', /never imports benchmarks/],
];

const ALLOWED: Array<[string, string]> = [
  ['src/extension/planted.ts', '../gateway/errors'],
  ['src/gateway/cli/planted.ts', '../gateway'],
  ['src/server/planted.ts', '../protocol/workspace/common'],
  ['src/webviews/chat/planted.ts', '../../protocol/chatView'],
];

describe('lint: the layer map and import cycles', function () {
  this.timeout(120_000);
  const eslint = new ESLint({ cwd: root });
  const lint = async (file: string, spec: string): Promise<ESLint.LintResult> => {
    const [r] = await eslint.lintText(`import * as planted from '${spec}';\nexport const value = planted;\n`, { filePath: path.join(root, file) });
    return r;
  };

  for (const [file, spec, message] of FORBIDDEN) {
    it(`refuses ${file.replace('/planted.ts', '')} → ${spec}`, async () => {
      const r = await lint(file, spec);
      const zone = r.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths');
      assert.equal(zone.length, 1, JSON.stringify(r.messages));
      assert.match(zone[0].message, message);
    });
  }

  it('allows the directions the map allows', async () => {
    for (const [file, spec] of ALLOWED) {
      const r = await lint(file, spec);
      assert.deepEqual(
        r.messages.filter((m) => m.ruleId?.startsWith('import-x/')),
        [],
        `${file} → ${spec}`,
      );
    }
  });

  it('refuses an import cycle (two real files that import each other)', async () => {
    const a = path.join(root, 'src/gateway/util/zzLintCycleA.ts');
    const b = path.join(root, 'src/gateway/util/zzLintCycleB.ts');
    try {
      fs.writeFileSync(a, "import { b } from './zzLintCycleB';\nexport const a = (): unknown => b;\n");
      fs.writeFileSync(b, "import { a } from './zzLintCycleA';\nexport const b = (): unknown => a;\n");
      const [r] = await eslint.lintFiles([a]);
      assert.ok(
        r.messages.some((m) => m.ruleId === 'import-x/no-cycle'),
        JSON.stringify(r.messages),
      );
    } finally {
      fs.rmSync(a, { force: true });
      fs.rmSync(b, { force: true });
    }
  });
});
