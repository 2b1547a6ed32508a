/** Skills: SKILL.md parsing, a malformed one beside good ones, enable/disable (persisted) and what the model gets. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSkillMd } from '../../../../src/gateway/skills/skillFile';
import { SkillLibrary } from '../../../../src/gateway/skills/skillLibrary';
import { MemoryLogger } from '../../../support/logger';

function write(root: string, dir: string, text: string): string {
  fs.mkdirSync(path.join(root, dir), { recursive: true });
  const f = path.join(root, dir, 'SKILL.md');
  fs.writeFileSync(f, text);
  return f;
}

describe('skills', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-skills-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('parses front matter (plain, quoted, folded, nested maps skipped) and the body', () => {
    const s = parseSkillMd(
      [
        '---',
        'name: pdf-forms',
        'description: >',
        '  Fills PDF forms.',
        '  Use when the user mentions a PDF form.',
        'license: "MIT" # a comment',
        'metadata:',
        '  author: someone',
        'allowed-tools:',
        '  - Bash(git:*)',
        '---',
        '',
        '# Filling forms',
        'Step 1: read the form.',
      ].join('\n'),
      'pdf-forms',
    );
    assert.equal(s.name, 'pdf-forms');
    assert.equal(s.description, 'Fills PDF forms. Use when the user mentions a PDF form.');
    assert.equal(s.body, '# Filling forms\nStep 1: read the form.');
    assert.deepEqual(s.extra, { license: 'MIT' });
    assert.equal(parseSkillMd("---\nname: a\ndescription: 'It''s quoted'\n---\nbody", 'a').description, "It's quoted");
    assert.equal(parseSkillMd('---\r\nname: a\r\ndescription: |\r\n  line one\r\n  line two\r\n---\r\nbody\r\n', 'a').description, 'line one\nline two');
  });

  it('refuses malformed skills with a clear reason', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['no front matter here', 'a', /no front matter/],
      ['---\ndescription: x\n---\n', 'a', /no "name"/],
      ['---\nname: a\n---\n', 'a', /no "description"/],
      ['---\nname: Bad_Name\ndescription: x\n---\n', 'Bad_Name', /not valid: 1–64 lowercase/],
      ['---\nname: other\ndescription: x\n---\n', 'mine', /must equal its folder's name "mine"/],
      ['---\nname: a\ndescription: "never closed\n---\n', 'a', /line 3: the quoted value of "description" is not closed/],
      ['---\nname: a\nthis is not yaml\n---\n', 'a', /line 3: expected "key: value"/],
      [`---\nname: a\ndescription: ${'d'.repeat(1025)}\n---\n`, 'a', /1025 characters; at most 1024/],
    ];
    for (const [text, dir, re] of bad) assert.throws(() => parseSkillMd(text, dir), re, text.slice(0, 40));
  });

  it('loads workspace, pushed and user skills; a malformed one is reported and the others still load', async () => {
    const ws = path.join(tmp, 'ws');
    const user = path.join(tmp, 'user-skills');
    write(
      path.join(ws, '.multiclaw', 'skills'),
      'release-notes',
      '---\nname: release-notes\ndescription: Writes release notes from merged PRs.\n---\nUse the changelog.',
    );
    const broken = write(path.join(ws, '.multiclaw', 'skills'), 'broken', '---\nname: broken\ndescription: "oops\n---\n');
    write(user, 'code-review', '---\nname: code-review\ndescription: Reviews a diff for bugs.\n---\nLook for races.');
    write(user, 'release-notes', '---\nname: release-notes\ndescription: the user copy, shadowed\n---\nx');
    const logger = new MemoryLogger();
    const lib = new SkillLibrary(path.join(tmp, 'storage'), logger);
    await lib.load({
      workspaceFolders: [ws],
      userFolder: user,
      pushed: [{ name: 'triage', text: '---\nname: triage\ndescription: Triage new issues.\n---\nLabel them.' }],
    });
    assert.deepEqual(
      lib.skills().map((s) => [s.name, s.source, s.enabled]),
      [
        ['release-notes', 'workspace', true],
        ['triage', 'pushed', true],
        ['code-review', 'user', true],
      ],
    );
    assert.deepEqual(lib.problems(), [{ path: broken, error: 'front matter line 3: the quoted value of "description" is not closed' }]);
    assert.ok(logger.lines.some((l) => l.includes(broken) && l.includes('not closed')));
    assert.ok(logger.lines.some((l) => /shadowed/.test(l)));
  });

  it('a disabled skill is absent from the prompt and from read_skill, persisted across loads', async () => {
    const user = path.join(tmp, 'skills');
    write(user, 'alpha', '---\nname: alpha\ndescription: First skill.\n---\nAlpha body.');
    write(user, 'beta', '---\nname: beta\ndescription: Second skill.\n---\nBeta body.');
    const storage = path.join(tmp, 'storage');
    const lib = new SkillLibrary(storage, new MemoryLogger());
    await lib.load({ userFolder: user });
    assert.match(lib.skillsPrompt(), /- alpha: First skill\.\n- beta: Second skill\./);
    assert.equal(lib.readSkillTool().name, 'read_skill');
    const read = lib.readSkill({ name: 'beta' });
    assert.equal(read.isError, false);
    assert.match(read.content, /^# Skill: beta\n\nBeta body\./);

    await lib.setEnabled('beta', false);
    assert.doesNotMatch(lib.skillsPrompt(), /beta/);
    assert.match(lib.skillsPrompt(), /alpha/);
    assert.deepEqual(lib.readSkill({ name: 'beta' }), { isError: true, content: 'There is no enabled skill named "beta". Available: alpha.' });
    assert.equal(lib.skills().find((s) => s.name === 'beta')?.enabled, false, 'still in the library');

    const next = new SkillLibrary(storage, new MemoryLogger());
    await next.load({ userFolder: user });
    assert.doesNotMatch(next.skillsPrompt(), /beta/);
    await next.setEnabled('alpha', false);
    assert.equal(next.skillsPrompt(), '', 'no enabled skills: no block at all');
  });
});
