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

const root = path.resolve(__dirname, '../../../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
/** A manifest string as VS Code shows it: `%key%` resolved through package.nls.json. */
const shown = (value: string | undefined): string | undefined => value?.replace(/^%(.+)%$/, (_, k: string) => nls[k] ?? `(missing ${k})`);

/** Every string of the manifest a user reads (titles, descriptions, labels, welcome contents), with where it is. */
function visibleStrings(value: unknown, where: string, out: Array<[string, string]>): Array<[string, string]> {
  const TEXT =
    /^(title|shortTitle|category|description|markdownDescription|deprecationMessage|markdownDeprecationMessage|name|label|contents|contextualTitle|displayName|altText|userDescription|fullName)$/;
  if (Array.isArray(value)) value.forEach((v, i) => visibleStrings(v, `${where}[${i}]`, out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      // Model-facing text (a tool's input schema) and a tool's identifier are not shown to users.
      if (k === 'inputSchema' || (k === 'name' && /languageModelTools\[\d+\]$/.test(where))) continue;
      if (typeof v === 'string' && TEXT.test(k)) out.push([`${where}.${k}`, v]);
      else if (Array.isArray(v) && /^(enumDescriptions|markdownEnumDescriptions)$/.test(k)) v.forEach((d, i) => out.push([`${where}.${k}[${i}]`, String(d)]));
      else visibleStrings(v, `${where}.${k}`, out);
    }
  return out;
}

describe('package.json manifest', () => {
  it('activates lazily (views and commands), never on *', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(!manifest.activationEvents.includes('onStartupFinished'));
    assert.ok(manifest.activationEvents.every((e) => e.startsWith('onView:') || e.startsWith('onCommand:')));
  });

  it('gives every command the MultiClaw category and a codicon', () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(shown(c.category), 'MultiClaw', c.command);
      assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/, c.command);
    }
  });

  it('keeps every provider base URL in application scope (a workspace cannot redirect keyed requests)', () => {
    const urls = Object.entries(manifest.contributes.configuration.properties).filter(([k]) => k.endsWith('.baseUrl'));
    assert.equal(urls.length, 4);
    for (const [k, v] of urls) assert.equal(v.scope, 'application', k);
  });

  it('localises every contributed title, setting and label through package.nls.json, with no stale keys', () => {
    const m = manifest as unknown as Record<string, unknown>;
    const strings = visibleStrings(
      { displayName: m.displayName, description: m.description, contributes: m.contributes, capabilities: m.capabilities },
      'package',
      [],
    );
    assert.ok(strings.length > 100, `only ${strings.length} strings found`);
    const literal = strings.filter(([, v]) => !/^%[\w.-]+%$/.test(v));
    assert.deepEqual(literal, [], 'strings not in package.nls.json');
    const used = new Set(strings.map(([, v]) => v.slice(1, -1)));
    assert.deepEqual(
      strings.filter(([, v]) => nls[v.slice(1, -1)] === undefined),
      [],
      'keys package.nls.json does not define',
    );
    assert.deepEqual(
      Object.keys(nls).filter((k) => !used.has(k)),
      [],
      'keys nothing uses',
    );
  });

  it('walks through six steps, each with a command button, a completion event and a themed SVG that exists', () => {
    const w = (manifest.contributes as unknown as { walkthroughs: Array<{ id: string; steps: Array<Record<string, unknown>> }> }).walkthroughs;
    assert.equal(w.length, 1);
    assert.deepEqual(
      w[0]!.steps.map((s) => s.id),
      ['connectModel', 'chat', 'review', 'signIn', 'dispatch', 'mcp'],
    );
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const step of w[0]!.steps) {
      const description = shown(step.description as string) ?? '';
      const links = [...description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
      assert.ok(links.length > 0, `${String(step.id)} has a command button`);
      for (const l of links) assert.ok(commands.has(l), `${String(step.id)}: ${l} is a contributed command`);
      assert.ok((step.completionEvents as string[]).length > 0, `${String(step.id)} completes on an event`);
      const svg = (step.media as { svg: string }).svg;
      const text = fs.readFileSync(path.join(root, svg), 'utf8');
      assert.match(text, /var\(--vscode-foreground\)/, `${svg} takes the theme's colours (light and dark)`);
      assert.doesNotMatch(text, /#[0-9a-f]{3,6}\b/i, `${svg} has no fixed colour`);
    }
  });

  it('pins @types/vscode to the engines minimum', () => {
    assert.equal(manifest.devDependencies['@types/vscode'], manifest.engines.vscode.replace(/^\^/, ''));
  });
});
