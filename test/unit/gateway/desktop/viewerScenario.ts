/**
 * The cloud desktop end to end, inside a private network namespace (run by viewer.test.ts through
 * runInNetns): the real `multiclaw desktop` daemon with Xvfb showing a known pattern (a blue root
 * window, a green xterm at a known place), coturn, the reference server, and the real viewer bundle in
 * Chromium. Each step records facts; the last stdout line is one JSON object the test asserts on.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startTinyproxy } from '../net/helpers';
import { startProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway } from '../../../support/gateway';
import { call, makeTeam } from '../../../support/server';
import { startDaemon, startRig, ViewerHost, xrun, type Daemon, type ViewerPage } from '../../../support/desktop/rig';
import { poll, until } from '../../../support/wait';
import { signIn } from '../../../../src/gateway/workspace/signIn';

type Facts = Record<string, unknown>;
const facts: Facts = {};
const log = (m: string): void => void process.stderr.write(`[scenario ${new Date().toISOString().slice(11, 23)}] ${m}\n`);

const RESULTS = path.resolve(process.env.MULTICLAW_RESULTS_DIR ?? 'test-results');
const shot = (name: string): string => {
  fs.mkdirSync(RESULTS, { recursive: true });
  return path.join(RESULTS, `${name}.png`);
};
const ROOT_RGB = [0x30, 0x60, 0xc0];
const XTERM = { x: 100, y: 100 };

async function pixel(v: ViewerPage, x: number, y: number): Promise<number[]> {
  return v.evaluate<number[]>(`Array.from(multiclawViewer.canvas.getContext('2d').getImageData(${x}, ${y}, 1, 1).data.slice(0, 3))`);
}

const near = (a: number[], b: number[], tol = 40): boolean => a.every((v, i) => Math.abs(v - b[i]) <= tol);

async function connected(v: ViewerPage, ms = 40_000): Promise<void> {
  await v.page.waitForFunction(
    () => (globalThis as unknown as { multiclawViewer: { state: string; frames: number } }).multiclawViewer.state === 'connected',
    undefined,
    {
      timeout: ms,
    },
  );
}

/** Page coordinates of remote pixel (x, y) through the canvas's on-screen box. */
async function pagePoint(v: ViewerPage, x: number, y: number): Promise<{ x: number; y: number }> {
  return v.evaluate<{ x: number; y: number }>(
    `(() => { const c = multiclawViewer.canvas; const r = c.getBoundingClientRect(); return { x: r.left + (${x} + 0.5) * r.width / c.width, y: r.top + (${y} + 0.5) * r.height / c.height }; })()`,
  );
}

async function darkPixels(v: ViewerPage, x: number, y: number, w: number, h: number): Promise<number> {
  return v.evaluate<number>(
    `(() => { const d = multiclawViewer.canvas.getContext('2d').getImageData(${x}, ${y}, ${w}, ${h}).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i+1] + d[i+2] < 200) n++; return n; })()`,
  );
}

