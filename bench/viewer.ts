/**
 * `npm run bench -- viewer [--seconds 60]`
 *
 * The cloud desktop stream measured in the viewer: the real `multiclaw desktop` daemon (1280×720 Xvfb
 * with busy X apps), coturn, the reference server and the real viewer bundle in Chromium, all in a
 * private network namespace. For `--seconds` each, direct (auto) and relay (TURN/TLS on 443): frames
 * drawn per second, send → drawn and capture (JPEG out of ffmpeg) → drawn latencies, stalls over 1 s,
 * and the CPU of the desktop's process tree (daemon, Xvfb, ffmpeg, xdotool) in % of one core; then
 * 10 colour flips (xsetroot) → the first drawn frame with the new colour (capture → draw, end to end).
 * Baseline in the same run: the same frames from a bare werift peer to a bare page (the transport limit).
 * Last line: {fpsDirect, fpsRelay, sendToDrawP50Ms, sendToDrawP95Ms, captureToDrawP50Ms, stallsOver1s,
 * desktopCpuPct, relaySendToDrawP50Ms, flipToDrawP50Ms, baselineFps, baselineSendToDrawP50Ms, seconds}.
 * Goals (2 cores): ≥ 30 fps both modes, send → draw p50 ≤ 20 ms direct and ≤ 35 ms relay, capture → draw
 * p50 ≤ 120 ms, 0 stalls.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RTCPeerConnection } from 'werift';
import { FrameSender } from '../src/gateway/desktop/frameSender';
import { JpegSplitter } from '../src/gateway/desktop/jpegSplitter';
import { startDaemon, startRig, ViewerHost, xrun, type ViewerPage } from '../test/support/desktop/rig';
import { percentile as pct, round as round2 } from './benchGateway';

const percentile = (xs: number[], p: number): number =>
  pct(
    [...xs].sort((a, b) => a - b),
    p * 100,
  );
const round = (n: number, _digits = 1): number => round2(n);

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 60);
const log = (m: string): void => void process.stderr.write(`[viewer-bench] ${m}\n`);

/** CPU seconds of a process and all its descendants (from /proc). */
function treeCpuSeconds(root: number): number {
  const tick = 100; // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / tick });
    } catch {
      // gone
    }
  }
  let total = 0;
  const want = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (want.has(pid) || !want.has(p.ppid)) continue;
      want.add(pid);
      grew = true;
    }
  }
  for (const pid of want) total += procs.get(pid)?.cpu ?? 0;
  return total;
}

interface Run {
  fps: number;
  sendP50: number;
  sendP95: number;
  capP50: number;
  stalls: number;
  cpuPct: number;
}

async function measure(v: ViewerPage, daemonPid: number, xtraPids: () => number[]): Promise<Run> {
  await v.page.waitForFunction(() => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state === 'connected', undefined, {
    timeout: 60_000,
  });
  type S = { frames: number; stalls: number; sendToDraw: number[]; captureToDraw: number[] };
  const stats = (): Promise<S> => v.evaluate<S>('multiclawViewer.stats()');
  await new Promise((r) => setTimeout(r, 3000)); // warm-up (the first frames, the adapter settling)
  const a = await stats();
  const cpu0 = treeCpuSeconds(daemonPid) + xtraPids().reduce((s, p) => s + treeCpuSeconds(p), 0);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const b = await stats();
  const secs = (Date.now() - t0) / 1000;
  const cpu1 = treeCpuSeconds(daemonPid) + xtraPids().reduce((s, p) => s + treeCpuSeconds(p), 0);
  const n = b.frames - a.frames;
  const send = b.sendToDraw.slice(-Math.min(n, b.sendToDraw.length));
  const cap = b.captureToDraw.slice(-Math.min(n, b.captureToDraw.length));
  return {
    fps: round(n / secs, 1),
    sendP50: round(percentile(send, 0.5), 1),
    sendP95: round(percentile(send, 0.95), 1),
    capP50: round(percentile(cap, 0.5), 1),
    stalls: b.stalls - a.stalls,
    cpuPct: round(((cpu1 - cpu0) / secs) * 100, 1),
  };
}

