/**
 * Cloud desktops in real VS Code (packaged VSIX in code-server + Chromium), in a private network
 * namespace (desktopScenario.ts, with the real daemon, coturn and the reference server). One run, then
 * one test per fact. Screenshots (test-results/desktop-*.png): the Instances view and the viewer
 * connected, reconnecting, relay and failed, in the dark and the light theme.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { canUseNetns, hasDesktopTools, runInNetns } from '../support/desktop/netns';

describe('MultiClaw cloud desktops UI (packaged VSIX in code-server + Chromium, private network namespace)', function () {
  this.timeout(420_000);
  let f: Record<string, unknown>;
  before(async function () {
    if (!canUseNetns || !hasDesktopTools) this.skip(); // needs root and the Debian packages of scripts/setup-test-env.sh
    f = (await runInNetns(path.join(__dirname, 'desktopScenario.js'), {}, 400_000)).result;
    if (f.error) console.log(`desktop e2e failed: ${String(f.error)}\n${String(f.daemonLog ?? '')}`);
  });

  it('lists the desktop in the Instances view with its status, label and live metrics', () => {
    assert.match(String(f.treeRow), /Build box.*Online.*netns · vm-1/, String(f.treeRow));
    assert.match(String(f.metricsRow), /CPU \d+% · RAM .* GB · Disk .* GB/, String(f.metricsRow));
  });

  it('connects from the view: the viewer tab draws the desktop, the status bar names it, the Tasks list switches to it', () => {
    assert.match(String(f.darkChip), /Connected · (direct|relay)/);
    assert.match(String(f.statusItem), /Cloud desktop · Build box/);
    assert.match(String(f.tasksFocus), /Tasks.*Cloud desktop · Build box/i, 'the Tasks list switches to the connected desktop');
    const near = (a: unknown, b: number[]) => (a as number[]).every((v, i) => Math.abs(v - b[i]) <= 40);
    assert.ok(near(f.darkRoot, [0x30, 0x60, 0xc0]), `root ${JSON.stringify(f.darkRoot)}`);
    assert.ok(near(f.darkXterm, [0x20, 0xc0, 0x40]), `xterm ${JSON.stringify(f.darkXterm)}`);
  });

  it('types from the viewer into an X app on the desktop', () => {
    assert.equal(f.vscodeTyped, 'yes');
  });

  it('shows Reconnecting when the daemon dies, then Connected when it returns', () => {
    assert.equal(f.darkReconnecting, true);
    assert.equal(f.darkBack, 'connected');
  });

  it('relay mode (the setting) connects through TURN over TLS on 443', () => {
    assert.match(String(f.relayChip), /Connected · relay/);
    assert.equal((f.lightPair as { local: { type: string } }).local.type, 'relay');
  });

  it('Terminate from the view: the viewer fails with the reason, the desktop leaves and removes its data', () => {
    assert.match(String(f.failedText), /terminated/);
    assert.equal(f.rowGone, true);
    assert.equal(f.daemonExited, 'yes');
    assert.equal(f.dataRemoved, true);
  });

  it('finished without an error', () => {
    assert.equal(f.error, undefined, String(f.error));
  });
});
