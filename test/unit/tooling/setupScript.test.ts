/**
 * scripts/setup-test-env.sh waits for the dpkg lock (issue 11, item 10): a fresh machine's first apt
 * run often races another. The script runs against stand-in `dpkg` and `apt-get` commands on PATH: the
 * stand-in apt-get fails with apt's lock error unless it is told to wait for the lock, and loses the
 * race once more on the first try (the script must retry).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../../../scripts/setup-test-env.sh');

describe('setup-test-env.sh: apt waits for the dpkg lock', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-setup-'));
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // dpkg -s: every package is installed except tinyproxy.
    fs.writeFileSync(path.join(bin, 'dpkg'), '#!/bin/sh\n[ "$2" = tinyproxy ] && exit 1\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(
      path.join(bin, 'apt-get'),
      [
        '#!/bin/sh',
        `echo "$*" >> "${dir}/calls"`,
        'case "$*" in *DPkg::Lock::Timeout=*) ;; *) echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2; exit 100;; esac',
        // The first install still loses the race (the other apt finished its download, then took the lock again).
        `case "$*" in *install*) if [ ! -f "${dir}/lost-once" ]; then touch "${dir}/lost-once"; echo "E: Could not get lock" >&2; exit 100; fi;; esac`,
        'exit 0',
      ].join('\n'),
      { mode: 0o755 },
    );
    // `sleep` between retries: the stand-in returns at once.
    fs.writeFileSync(path.join(bin, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes a lock timeout to apt-get update and install, retries a lost race, and succeeds', () => {
    const r = spawnSync('bash', [SCRIPT, '--apt-only'], {
      env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}`, MULTICLAW_TEST_CACHE: path.join(dir, 'cache') },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
    assert.ok(
      calls.every((c) => c.includes('-o DPkg::Lock::Timeout=300')),
      calls.join('\n'),
    );
    assert.ok(calls.some((c) => c.includes(' update')));
    assert.equal(calls.filter((c) => c.includes(' install') && c.includes('tinyproxy')).length, 2, 'the lost race was retried');
    assert.match(r.stderr, /attempt 1 of 3/);
  });
});
