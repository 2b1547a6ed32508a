/**
 * The agent loop against the scripted provider fixture, for each provider's wire format: a whole
 * read → edit → run → finish turn, a failing tool, a loop, unknown tools and bad arguments, and
 * blocked tools absent from the request body.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { wireToolNames } from '../providers/tools';
import { AGENT_PROVIDERS, agentRig, setGuardrails, toolResultsIn, type AgentRig } from './helpers';

describe('agent loop', function () {
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

  it('applies a V4A patch (update + add) whole, and refuses a stale one without touching anything', async () => {
    rig = await agentRig(server, 'openai', { files: { 'src/m.ts': 'export const a = 1;\nexport const b = 2;\n' } });
    const patch = [
      '*** Begin Patch',
      '*** Update File: src/m.ts',
      '@@',
      ' export const a = 1;',
      '-export const b = 2;',
      '+export const b = 3;',
      '*** Add File: src/n.ts',
      '+export const n = 0;',
      '*** End Patch',
    ].join('\n');
    const stale = [
      '*** Begin Patch',
      '*** Update File: src/m.ts',
      '@@',
      '-export const zzz = 9;',
      '+export const zzz = 10;',
      '*** Add File: src/o.ts',
      '+x',
      '*** End Patch',
    ].join('\n');
    server.script([
      { toolCalls: [{ name: 'apply_patch', arguments: { input: patch } }] },
      { toolCalls: [{ name: 'apply_patch', arguments: { input: stale } }] },
      { text: 'patched' },
    ]);
    const conv = await rig.turn('patch it');
    assert.equal(rig.file('src/m.ts'), 'export const a = 1;\nexport const b = 3;\n');
    assert.equal(rig.file('src/n.ts'), 'export const n = 0;\n');
    const [ok, refused] = rig.cards(conv.id);
    assert.equal(ok!.status, 'done', ok!.result);
    assert.equal(refused!.status, 'error');
    assert.match(refused!.result ?? '', /Nothing was changed/);
    assert.equal(fs.existsSync(path.join(rig.ws, 'src/o.ts')), false, 'all or nothing');
    assert.deepEqual(
      rig.t.gateway.pendingChanges(conv.id).map((c) => [c.label, c.kind]),
      [
        ['src/m.ts', 'modified'],
        ['src/n.ts', 'created'],
      ],
    );
  });

  for (const provider of AGENT_PROVIDERS) {
    describe(provider, () => {
      it('reads, edits, runs and finishes in one turn; each response is one message, every call a card and a stored record', async () => {
        rig = await agentRig(server, provider, { files: { 'src/a.txt': 'alpha\nbeta\ngamma\n' } });
        const s = server.script([
          { text: 'Let me look.', toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.txt' } }] },
          { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/a.txt', edits: [{ old_text: 'beta', new_text: 'BETA' }] } }] },
          { toolCalls: [{ name: 'run_command', arguments: { command: 'cat src/a.txt' } }] },
          { toolCalls: [{ name: 'finish', arguments: { summary: 'Uppercased beta.' } }] },
        ]);
        const conv = await rig.turn('Uppercase beta in src/a.txt');
        assert.equal(rig.file('src/a.txt'), 'alpha\nBETA\ngamma\n');
        assert.equal(s.requests.length, 4);
        const cards = rig.cards(conv.id);
        assert.deepEqual(
          cards.map((c) => [c.name, c.status]),
          [
            ['read_file', 'done'],
            ['edit_file', 'done'],
            ['run_command', 'done'],
            ['finish', 'done'],
          ],
        );
        assert.equal(cards[2]!.exitCode, 0);
        assert.deepEqual(cards[1]!.diffStat, { added: 1, removed: 1 });
        // the model saw each result: the file's text, then the command's output
        assert.match(toolResultsIn(s.requests[1]!.body).join('\n'), /alpha\\?n?[\s\S]*beta/);
        assert.match(toolResultsIn(s.requests[3]!.body).join('\n'), /BETA/);
        assert.deepEqual(wireToolNames(s.requests[0]!.body).slice(0, 3), ['read_file', 'list_files', 'search_files']);
        const assistant = conv.messages.filter((m) => m.role === 'assistant');
        assert.equal(assistant.length, 5, 'four model responses and the summary');
        assert.equal(assistant.at(-1)!.text, 'Uppercased beta.');
        assert.equal(assistant.at(-1)!.finishReason, 'finish');
        // the file holds calls and results: reopened, the cards come back
        await rig.t.gateway.stop();
        await rig.t.gateway.start();
        const again = await rig.t.gateway.store.open(conv.id);
        const stored = again.messages.flatMap((m) => m.toolCalls ?? []);
        assert.deepEqual(
          stored.map((c) => [c.name, c.status]),
          cards.map((c) => [c.name, c.status]),
        );
        assert.equal(again.repairs.length, 0, again.repairs.join('; '));
      });

      it('returns a failing tool as an error result and goes on', async () => {
        rig = await agentRig(server, provider);
        const s = server.script([
          { toolCalls: [{ name: 'read_file', arguments: { path: 'missing.txt' } }] },
          { toolCalls: [{ name: 'write_file', arguments: { path: 'missing.txt', content: 'now here\n' } }] },
          { text: 'Created it.' },
        ]);
        const conv = await rig.turn('Read missing.txt');
        const cards = rig.cards(conv.id);
        assert.equal(cards[0]!.status, 'error');
        assert.match(toolResultsIn(s.requests[1]!.body).join('\n'), /does not exist/);
        assert.equal(cards[1]!.status, 'done');
        assert.equal(rig.file('missing.txt'), 'now here\n');
        assert.equal(conv.messages.at(-1)!.text, 'Created it.');
      });

      it('stops a loop: the same failing call three times in a row', async () => {
        rig = await agentRig(server, provider);
        const again = { toolCalls: [{ name: 'read_file', arguments: { path: 'nope.txt' } }] };
        const s = server.script([again, again, again, again, { text: 'never asked' }]);
        const conv = await rig.turn('Read nope.txt');
        assert.equal(s.requests.length, 3);
        assert.match(conv.messages.at(-1)!.text, /loop detected/);
        assert.equal(conv.messages.at(-1)!.finishReason, 'loop_detected');
      });

      it('answers unknown tools, schema-failing and non-JSON arguments with error results naming the problem', async () => {
        rig = await agentRig(server, provider);
        const turns = [
          { toolCalls: [{ name: 'delete_everything', arguments: {} }] },
          { toolCalls: [{ name: 'read_file', arguments: { path: 'a', startLine: 'ten' } }] },
          ...(provider === 'gemini' ? [] : [{ toolCalls: [{ name: 'read_file', arguments: '{"path": "a.txt", ' }] }]),
          { text: 'ok' },
        ];
        const s = server.script(turns);
        const conv = await rig.turn('go');
        const results = s.requests.slice(1).map((r) => toolResultsIn(r.body).at(-1) ?? '');
        assert.match(results[0]!, /Unknown tool \\?"delete_everything/);
        assert.match(results[1]!, /Invalid arguments for read_file: startLine/);
        if (provider !== 'gemini') assert.match(results[2]!, /not a valid JSON object/);
        assert.equal(conv.messages.at(-1)!.text, 'ok');
      });

      it('never sends blocked tools: the request body names only the tools the policy allows', async () => {
        rig = await agentRig(server, provider);
        await setGuardrails(rig, { blockedTools: ['run_command', 'web_fetch'] });
        const s = server.script([{ text: 'hi' }, { text: 'plan' }]);
        await rig.turn('hello');
        const names = wireToolNames(s.requests[0]!.body);
        assert.ok(names.includes('read_file'));
        assert.ok(!names.includes('run_command') && !names.includes('web_fetch'), names.join(','));
        await rig.turn('plan it', { mode: 'plan' });
        const planNames = wireToolNames(s.requests[1]!.body);
        assert.ok(planNames.includes('read_file') && planNames.includes('finish'));
        assert.ok(!planNames.includes('edit_file') && !planNames.includes('write_file'), planNames.join(','));
      });
    });
  }
});
