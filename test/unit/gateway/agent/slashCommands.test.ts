/**
 * The composer's slash commands through the real gateway to the provider fixture: what `parseSlash`
 * makes of `/plan`, `/fix` and a skill's name is what the agent loop sends. `/plan` goes out in plan
 * mode (the request body names no write tool, the plain message before it does); `/fix` carries the
 * Problems of the selected lines and not those outside; a skill's command reaches the model as
 * "Use the skill …" with `read_skill` offered; an unknown `/word` is sent as typed.
 */
import assert from 'node:assert/strict';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { until } from '../../../support/wait';
import { problemsContextItem, type ProblemInfo } from '../../../../src/gateway/chat/problemsContext';
import { parseSlash, slashCompletions } from '../../../../src/protocol/slashCommands';
import { wireToolNames } from '../providers/tools';
import { AGENT_PROVIDERS, agentRig, type AgentRig } from './helpers';

const WRITE_TOOLS = ['edit_file', 'write_file', 'run_command'];

describe('slash commands through the agent loop', function () {
  this.timeout(60_000);
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

  for (const provider of AGENT_PROVIDERS) {
    it(`/plan sends the text after it in plan mode: no write tools in the request (${provider})`, async () => {
      rig = await agentRig(server, provider);
      const s = server.script([{ text: 'done' }, { text: 'the plan' }]);
      await rig.turn('hello');
      const act = wireToolNames(s.requests[0]!.body);
      assert.ok(
        WRITE_TOOLS.every((t) => act.includes(t)),
        `a plain message offers the write tools: ${act.join(',')}`,
      );

      const action = parseSlash('/plan   add a CSV export', []);
      assert.deepEqual(action, { kind: 'send', text: 'add a CSV export', mode: 'plan' });
      assert.ok(action.kind === 'send');
      await rig.turn(action.text, { mode: action.mode });
      const plan = wireToolNames(s.requests[1]!.body);
      assert.ok(plan.includes('read_file'), plan.join(','));
      assert.deepEqual(
        plan.filter((t) => WRITE_TOOLS.includes(t)),
        [],
        'plan mode offers no write tool',
      );
      const body = JSON.stringify(s.requests[1]!.body);
      assert.match(body, /add a CSV export/);
      assert.doesNotMatch(body, /\/plan/, 'the command word is not sent');
    });
  }

  it('/fix carries the Problems of the selected lines, not those outside them', async () => {
    rig = await agentRig(server, 'openai', { files: { 'src/m.ts': 'const a: number = "x";\n\n\nconst b = c;\n' } });
    const problems: ProblemInfo[] = [
      { line: 1, endLine: 1, column: 7, severity: 'error', message: "Type 'string' is not assignable to type 'number'.", source: 'ts', code: '2322' },
      { line: 4, endLine: 4, column: 11, severity: 'error', message: "Cannot find name 'c'.", source: 'ts', code: '2304' },
    ];
    const action = parseSlash('/fix', [], 'selection');
    assert.equal(action.kind === 'send' && action.problems && action.needsActive, true);
    const item = problemsContextItem('src/m.ts:1-2', problems, { start: 1, end: 2 });
    assert.equal(item.kind, 'problems');
    const s = server.script([{ text: 'fixed' }]);
    await rig.turn(action.kind === 'send' ? action.text : '', { context: [item] });
    const body = JSON.stringify(s.requests[0]!.body);
    assert.match(body, /1:7 error: Type 'string' is not assignable to type 'number'\. \[ts 2322\]/);
    assert.doesNotMatch(body, /Cannot find name/, 'a problem outside the selection stays out');
    assert.match(body, /Fix the problems listed in the attached Problems in the attached selection/);
  });

  it("a skill's command asks for the skill by name; an unknown /word goes as typed", async () => {
    const skill = '---\nname: release-notes\ndescription: How we write release notes.\n---\nNOTES-BODY\n';
    rig = await agentRig(server, 'anthropic', { files: { '.multiclaw/skills/release-notes/SKILL.md': skill } });
    await until(rig.t.gateway.onDidChangeSkills, () => rig!.t.gateway.skills().length === 1 || undefined, 10_000, 'the skill');
    const skills = rig.t.gateway.skills().map((x) => x.name);
    assert.deepEqual(
      slashCompletions('re', skills).map((c) => c.name),
      ['release-notes'],
    );
    const action = parseSlash('/release-notes for v2.1', skills);
    assert.deepEqual(action, { kind: 'send', text: 'Use the skill release-notes: for v2.1' });
    const s = server.script([{ text: 'ok' }, { text: 'ok' }]);
    await rig.turn(action.text);
    assert.ok(wireToolNames(s.requests[0]!.body).includes('read_skill'));
    assert.match(JSON.stringify(s.requests[0]!.body), /Use the skill release-notes: for v2\.1/);

    const unknown = parseSlash('/deploy now', skills);
    assert.deepEqual(unknown, { kind: 'send', text: '/deploy now' });
    assert.deepEqual(parseSlash('/new', skills), { kind: 'newConversation' });
    assert.deepEqual(parseSlash('/new feature idea', skills), { kind: 'send', text: '/new feature idea' }, 'text after /new is a message');
  });

  it('the Problems item: no problem says so; the list is capped visibly', () => {
    const none = problemsContextItem('src/a.ts', []);
    assert.equal(none.text, 'No problems are reported in src/a.ts.');
    assert.equal(none.truncated, false);
    const many = Array.from(
      { length: 250 },
      (_, i): ProblemInfo => ({ line: i + 1, endLine: i + 1, column: 1, severity: i === 249 ? 'error' : 'warning', message: `p${i}` }),
    );
    const item = problemsContextItem('src/a.ts', many);
    assert.equal(item.truncated, true);
    assert.match(item.text, /^250:1 error: p249\n/, 'errors first');
    assert.match(item.text, /\(50 more not listed\)$/);
  });
});
