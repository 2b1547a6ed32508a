/** The extension manifest's promises: lazy activation, settings that cannot be hijacked by a workspace. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

interface Manifest {
  activationEvents: string[];
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  contributes: {
    commands: Array<{ command: string; title: string; category?: string; icon?: string }>;
    configuration: { properties: Record<string, { scope?: string; default?: unknown }> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8')) as Manifest;

describe('package.json manifest', () => {
  it('activates lazily (views and commands), never on *', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(!manifest.activationEvents.includes('onStartupFinished'));
    assert.ok(manifest.activationEvents.every((e) => e.startsWith('onView:') || e.startsWith('onCommand:')));
  });

  it('gives every command the MultiClaw category and a codicon', () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'MultiClaw', c.command);
      assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/, c.command);
    }
  });

  it('keeps every provider base URL in application scope (a workspace cannot redirect keyed requests)', () => {
    const urls = Object.entries(manifest.contributes.configuration.properties).filter(([k]) => k.endsWith('.baseUrl'));
    assert.equal(urls.length, 4);
    for (const [k, v] of urls) assert.equal(v.scope, 'application', k);
  });

  it('pins @types/vscode to the engines minimum', () => {
    assert.equal(manifest.devDependencies['@types/vscode'], manifest.engines.vscode.replace(/^\^/, ''));
  });
});
