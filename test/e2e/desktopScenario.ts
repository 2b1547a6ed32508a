/**
 * The cloud desktop in real VS Code (code-server + Chromium, the packaged VSIX), inside a private
 * network namespace (run by desktop.e2e.ts): sign in, the Instances view with live metrics, Connect,
 * the viewer tab drawing the desktop's known pattern, typing into it, the daemon killed and back,
 * relay mode, Terminate from the view (the viewer says Failed). Screenshots light and dark. Each step
 * records facts; the last stdout line is one JSON object.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { Workbench } from '../harness/workbench';
import { startDaemon, startRig, type Daemon, type Rig } from '../support/desktop/rig';
import type { Person } from '../support/server';
import { poll } from '../support/wait';

/** The bits of a page canvas these probes use (the test compiles without DOM types). */
interface Canvas {
  width: number;
  getBoundingClientRect(): { width: number };
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

const facts: Record<string, unknown> = {};
const log = (m: string): void => void process.stderr.write(`[desktop-e2e ${new Date().toISOString().slice(11, 23)}] ${m}\n`);
const VSIX = process.env.MULTICLAW_VSIX ?? path.resolve('dist/multiclaw.vsix');
const XTERM = { x: 100, y: 100 };

async function typeAndEnter(wb: Workbench, prompt: string, text: string): Promise<void> {
  const widget = wb.page.locator('.quick-input-widget', { hasText: prompt });
  await widget.waitFor();
  await widget.locator('input').first().fill(text);
  await wb.page.keyboard.press('Enter');
}

async function signInAs(wb: Workbench, who: Person): Promise<void> {
  await wb.activityBarItem('MultiClaw').click();
  await wb.statusBarItem('Signed out').waitFor({ timeout: 60_000 });
  await wb.runCommand('MultiClaw: Sign In');
  await wb.pickQuickItem('Email and password');
  await typeAndEnter(wb, 'Email', who.email);
  await typeAndEnter(wb, 'Password for', who.password);
  await wb.statusBarItem(/Connected · Team/).waitFor({ timeout: 30_000 });
}

async function expandInstances(wb: Workbench): Promise<void> {
  const pane = wb.viewPane('Instances');
  await pane.waitFor();
  const header = pane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  // Give the views room: collapse Conversations (it starts expanded).
  const conv = wb.viewPane('Conversations').locator('.pane-header').first();
  if ((await conv.getAttribute('aria-expanded')) === 'true') await conv.click();
}

const viewerState = (f: Frame): Promise<string> => f.evaluate(() => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state);

async function waitState(f: Frame, state: string, ms: number): Promise<void> {
  await f.waitForFunction((s) => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state === s, state, { timeout: ms });
}

async function pixel(f: Frame, x: number, y: number): Promise<number[]> {
  return f.evaluate(
    ([px, py]) => {
      const c = (globalThis as unknown as { multiclawViewer: { canvas: Canvas } }).multiclawViewer.canvas;
      return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data.slice(0, 3));
    },
    [x, y],
  );
}

/**
 * Does `act` until `shown` answers: the Instances rows redraw with every heartbeat's metrics, and a
 * redraw between the hover (or the right-click) and the click swallows that click on a loaded machine.
 * Each `act` here is idempotent (Connect reveals the open viewer; a second menu replaces the first).
 */
async function untilShown<T>(what: string, act: () => Promise<void>, shown: () => Promise<T>, tries = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      await act();
      return await shown();
    } catch (err) {
      if (i >= tries) throw err;
      log(`${what}: not shown after try ${i}; again`);
    }
  }
}

async function connectFromTree(wb: Workbench): Promise<Frame> {
  const row = wb.treeRow('Instances', 'Build box');
  return untilShown(
    'Connect',
    async () => {
      await row.hover();
      await row.locator('.action-label[aria-label="Connect to Cloud Desktop"]').click();
    },
    () => wb.webview('[data-testid="screen"]', 20_000),
  );
}