/** xsetroot flips → the first drawn frame whose pixel has the new colour (ms, end to end). */
async function flips(v: ViewerPage, display: string, n: number): Promise<number[]> {
  const out: number[] = [];
  const colours = ['#ff0000', '#0000ff'];
  for (let i = 0; i < n; i++) {
    const c = colours[i % 2];
    const want = i % 2 === 0 ? [255, 0, 0] : [0, 0, 255];
    const waiter = v.page.evaluate(
      ([w]) =>
        new Promise<number>((resolve) => {
          const c2 = (
            globalThis as unknown as {
              multiclawViewer: { canvas: { getContext(k: '2d'): { getImageData(x: number, y: number, a: number, b: number): { data: Uint8ClampedArray } } } };
            }
          ).multiclawViewer.canvas;
          const tick = (): void => {
            const d = c2.getContext('2d').getImageData(1270, 700, 1, 1).data;
            if (Math.abs(d[0] - w[0]) < 40 && Math.abs(d[1] - w[1]) < 40 && Math.abs(d[2] - w[2]) < 40) resolve(performance.timeOrigin + performance.now());
            else (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame(tick);
          };
          tick();
        }),
      [want],
    );
    const t0 = Date.now();
    await xrun(display, 'xsetroot', ['-solid', c]);
    out.push((await waiter) - t0);
  }
  return out;
}

const BARE_PAGE = `<!DOCTYPE html><html><body style="margin:0"><canvas id="c" width="1280" height="720" style="width:960px"></canvas><script>
const ctx = document.getElementById('c').getContext('2d'); window.st = { frames: 0, lat: [] };
window.startBare = async () => {
  const pc = new RTCPeerConnection({ iceServers: [] }); const ch = pc.createDataChannel('frames', { ordered: true }); ch.binaryType = 'arraybuffer';
  const parts = new Map(); let busy = false, waiting = null;
  const draw = async () => { if (busy) return; busy = true; while (waiting) { const w = waiting; waiting = null; const b = await createImageBitmap(new Blob([w.buf], { type: 'image/jpeg' })); ctx.drawImage(b, 0, 0); b.close(); st.frames++; st.lat.push(performance.timeOrigin + performance.now() - w.sent); } busy = false; };
  ch.onmessage = (e) => { const dv = new DataView(e.data); const id = dv.getUint32(4, true), sent = dv.getFloat64(8, true), idx = dv.getUint16(24, true), cnt = dv.getUint16(26, true), total = dv.getUint32(28, true);
    let f = parts.get(id); if (!f) { f = { buf: new Uint8Array(total), got: 0, sent }; parts.set(id, f); }
    f.buf.set(new Uint8Array(e.data, 32), idx * (65536 - 32)); if (++f.got < cnt) return; parts.delete(id); ch.send(JSON.stringify({ t: 'ack', id })); waiting = f; draw(); };
  pc.onicecandidate = (e) => e.candidate && window.toNode({ c: e.candidate.candidate });
  await pc.setLocalDescription(await pc.createOffer()); window.toNode({ sdp: pc.localDescription.sdp });
  window.fromNode = async (m) => { if (m.sdp) await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }); else if (m.c) await pc.addIceCandidate({ candidate: m.c, sdpMid: '0' }).catch(() => {}); };
};
</script></body></html>`;

/** The transport limit: real frames of this desktop from a bare werift peer (30 fps, same window) to a bare page. */
async function baseline(host: ViewerHost, display: string): Promise<{ fps: number; p50: number }> {
  const jpegs: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const ff = spawn(
      'ffmpeg',
      [
        '-loglevel',
        'error',
        '-f',
        'x11grab',
        '-framerate',
        '30',
        '-video_size',
        '1280x720',
        '-i',
        `${display}.0`,
        '-frames:v',
        '30',
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        '-f',
        'image2pipe',
        'pipe:1',
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const s = new JpegSplitter((j) => jpegs.push(j));
    ff.stdout.on('data', (d: Buffer) => s.push(d));
    ff.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}`))));
  });
  const ctx = await host.browser!.newContext();
  const page = await ctx.newPage();
  await page.setContent(BARE_PAGE);
  const pc = new RTCPeerConnection({ iceServers: [] });
  let sender: FrameSender | undefined;
  pc.onDataChannel.subscribe((ch) => {
    sender = new FrameSender({
      send: (m) => (ch.send(Buffer.from(m.buffer, m.byteOffset, m.byteLength)), true),
      get bufferedAmount() {
        return ch.bufferedAmount;
      },
    });
    ch.onMessage.subscribe((d) => {
      const m = JSON.parse(String(d)) as { id: number };
      sender?.ack(m.id);
    });
  });
  pc.onIceCandidate.subscribe(
    (c) => c && void page.evaluate((x) => (globalThis as unknown as { fromNode(m: unknown): void }).fromNode({ c: x }), c.toJSON().candidate),
  );
  await page.exposeFunction('toNode', async (m: { sdp?: string; c?: string }) => {
    if (m.sdp) {
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await page.evaluate((sdp) => (globalThis as unknown as { fromNode(m: unknown): void }).fromNode({ sdp }), pc.localDescription!.sdp);
    } else if (m.c) await pc.addIceCandidate({ candidate: m.c, sdpMid: '0' }).catch(() => undefined);
  });
  await page.evaluate(() => (globalThis as unknown as { startBare(): Promise<void> }).startBare());
  const started = Date.now();
  while (!sender && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
  let i = 0;
  const timer = setInterval(() => sender?.offer({ jpeg: jpegs[i++ % jpegs.length], capturedAt: Date.now() }), 1000 / 30);
  await new Promise((r) => setTimeout(r, 3000));
  const a = await page.evaluate(() => (globalThis as unknown as { st: { frames: number } }).st.frames);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const b = await page.evaluate(() => (globalThis as unknown as { st: { frames: number; lat: number[] } }).st);
  clearInterval(timer);
  await pc.close();
  await ctx.close();
  const n = b.frames - a;
  return { fps: round(n / ((Date.now() - t0) / 1000), 1), p50: round(percentile(b.lat.slice(-n), 0.5), 1) };
}

async function inNamespace(): Promise<void> {
  const rig = await startRig();
  const host = new ViewerHost();
  await host.start(['--ignore-certificate-errors']);
  const apps = [
    'xsetroot -solid "#204060"',
    'xterm -geometry 100x30+0+0 -e top -d 0.5',
    'xterm -geometry 100x30+640+0 -e sh -c "while true; do ls -l /usr/bin | tail -40; sleep 0.2; done"',
    'xclock -geometry 300x300+700+400 -update 1',
    'xeyes -geometry 300x200+100+450',
  ];
  const daemon = await startDaemon(rig.server, rig.team, rig.team.people.admin, path.join(rig.dir, 'home'), { apps });
  const instance = { id: daemon.instanceId, name: 'Bench box' };
  const extra = (): number[] => [];
  try {
    log(`desktop ${daemon.display} up; direct for ${SECONDS} s`);
    const d = await host.open(rig.viewerGateway, instance, 'auto');
    const direct = await measure(d, daemon.child.pid!, extra);
    const flip = await flips(d, daemon.display, 10);
    await d.close();
    log(`direct ${JSON.stringify(direct)}; relay for ${SECONDS} s`);
    const r = await host.open(rig.viewerGateway, instance, 'relay');
    const relay = await measure(r, daemon.child.pid!, extra);
    await r.close();
    log(`relay ${JSON.stringify(relay)}; baseline for ${SECONDS} s`);
    const base = await baseline(host, daemon.display);
    const result = {
      fpsDirect: direct.fps,
      fpsRelay: relay.fps,
      sendToDrawP50Ms: direct.sendP50,
      sendToDrawP95Ms: direct.sendP95,
      captureToDrawP50Ms: direct.capP50,
      stallsOver1s: direct.stalls + relay.stalls,
      desktopCpuPct: direct.cpuPct,
      relaySendToDrawP50Ms: relay.sendP50,
      relaySendToDrawP95Ms: relay.sendP95,
      relayCaptureToDrawP50Ms: relay.capP50,
      relayDesktopCpuPct: relay.cpuPct,
      flipToDrawP50Ms: round(percentile(flip, 0.5), 1),
      baselineFps: base.fps,
      baselineSendToDrawP50Ms: base.p50,
      seconds: SECONDS,
    };
    process.stdout.write(JSON.stringify({ direct, relay, baseline: base, flips: flip.map((x) => round(x, 1)) }) + '\n');
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await daemon.stop().catch(() => undefined);
    await host.close();
    await rig.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  if (process.env.MULTICLAW_BENCH_NETNS === '1') return inNamespace();
  const setup = [
    'ip link set lo up',
    'ip link add v0 type veth peer name v1',
    'ip addr add 198.51.100.1/24 dev v0',
    'ip link set v0 up',
    'ip link set v1 up',
    `exec "${process.execPath}" --enable-source-maps "${__filename}" ${process.argv.slice(2).join(' ')}`,
  ].join(' && ');
  const out = await new Promise<string>((resolve, reject) => {
    const c = execFile(
      'unshare',
      ['-n', 'sh', '-c', setup],
      { env: { ...process.env, MULTICLAW_BENCH_NETNS: '1' }, maxBuffer: 16 * 1024 * 1024, timeout: (SECONDS * 3 + 180) * 1000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    c.stderr?.pipe(process.stderr);
  });
  process.stdout.write(out);
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
