/**
 * Rules files (AGENTS.md, `.multiclaw/rules/*.md`) in the agent's system prompt, asserted in the
 * request body each provider's fixture received: a switched-off file is absent (and stays off after
 * a gateway restart), an untrusted folder's rules are never sent, big files are truncated visibly,
 * a corrupt settings file loses nothing, and team rules cannot be switched off.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { RULE_FILE_MAX_CHARS, rulesPrompt } from '../../../../src/gateway/agent/projectRules';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { AGENT_PROVIDERS, agentRig, type AgentRig } from './helpers';

const body = (server: ProviderServer, i = 0): string => JSON.stringify(server.requests[i]?.body ?? null);

describe('rules files in the system prompt', function () {
  this.timeout(30_000);
  let server: ProviderServer;
  let rig: AgentRig | undefined;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    server.reset();
  });

  const files = {
    'AGENTS.md': '# Project\nRULE-ALPHA: use tabs.\n',
    '.multiclaw/rules/b-style.md': 'RULE-BRAVO: no semicolons.\n',
    '.multiclaw/rules/a-tests.md': 'RULE-CHARLIE: tests first.\n',
    '.multiclaw/rules/notes.txt': 'RULE-DELTA: not markdown, not a rule.\n',
  };

  for (const provider of AGENT_PROVIDERS) {
    it(`${provider}: every rules file reaches the request, in order; a switched-off one does not`, async () => {
      rig = await agentRig(server, provider, { files });
      const list = await rig.t.gateway.projectRules();
      assert.deepEqual(
        list.map((r) => `${r.id}:${r.enabled}`),
        ['AGENTS.md:true', '.multiclaw/rules/a-tests.md:true', '.multiclaw/rules/b-style.md:true'],
      );
      server.script([{ text: 'ok' }, { text: 'ok again' }]);
      await rig.turn('hello');
      const first = body(server, 0);
      for (const m of ['RULE-ALPHA', 'RULE-BRAVO', 'RULE-CHARLIE']) assert.ok(first.includes(m), `${m} in the ${provider} request`);
      assert.ok(!first.includes('RULE-DELTA'), 'a .txt file is not a rules file');
      assert.ok(first.indexOf('RULE-ALPHA') < first.indexOf('RULE-CHARLIE') && first.indexOf('RULE-CHARLIE') < first.indexOf('RULE-BRAVO'));

      const changed = new Promise<void>((resolve) => rig!.t.gateway.onDidChangeProjectRules(() => resolve()));
      assert.equal(await rig.t.gateway.setProjectRuleEnabled('.multiclaw/rules/b-style.md', false), true);
      await changed;
      await rig.turn('again');
      const second = body(server, 1);
      assert.ok(second.includes('RULE-ALPHA') && second.includes('RULE-CHARLIE'));
      assert.ok(!second.includes('RULE-BRAVO'), 'the switched-off file is not sent');
    });
  }

  it('a switched-off file stays off after a restart; a corrupt settings file turns every file on, with a log line', async () => {
    rig = await agentRig(server, 'openai', { files });
    await rig.t.gateway.setProjectRuleEnabled('AGENTS.md', false);
    await rig.t.gateway.stop();
    await rig.t.gateway.ensureRunning();
    assert.equal((await rig.t.gateway.projectRules()).find((r) => r.id === 'AGENTS.md')?.enabled, false);

    const file = rig.t.gateway.agentTools!.projectRules.file;
    fs.writeFileSync(file, '{"version":1,"workspaces":{"x":[1,2');
    await rig.t.gateway.stop();
    await rig.t.gateway.ensureRunning();
    assert.ok((await rig.t.gateway.projectRules()).every((r) => r.enabled));
    assert.ok(
      rig.t.logger.lines.some((l) => l.includes('rules settings') && l.includes('ignored')),
      'the corrupt file is reported',
    );
    assert.equal(fs.readFileSync(`${file}.corrupt`, 'utf8'), '{"version":1,"workspaces":{"x":[1,2', 'and kept');
    server.script([{ text: 'ok' }]);
    await rig.turn('hi');
    assert.ok(body(server).includes('RULE-ALPHA'));
  });

  it('an untrusted folder: its rules are listed as locked and never sent', async () => {
    rig = await agentRig(server, 'openai', { files, trusted: false });
    const list = await rig.t.gateway.projectRules();
    assert.equal(list.length, 3);
    assert.ok(list.every((r) => !r.enabled && r.locked && /Restricted Mode/.test(r.reason ?? '')));
    assert.equal(await rig.t.gateway.setProjectRuleEnabled('AGENTS.md', true), true);
    assert.ok(
      (await rig.t.gateway.projectRules()).every((r) => !r.enabled),
      'switching on does not override Restricted Mode',
    );
    server.script([{ text: 'ok' }]);
    await rig.turn('hi');
    assert.ok(!body(server).includes('RULE-'), 'no rule reached the provider');
  });

  it('a file over the cap is truncated, visibly, in the list and in the prompt', async () => {
    const big = `RULE-HEAD\n${'x'.repeat(RULE_FILE_MAX_CHARS + 5000)}\nRULE-TAIL\n`;
    rig = await agentRig(server, 'anthropic', { files: { 'AGENTS.md': big } });
    const [r] = await rig.t.gateway.projectRules();
    assert.ok(r?.truncated);
    assert.ok(r.tokens > 0 && r.tokens < big.length / 3);
    server.script([{ text: 'ok' }]);
    await rig.turn('hi');
    const b = body(server);
    assert.ok(b.includes('RULE-HEAD') && !b.includes('RULE-TAIL'));
    assert.ok(b.includes(`[Truncated: the first ${RULE_FILE_MAX_CHARS} of ${big.length} characters.]`));
  });

  it('team rules: always on, cannot be switched off, after the workspace files', async () => {
    rig = await agentRig(server, 'gemini', { files: { 'AGENTS.md': 'RULE-LOCAL' } });
    rig.t.gateway.agentTools!.projectRules.setPushed([{ name: 'Security', text: 'RULE-TEAM: never print secrets.' }]);
    const list = await rig.t.gateway.projectRules();
    assert.deepEqual(
      list.map((r) => `${r.id}:${r.source}:${r.locked}`),
      ['AGENTS.md:workspace:false', 'team:Security:team:true'],
    );
    assert.equal(await rig.t.gateway.setProjectRuleEnabled('team:Security', false), false);
    server.script([{ text: 'ok' }]);
    await rig.turn('hi');
    const b = body(server);
    assert.ok(b.indexOf('RULE-LOCAL') < b.indexOf('RULE-TEAM'));
  });

  it('a rule name cannot break out of its tag; empty files are left out', async () => {
    rig = await agentRig(server, 'openai', { files: { '.multiclaw/rules/a"><x.md': 'RULE-ODD', '.multiclaw/rules/empty.md': '  \n' } });
    const list = await rig.t.gateway.projectRules();
    assert.deepEqual(
      list.map((r) => r.id),
      ['.multiclaw/rules/a"><x.md'],
    );
    const prompt = rulesPrompt(list);
    assert.ok(prompt.includes('<rules source=".multiclaw/rules/a___x.md">'));
  });
});
