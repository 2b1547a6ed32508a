/**
 * Reviewable changes through the gateway: pending files after an agent turn, Keep, Undo (a created
 * file is removed), Revert to here restoring three files, the user's own edits reported to the
 * model, and checkpoints that survive a restart (a corrupt checkpoint file is ignored).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { waitFor } from '../../../support/wait';
import { agentRig, toolResultsIn, type AgentRig } from './helpers';

const edit = (p: string, from: string, to: string): { name: string; arguments: Record<string, unknown> } => ({
  name: 'edit_file',
  arguments: { path: p, edits: [{ old_text: from, new_text: to }] },
});

describe('agent changes: Keep, Undo, Revert to here', function () {
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

  it('Revert to here restores the three files two turns touched, after a restart', async () => {
    rig = await agentRig(server, 'openai', { files: { 'a.txt': 'a1\n', 'b.txt': 'b1\n' } });
    server.script([
      { toolCalls: [edit('a.txt', 'a1', 'a2'), { name: 'write_file', arguments: { path: 'new/c.txt', content: 'c1\n' } }] },
      { text: 'first done' },
      { toolCalls: [edit('b.txt', 'b1', 'b2'), edit('a.txt', 'a2', 'a3')] },
      { text: 'second done' },
    ]);
    const changed = waitFor(rig.t.gateway.onDidChangeFiles, (e) => e.files.length === 2, 10_000, 'two pending files');
    const conv = await rig.turn('first');
    const firstUser = conv.messages[0]!.id;
    assert.deepEqual(
      (await changed).files.map((f) => [f.label, f.kind]),
      [
        ['a.txt', 'modified'],
        ['new/c.txt', 'created'],
      ],
    );
    assert.ok(rig.events.some((e) => e.type === 'changes' && e.conversationId === conv.id));
    await rig.turn('second', {}, conv.id);
    assert.deepEqual([rig.file('a.txt'), rig.file('b.txt'), rig.file('new/c.txt')], ['a3\n', 'b2\n', 'c1\n']);
    await rig.t.gateway.restart(); // checkpoints are on disk
    const restored = await rig.t.gateway.revertTo(conv.id, firstUser);
    assert.equal(restored.length, 3);
    assert.deepEqual([rig.file('a.txt'), rig.file('b.txt')], ['a1\n', 'b1\n']);
    assert.equal(fs.existsSync(path.join(rig.ws, 'new/c.txt')), false, 'a file the agent created is removed');
    assert.deepEqual(rig.t.gateway.pendingChanges(conv.id), []);
  });

  it('Keep ends the review; Undo writes the original back; the diff gets the original', async () => {
    rig = await agentRig(server, 'anthropic', { files: { 'k.txt': 'keep me\n', 'u.txt': 'undo me\n' } });
    server.script([{ toolCalls: [edit('k.txt', 'keep me', 'kept'), edit('u.txt', 'undo me', 'changed')] }, { text: 'done' }]);
    const conv = await rig.turn('go');
    const k = path.join(rig.ws, 'k.txt');
    const u = path.join(rig.ws, 'u.txt');
    assert.equal(rig.t.gateway.originalContent(u), 'undo me\n');
    assert.equal(rig.t.gateway.keepChange(k), true);
    assert.equal(await rig.t.gateway.undoChange(u), true);
    assert.deepEqual([rig.file('k.txt'), rig.file('u.txt')], ['kept\n', 'undo me\n']);
    assert.deepEqual(rig.t.gateway.pendingChanges(conv.id), []);
    assert.equal(await rig.t.gateway.undoChange(u), false, 'nothing left to undo');
  });

  it('tells the model about the user changing a file it edited, and refuses the first edit against text it never saw, with the current excerpt', async () => {
    rig = await agentRig(server, 'gemini', { files: { 'f.txt': 'one\ntwo\n' } });
    const s = server.script([
      { toolCalls: [{ name: 'read_file', arguments: { path: 'f.txt' } }] },
      { toolCalls: [edit('f.txt', 'one', 'ONE')] },
      { text: 'edited' },
      { toolCalls: [edit('f.txt', 'two', 'TWO')] },
      { toolCalls: [edit('f.txt', 'two', 'TWO')] },
      { text: 'ok' },
    ]);
    const conv = await rig.turn('edit');
    fs.writeFileSync(path.join(rig.ws, 'f.txt'), 'ONE\ntwo\nthree by the user\n');
    await rig.turn('again', {}, conv.id);
    assert.match(JSON.stringify(s.requests[3]!.body), /The user changed f.txt since your last edit/);
    const [stale, retried] = rig.cards(conv.id).slice(-2);
    assert.equal(stale!.status, 'error');
    assert.match(stale!.result ?? '', /changed since you read it[\s\S]*3\D+three by the user/);
    assert.equal(retried!.status, 'done', retried!.result);
    assert.equal(rig.file('f.txt'), 'ONE\nTWO\nthree by the user\n');
    assert.match(toolResultsIn(s.requests[4]!.body).join('\n'), /changed since you read it/);
  });

  it('ignores a corrupt checkpoint file with a log line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cp-'));
    const cid = '01234567-89ab-cdef-0123-456789abcdef';
    fs.mkdirSync(path.join(dir, 'checkpoints'));
    fs.writeFileSync(path.join(dir, 'checkpoints', `${cid}.json`), '{"version":1, "checkpoints": [');
    rig = await agentRig(server, 'openai', { dir });
    assert.deepEqual(rig.t.gateway.pendingChanges(), []);
    assert.ok(
      rig.t.logger.sink.lines.some((l) => /checkpoints of 01234567.* ignored/.test(l)),
      'logged',
    );
  });
});