async function darkRun(rig: Rig, daemonRef: { d: Daemon }, apps: string[], home: string, typed: string): Promise<void> {
  const wb = await Workbench.open({
    installExtensions: [VSIX],
    settings: { 'workbench.colorTheme': 'Default Dark Modern', 'multiclaw.workspace.url': rig.server.url, 'multiclaw.desktop.connectionMode': 'auto' },
  });
  try {
    await signInAs(wb, rig.team.people.member);
    await expandInstances(wb);
    const row = wb.treeRow('Instances', 'Build box');
    await row.waitFor({ timeout: 20_000 });
    await wb.page
      .locator('.pane', { hasText: 'Instances' })
      .locator('.monaco-list-row', { hasText: /CPU \d+%/ })
      .first()
      .waitFor({ timeout: 20_000 });
    facts.treeRow = (await row.innerText()).replace(/\s+/g, ' ');
    facts.metricsRow = (await wb.treeRow('Instances', /CPU \d+%/).innerText()).replace(/\s+/g, ' ');
    await wb.screenshot('desktop-instances-dark');
    const f = await connectFromTree(wb);
    await waitState(f, 'connected', 60_000);
    await f.waitForFunction(() => (globalThis as unknown as { multiclawViewer: { frames: number } }).multiclawViewer.frames >= 5, undefined, {
      timeout: 20_000,
    });
    facts.darkRoot = await pixel(f, 1200, 650);
    facts.darkXterm = await pixel(f, XTERM.x + 60, XTERM.y + 60);
    facts.darkChip = await f.locator('[data-testid="state"]').innerText();
    facts.statusItem = await wb.statusBarItem(/Cloud desktop · Build box/).innerText();
    // The Tasks list switches to the connected desktop and says so in its header.
    const tasksHeader = wb.viewPane('Tasks').locator('.pane-header');
    await tasksHeader.filter({ hasText: 'Cloud desktop · Build box' }).waitFor({ timeout: 20_000 });
    facts.tasksFocus = (await tasksHeader.innerText()).replace(/\s+/g, ' ');
    await wb.screenshot('desktop-viewer-connected-dark');
    // Click into the xterm (through the canvas scaling) and type.
    const box = await f.locator('[data-testid="screen"]').boundingBox();
    const scale = await f.evaluate(() => {
      const c = (globalThis as unknown as { multiclawViewer: { canvas: Canvas } }).multiclawViewer.canvas;
      return c.getBoundingClientRect().width / c.width;
    });
    if (!box) throw new Error('no canvas box');
    await f.locator('[data-testid="screen"]').click({ position: { x: (XTERM.x + 40) * scale, y: (XTERM.y + 30) * scale } });
    await wb.page.keyboard.type('typed in vs code');
    await wb.page.keyboard.press('Enter');
    facts.vscodeTyped = await poll(
      () => fs.existsSync(typed) && fs.readFileSync(typed, 'utf8').includes('typed in vs code') && 'yes',
      15_000,
      'typed from VS Code',
    );
    // Kill the daemon mid-stream: Reconnecting, then Connected when it is back.
    await daemonRef.d.kill9();
    await waitState(f, 'reconnecting', 30_000);
    facts.darkReconnecting = true;
    await wb.screenshot('desktop-viewer-reconnecting-dark');
    daemonRef.d = await startDaemon(rig.server, rig.team, rig.team.people.admin, home, { apps });
    await waitState(f, 'connected', 60_000);
    facts.darkBack = await viewerState(f);
    log('dark run done');
  } finally {
    await wb.close();
  }
}

async function lightRun(rig: Rig): Promise<void> {
  const wb = await Workbench.open({
    installExtensions: [VSIX],
    settings: { 'workbench.colorTheme': 'Default Light Modern', 'multiclaw.workspace.url': rig.server.url, 'multiclaw.desktop.connectionMode': 'relay' },
    chromiumArgs: ['--ignore-certificate-errors'], // coturn's TLS certificate is self-signed here
  });
  try {
    await signInAs(wb, rig.team.people.admin);
    await expandInstances(wb);
    await wb.page
      .locator('.pane', { hasText: 'Instances' })
      .locator('.monaco-list-row', { hasText: /CPU \d+%/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await wb.screenshot('desktop-instances-light');
    const f = await connectFromTree(wb);
    await waitState(f, 'connected', 60_000);
    facts.relayChip = await f.locator('[data-testid="state"]').innerText();
    facts.lightPair = await f.evaluate(() => (globalThis as unknown as { multiclawViewer: { pair(): Promise<unknown> } }).multiclawViewer.pair());
    await wb.screenshot('desktop-viewer-relay-light');
    // Terminate from the view's context menu (an Admin): the viewer says Failed, the row goes.
    const row = wb.treeRow('Instances', 'Build box');
    const confirm = wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Terminate' });
    await untilShown(
      'Terminate…',
      async () => {
        if (await confirm.isVisible()) return;
        await wb.page.keyboard.press('Escape'); // a menu left open by a failed try would swallow the right-click
        await row.click({ button: 'right' });
        await wb.screenshot('desktop-terminate-menu-light');
        await wb.page.locator('.monaco-menu .action-label', { hasText: 'Terminate…' }).click({ timeout: 10_000 });
      },
      () => confirm.waitFor({ timeout: 10_000 }),
    );
    await confirm.click();
    await waitState(f, 'failed', 30_000);
    facts.failedText = await f.locator('[data-testid="panel"]').innerText();
    await wb.screenshot('desktop-viewer-failed-light');
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    facts.rowGone = true;
    log('light run done');
  } finally {
    await wb.close();
  }
}

async function main(): Promise<void> {
  const rig = await startRig();
  const typed = path.join(rig.dir, 'typed.txt');
  const apps = [`xsetroot -solid '#3060c0'`, `xterm -geometry 40x6+${XTERM.x}+${XTERM.y} -bg '#20c040' -fg black -e sh -c 'cat > ${typed}'`];
  const home = path.join(rig.dir, 'desktop-home');
  const ref = { d: await startDaemon(rig.server, rig.team, rig.team.people.admin, home, { apps }) };
  try {
    await darkRun(rig, ref, apps, home, typed);
    await lightRun(rig);
    facts.daemonExited = await poll(() => ref.d.child.exitCode !== null && 'yes', 20_000, 'the terminated daemon exits');
    facts.dataRemoved = !fs.existsSync(path.join(home, 'desktop', 'credentials.json'));
  } catch (err) {
    facts.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    facts.daemonLog = ref.d.log().slice(-5000);
  } finally {
    await ref.d.stop().catch(() => undefined);
    await rig.close().catch(() => undefined);
  }
  process.stdout.write(JSON.stringify(facts) + '\n');
}

void main().then(() => process.exit(0));
