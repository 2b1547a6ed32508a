import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../../src/gateway/util/atomicFile';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-atomic-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces the file with owner-only permissions and leaves no temp file', async () => {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    fs.writeFileSync(`${file}.tmp-${process.pid}`, 'stale from a crash');
    await writeFileAtomic(file, 'new');
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ['state.json']);
  });

  it('rethrows a failure and keeps the old content', async () => {
    const file = path.join(dir, 'missing-dir', 'state.json');
    await assert.rejects(writeFileAtomic(file, 'x'), /ENOENT/);
    const target = path.join(dir, 'target');
    fs.mkdirSync(target); // rename over a directory fails
    await assert.rejects(writeFileAtomic(target, 'x'));
    assert.ok(fs.statSync(target).isDirectory());
    assert.deepEqual(fs.readdirSync(dir), ['target'], 'no temp file is left behind');
  });
});
