/**
 * The cloud desktop end to end in a private network namespace (viewerScenario.ts): the real
 * `multiclaw desktop` daemon (Xvfb, openbox, ffmpeg x11grab, xdotool), coturn with REST secrets, the
 * reference server, and the real viewer bundle in Debian's Chromium. One run, then one test per fact.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { canUseNetns, hasDesktopTools, runInNetns } from '../../../support/desktop/netns';

type Pair = { local: { type: string; relayProtocol: string | null; url: string | null }; remote: { type: string } };

describe('cloud desktop: daemon, viewer, TURN, proxy, reconnect (private network namespace)', function () {
  this.timeout(240_000);
  let f: Record<string, unknown>;
  before(async function () {
    if (!canUseNetns || !hasDesktopTools) this.skip(); // needs root and the Debian packages of scripts/setup-test-env.sh
    f = (await runInNetns(path.join(__dirname, 'viewerScenario.js'), {}, 220_000)).result;
    if (f.error) console.log(`scenario failed: ${String(f.error)}\n${String(f.daemonLog ?? '')}`);
  });

  it('enrolls as a desktop instance that reports online, its label and metrics', () => {
    assert.deepEqual([f.kind, f.status, f.label], ['desktop', 'online', 'netns · vm-1'], JSON.stringify(f));
    assert.equal(typeof f.cpuPct, 'number');
  });

  it('runs a task assigned to it: its agent proposes the plan, and after approval completes it', () => {
    assert.equal(f.planBy, 'desktop', JSON.stringify(f));
    assert.equal(f.taskDone, 'completed');
  });

  it('draws frames with the known pattern (root colour, the xterm where it was placed)', () => {
    assert.ok(Number(f.autoFrames) >= 10, JSON.stringify(f));
    assert.equal(f.rootMatches, true, `root pixel ${JSON.stringify(f.rootPixel)}`);
    assert.equal(f.xtermMatches, true, `xterm pixel ${JSON.stringify(f.xtermPixel)}`);
  });

  it('lands a click at the right remote pixel after scaling', () => {
    assert.notEqual(f.scale, 1, 'the canvas is scaled');
    const p = f.pointer as { x: number; y: number };
    const t = f.pointerTarget as { x: number; y: number };
    assert.ok(Math.abs(p.x - t.x) <= 2 && Math.abs(p.y - t.y) <= 2, `pointer ${JSON.stringify(p)} vs ${JSON.stringify(t)}`);
  });

  it('types into an X app on the desktop, and the text shows on the next frames', () => {
    assert.equal(f.typed, 'hello desktop\n');
    const px = f.textPixels as { before: number; after: number };
    assert.ok(px.after > px.before + 20, JSON.stringify(px));
  });

  it('relay mode selects a relay pair over TURN/TLS on 443, and the ledger lists TURN and the peers', () => {
    const p = f.relayPair as Pair;
    assert.equal(p.local.type, 'relay', JSON.stringify(p));
    assert.equal(p.local.relayProtocol, 'tls');
    assert.match(String(p.local.url), /^turns:198\.51\.100\.1:443/);
    const hosts = f.ledgerViewer as string[];
    assert.ok(hosts.includes('198.51.100.1:443') && hosts.includes('198.51.100.1:3478'), JSON.stringify(hosts));
    assert.ok(hosts.length >= 3, 'the peers too');
  });

  it('auto mode with UDP dropped falls back to TURN over TCP and still draws', () => {
    const p = f.noUdpPair as Pair;
    assert.equal(p.local.type, 'relay', JSON.stringify(p));
    assert.match(String(p.local.relayProtocol), /^(tcp|tls)$/);
    assert.ok(Number(f.noUdpFrames) >= 1);
  });

  it('relay mode works through an HTTP proxy (tinyproxy CONNECT to 443)', () => {
    assert.equal(f.proxyConnect, true);
    assert.equal((f.proxyPair as Pair).local.type, 'relay');
  });

  it('a viewer of another workspace cannot signal the desktop', () => {
    assert.equal(f.foreign, 'target_offline');
  });

  it('Stop and Start from the workspace change its status; the viewer reconnects after Start', () => {
    assert.deepEqual([f.stopStatus, f.stopped, f.startStatus, f.restarted], [200, 'stopped', 200, 'online']);
    assert.notEqual(f.viewerAfterStop, 'connected');
    assert.equal(f.viewerAfterStart, 'connected');
  });

  it('the daemon killed mid-stream: Reconnecting, then Connected and drawing when it returns', () => {
    assert.equal(f.afterKill, 'reconnecting');
    assert.equal(f.sameInstance, true, 'the same registration after a restart');
    assert.equal(f.afterReturn, 'connected');
    assert.equal(f.drawsAgain, true);
  });

  it('finished without an error', () => {
    assert.equal(f.error, undefined, String(f.error));
  });
});
