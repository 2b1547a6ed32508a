/** Small real implementations of the store's ports for tests, and a realistic conversation. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Conversation, ConversationStore } from '../../../../src/gateway/store/conversationStore';
import type { ManualClock } from '../../../support/clock';

export { ManualClock } from '../../../support/clock';
export { MemoryLogger } from '../../../support/logger';

/** A fresh temp folder per test; `cleanup()` removes them all. */
export class TempDirs {
  private readonly dirs: string[] = [];

  /** `memory`: prefer a RAM-backed folder (/dev/shm) where there is one, for tests that fsync thousands of times. */
  make(options: { memory?: boolean } = {}): string {
    const base = options.memory && existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const dir = mkdtempSync(path.join(base, 'multiclaw-store-'));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Streams `parts` into a reply, firing the flush timer after each part so each becomes a chunk record. */
export async function streamReply(conv: Conversation, clock: ManualClock, agentId: string, parts: string[]): Promise<string> {
  const reply = await conv.beginAssistant(agentId);
  for (const p of parts) {
    conv.appendDelta(reply.id, p);
    clock.fireTimers();
    await conv.whenIdle();
  }
  return reply.id;
}

/**
 * Writes a conversation with every record type: user messages (multi-line, non-ASCII), replies in
 * several chunks that complete / fail / get cancelled, a removed reply, a rename, an agent change.
 */
export async function writeRealisticConversation(store: ConversationStore, clock: ManualClock): Promise<Conversation> {
  const conv = await store.create({ agentId: 'agent-a', taskId: 'task-7' });
  clock.advance(1000);
  await conv.appendUser('Explain the parser\nwith an example');
  clock.advance(10);
  const r1 = await streamReply(conv, clock, 'agent-a', ['The parser ', 'reads tokens ', 'one by one.']);
  await conv.finishAssistant(r1, {
    status: 'complete',
    finishReason: 'stop',
    usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 4, provider: 'openai', model: 'gpt-4o-mini' },
  });
  clock.advance(1000);
  await conv.appendUser('Ünïcödé: 日本語 🎉 "quotes" \\ backslash');
  const r2 = await streamReply(conv, clock, 'agent-a', ['Partial ', 'answer']);
  await conv.finishAssistant(r2, { status: 'error', error: { kind: 'rate_limit', message: 'Too many requests', retryable: true } });
  await conv.removeMessage(r2);
  const r3 = await streamReply(conv, clock, 'agent-a', ['Second ', 'try 🎉']);
  await conv.finishAssistant(r3, { status: 'complete', finishReason: 'stop' });
  await conv.setTitle('Parser questions');
  await conv.setAgent('agent-b');
  clock.advance(1000);
  await conv.appendUser('Stop halfway');
  const r4 = await streamReply(conv, clock, 'agent-b', ['Half']);
  await conv.finishAssistant(r4, { status: 'cancelled', finishReason: 'cancelled' });
  clock.advance(1000);
  await conv.appendUser('Read a.ts and run the tests');
  const r5 = await streamReply(conv, clock, 'agent-b', ['Reading.']);
  conv.addToolCalls(r5, [
    { call: { id: 'call_1', name: 'read_file', arguments: { path: 'a.ts' } }, kind: 'read', subject: 'a.ts' },
    {
      call: { id: 'call_2', name: 'run_command', arguments: { command: 'npm test' }, providerData: { thoughtSignature: 'sig' } },
      kind: 'command',
      subject: 'npm test',
    },
  ]);
  await conv.finishAssistant(r5, { status: 'complete', finishReason: 'tool_calls' });
  await conv.appendToolResult(r5, { callId: 'call_1', status: 'done', content: 'File a.ts (1 lines):\nexport {};', durationMs: 3 });
  await conv.appendToolResult(r5, { callId: 'call_2', status: 'error', content: '$ npm test\n1 failing\n[exit code 1]', durationMs: 900, exitCode: 1 }, true);
  return conv;
}