async function main(): Promise<void> {
  const rig = await startRig();
  const host = new ViewerHost();
  await host.start(['--ignore-certificate-errors']); // coturn's TLS certificate is self-signed here
  const typed = path.join(rig.dir, 'typed.txt');
  const apps = [`xsetroot -solid '#3060c0'`, `xterm -geometry 40x6+${XTERM.x}+${XTERM.y} -bg '#20c040' -fg black -e sh -c 'cat > ${typed}'`];
  const home = path.join(rig.dir, 'desktop-home');
  const providers = await startProviderServer();
  const extraEnv = { MULTICLAW_OPENAI_COMPATIBLE_BASE_URL: providers.baseUrls['openai-compatible'] };
  let daemon: Daemon = await startDaemon(rig.server, rig.team, rig.team.people.admin, home, { apps, extraEnv });
  const instance = { id: daemon.instanceId, name: 'Build box' };
  try {
    // Status and metrics through the workspace.
    const listed = await poll(
      async () => {
        const r = await call<{ instances: Array<{ id: string; status: string; label: string | null; metrics: { cpuPct: number } | null; kind: string }> }>(
          rig.server.url,
          'GET',
          `/v1/workspaces/${rig.team.wid}/instances`,
          { token: rig.team.people.member.token },
        );
        const d = r.body.instances.find((i) => i.id === instance.id);
        return d && d.status === 'online' && d.metrics ? d : undefined;
      },
      20_000,
      'the desktop online with metrics',
    );
    facts.status = listed.status;
    facts.kind = listed.kind;
    facts.label = listed.label;
    facts.cpuPct = listed.metrics?.cpuPct;
    log('desktop online');

    // 0. A task assigned to the desktop runs there by itself: its agent's plan comes back for approval, then the result.
    const w = `/v1/workspaces/${rig.team.wid}`;
    const created = await call<{ task: { id: string } }>(rig.server.url, 'POST', `${w}/tasks`, {
      token: rig.team.owner.token,
      idem: true,
      body: { title: 'Tidy the desktop', prompt: 'List what is open.', assignee: { type: 'instance', instanceId: instance.id } },
    });
    const taskId = created.body.task.id;
    type Detail = { task: { status: string }; plans: Array<{ id: string; submittedBy: { id: string } }> };
    const detail = () => call<Detail>(rig.server.url, 'GET', `${w}/tasks/${taskId}`, { token: rig.team.owner.token });
    const planned = await poll(
      async () => {
        const d = (await detail()).body;
        return d.task.status === 'awaiting_approval' && d.plans.length ? d : undefined;
      },
      30_000,
      'the desktop’s plan',
    );
    facts.planBy = planned.plans[0].submittedBy.id === instance.id ? 'desktop' : planned.plans[0].submittedBy.id;
    await call(rig.server.url, 'POST', `${w}/tasks/${taskId}/plans/${planned.plans[0].id}/decision`, {
      token: rig.team.owner.token,
      idem: true,
      body: { decision: 'approved' },
    });
    facts.taskDone = await poll(async () => ((await detail()).body.task.status === 'completed' ? 'completed' : undefined), 30_000, 'the task completed');
    log('task ok');

    // 1. Auto mode: frames drawn; the known pattern is on the canvas.
    const v = await host.open(rig.viewerGateway, instance, 'auto');
    await connected(v);
    await v.page.waitForFunction(() => (globalThis as unknown as { multiclawViewer: { frames: number } }).multiclawViewer.frames >= 10, undefined, {
      timeout: 20_000,
    });
    facts.autoFrames = await v.evaluate<number>('multiclawViewer.frames');
    facts.rootPixel = await pixel(v, 1200, 650);
    facts.rootMatches = near(facts.rootPixel as number[], ROOT_RGB);
    facts.xtermPixel = await pixel(v, XTERM.x + 60, XTERM.y + 60);
    facts.xtermMatches = near(facts.xtermPixel as number[], [0x20, 0xc0, 0x40]);
    facts.autoPair = await v.evaluate('multiclawViewer.pair()');
    await v.page.screenshot({ path: shot('viewer-page-connected') });
    log(`auto connected: ${JSON.stringify(facts.autoPair)}`);

    // 2. Pointer mapping after scaling: a click on the canvas lands at the right remote pixel.
    const target = { x: XTERM.x + 40, y: XTERM.y + 20 };
    const p = await pagePoint(v, target.x, target.y);
    facts.scale = await v.evaluate<number>('multiclawViewer.canvas.getBoundingClientRect().width / multiclawViewer.canvas.width');
    await v.page.mouse.click(p.x, p.y);
    const loc = await poll(
      async () => {
        const out = await xrun(daemon.display, 'xdotool', ['getmouselocation']);
        const m = /x:(\d+) y:(\d+)/.exec(out);
        const at = m ? { x: Number(m[1]), y: Number(m[2]) } : undefined;
        return at && Math.abs(at.x - target.x) <= 2 && Math.abs(at.y - target.y) <= 2 ? at : undefined;
      },
      10_000,
      'the pointer at the clicked remote pixel',
    ).catch(async () => {
      const out = await xrun(daemon.display, 'xdotool', ['getmouselocation']);
      return { miss: out.trim() };
    });
    facts.pointer = loc;
    facts.pointerTarget = target;

    // 3. Typed text reaches the X app, and shows on the next frames.
    const before = await darkPixels(v, XTERM.x + 4, XTERM.y + 22, 236, 40);
    await v.page.keyboard.type('hello desktop');
    await v.page.keyboard.press('Enter');
    facts.typed = await poll(
      () => fs.existsSync(typed) && fs.readFileSync(typed, 'utf8').includes('hello desktop') && fs.readFileSync(typed, 'utf8'),
      15_000,
      'typed text in the file',
    );
    facts.textPixels = await poll(
      async () => {
        const n = await darkPixels(v, XTERM.x + 4, XTERM.y + 22, 236, 40);
        return n > before + 20 ? { before, after: n } : undefined;
      },
      10_000,
      'the typed text drawn',
    ).catch(() => ({ before, after: -1 }));
    log('typed');

    // 4. Relay mode (TURN over TLS on 443 only): a relay pair.
    const r = await host.open(rig.viewerGateway, instance, 'relay');
    await connected(r);
    facts.relayPair = await r.evaluate('multiclawViewer.pair()');
    facts.relayFrames = await r.evaluate<number>('multiclawViewer.frames');
    await r.page.screenshot({ path: shot('viewer-page-relay') });
    facts.ledgerViewer = rig.viewerGateway.gateway.ledger
      .activity()
      .filter((h) => h.purpose === 'desktop:viewer')
      .map((h) => `${h.host}:${h.port}`);
    await r.close();
    log('relay ok');

    // 5. A viewer of another workspace cannot signal the desktop.
    const t2 = await makeTeam(rig.server, ['member']);
    const other = await createTestGateway(undefined);
    await signIn(other.gateway.link, { serverUrl: rig.server.url, email: t2.people.member.email, password: t2.people.member.password }, async () => undefined);
    await until(other.gateway.linkStatus.onDidChange, () => other.gateway.link.isConnected, 10_000, 'other connected');
    const refused = new Promise<string>((resolve) => other.gateway.link.onDidRefuseSignal((e) => resolve(e.code)));
    other.gateway.link.sendSignal({ id: 'sig-foreign', sessionId: 'vs-foreign', kind: 'offer', to: { instanceId: instance.id }, payload: { sdp: 'v=0' } });
    facts.foreign = await refused;
    await other.close();

    // 6. Lifecycle from the workspace: Stop → stopped (the viewer is told), Start → online again.
    const lc = (action: string) =>
      call(rig.server.url, 'POST', `/v1/workspaces/${rig.team.wid}/instances/${instance.id}/lifecycle`, {
        token: rig.team.owner.token,
        idem: true,
        body: { action },
      });
    const statusOf = async () =>
      (
        await call<{ instances: Array<{ id: string; status: string }> }>(rig.server.url, 'GET', `/v1/workspaces/${rig.team.wid}/instances`, {
          token: rig.team.owner.token,
        })
      ).body.instances.find((i) => i.id === instance.id)?.status;
    facts.stopStatus = (await lc('stop')).status;
    facts.stopped = await poll(async () => ((await statusOf()) === 'stopped' ? 'stopped' : undefined), 15_000, 'stopped');
    await v.page.waitForFunction(() => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state !== 'connected', undefined, {
      timeout: 15_000,
    });
    facts.viewerAfterStop = await v.state();
    facts.startStatus = (await lc('start')).status;
    facts.restarted = await poll(async () => ((await statusOf()) === 'online' ? 'online' : undefined), 20_000, 'online again');
    await connected(v, 40_000);
    facts.viewerAfterStart = await v.state();
    log('lifecycle ok');

    // 7. Kill the daemon mid-stream: Reconnecting, then Connected when it returns.
    await daemon.kill9();
    await v.page.waitForFunction(() => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state === 'reconnecting', undefined, {
      timeout: 30_000,
    });
    facts.afterKill = 'reconnecting';
    daemon = await startDaemon(rig.server, rig.team, rig.team.people.admin, home, { apps, extraEnv });
    facts.sameInstance = daemon.instanceId === instance.id;
    await connected(v, 60_000);
    facts.afterReturn = await v.state();
    const framesNow = await v.evaluate<number>('multiclawViewer.frames');
    await v.page.waitForFunction((n) => (globalThis as unknown as { multiclawViewer: { frames: number } }).multiclawViewer.frames > n + 5, framesNow, {
      timeout: 20_000,
    });
    facts.drawsAgain = true;
    log('reconnect ok');
    await v.close();

    // 8. UDP dropped in the namespace (except TURN's relay ports): auto falls back to TURN over TCP/TLS.
    await run('iptables', ['-A', 'INPUT', '-p', 'udp', '--dport', '49160:49400', '-j', 'ACCEPT']);
    await run('iptables', ['-A', 'INPUT', '-p', 'udp', '--sport', '49160:49400', '-j', 'ACCEPT']);
    await run('iptables', ['-A', 'INPUT', '-p', 'udp', '-j', 'DROP']);
    const u = await host.open(rig.viewerGateway, instance, 'auto');
    await connected(u, 60_000);
    facts.noUdpPair = await u.evaluate('multiclawViewer.pair()');
    facts.noUdpFrames = await u.evaluate<number>('multiclawViewer.frames');
    await u.close();
    await run('iptables', ['-F', 'INPUT']);
    log('no-udp ok');

    // 9. Relay mode through an HTTP proxy (tinyproxy, CONNECT) — Chromium tunnels TURN/TLS through it.
    const proxy = await startTinyproxy();
    const proxied = new ViewerHost();
    await proxied.start([`--proxy-server=${proxy.url}`, '--proxy-bypass-list=<-loopback>;127.0.0.1', '--ignore-certificate-errors']);
    const pv = await proxied.open(rig.viewerGateway, instance, 'relay');
    await connected(pv, 60_000);
    facts.proxyPair = await pv.evaluate('multiclawViewer.pair()');
    facts.proxyConnect = /CONNECT 198\.51\.100\.1:443/.test(proxy.log());
    await pv.close();
    await proxied.close();
    await proxy.stop();
    log('proxy ok');
  } catch (err) {
    facts.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    facts.daemonLog = daemon.log().slice(-6000);
  } finally {
    await daemon.stop().catch(() => undefined);
    await host.close();
    await rig.close().catch(() => undefined);
    await providers.close();
  }
  process.stdout.write(JSON.stringify(facts) + '\n');
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));
}

void main().then(() => process.exit(0));
