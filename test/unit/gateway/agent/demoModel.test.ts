/**
 * `npm start`'s demo model (the provider fixture in DEMO mode) through the real agent loop: a plain
 * message gets the keyword list, "list the files" / "edit hello.js" / "create a notes file" run the
 * real tools and the reply reports the result, and Restricted Mode's refusal is reported, not hidden.
 */
import assert from 'node:assert/strict';
import { DEMO_SAMPLE_FILE, DEMO_SAMPLE_TEXT } from '../../../fixtures/providerServerDemo';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { agentRig, type AgentRig } from './helpers';

describe('the demo model (provider fixture, DEMO mode) through the agent loop', () => {
  let server: ProviderServer;
  let rig: AgentRig | undefined;
  before(async () => {
    server = await startProviderServer({ demo: true });
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  after(() => server.close());

  const lastText = (c: { messages: ReadonlyArray<{ role: string; text: string }> }): string =>
    c.messages.filter((m) => m.role === 'assistant').at(-1)?.text ?? '';

  it('answers a plain message with the keywords it knows, honestly labelled', async () => {
    rig = await agentRig(server, 'openai-compatible');
    const c = await rig.turn('Hello there');
    assert.match(lastText(c), /demo model\*\*: scripted replies, no AI/);
    assert.equal(rig.cards(c.id).length, 0);
  });

  it('runs list_files, edit_file and write_file for their keywords and reports each result', async () => {
    rig = await agentRig(server, 'openai-compatible', { files: { [DEMO_SAMPLE_FILE]: DEMO_SAMPLE_TEXT, 'README.md': '# Sample\n' } });
    const listed = await rig.turn('list the files');
    assert.deepEqual(
      rig.cards(listed.id).map((x) => `${x.name}:${x.status}`),
      ['list_files:done'],
    );
    assert.match(lastText(listed), /The tool answered[\s\S]*hello\.js/);

    const edited = await rig.turn(`edit ${DEMO_SAMPLE_FILE}`);
    assert.deepEqual(
      rig.cards(edited.id).map((x) => `${x.name}:${x.status}`),
      ['edit_file:done'],
    );
    assert.equal(rig.file(DEMO_SAMPLE_FILE), "console.log('Hello from MultiClaw');\n");

    const created = await rig.turn('create a notes file');
    assert.deepEqual(
      rig.cards(created.id).map((x) => `${x.name}:${x.status}`),
      ['write_file:done'],
    );
    assert.match(rig.file('demo-notes.md'), /^# Notes from the demo model/);
  });

  it('in Restricted Mode, says the write tool is not available instead of calling it', async () => {
    rig = await agentRig(server, 'openai-compatible', { trusted: false });
    const c = await rig.turn('create a notes file');
    assert.equal(rig.cards(c.id).length, 0);
    assert.match(lastText(c), /`write_file` is not available here/);
  });
});
