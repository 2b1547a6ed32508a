/**
 * `npm run bench -- chat-render [--rounds 3] [--seconds 10] [--rate 100]`
 *
 * The production chat webview bundle in Chromium, behind its real CSP, with the tests' stub host
 * (test/unit/webview/chatPage.ts). It opens a 5,000-message conversation (mixed markdown: prose,
 * lists, tables, code blocks), then streams a reply at `--rate` deltas per second for `--seconds`.
 *   firstPaintMs   from posting the ready reply (in the page) to the end of the first frame that
 *                  painted messages (a MessageChannel task queued from requestAnimationFrame runs
 *                  after that frame's paint); median of `--rounds` fresh pages.
 *   longestTaskMs  the longest main-thread task while streaming, from a Chromium trace (RunTask
 *                  events of the renderer main thread); the longtask observer (>= 50 ms) and the
 *                  longest frame gap are reported beside it.
 * Baseline in the same run: `naiveFirstPaintMs`, the same page rendering all 5,000 rows
 * (body[data-windowing=off]). The last line is one JSON object.
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/harness/env';
import { ChatPage } from '../test/support/chat/chatPage';
import { conversation, longConversation, message, replyDeltas, state } from '../test/support/chat/fixtures';
import type { PageGlobals, PerformanceEntryLike } from '../test/support/chat/pageTypes';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = 5000;
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 10);
const RATE = arg('rate', 100);
const VIEWPORT = { width: 400, height: 900 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (x: number): number => Math.round(x * 10) / 10;

const fullState = state({ messages: longConversation(MESSAGES), conversation: conversation({ messageCount: MESSAGES }) });

/** Opens a page, answers ready with 5,000 messages and returns the time to the first painted frame. */
async function openConversation(browser: Browser, windowed: boolean): Promise<{ chat: ChatPage; firstPaintMs: number }> {
  const chat = await ChatPage.open(browser, { windowed, viewport: VIEWPORT });
  await chat.page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals & { __longTasks: PerformanceEntryLike[] };
    g.__longTasks = [];
    new g.PerformanceObserver((list) => g.__longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });
  });
  const { id } = await chat.waitForRequest('chat/ready');
  const firstPaintMs = await chat.page.evaluate(
    ({ id, result }) =>
      new Promise<number>((resolve) => {
        const g = globalThis as unknown as PageGlobals;
        const channel = new g.MessageChannel();
        const t0 = g.performance.now();
        g.postMessage({ kind: 'response', id, result }, '*');
        const afterPaint = (): void => {
          if (g.document.querySelector('[data-testid="message"]')) resolve(g.performance.now() - t0);
          else g.requestAnimationFrame(onFrame);
        };
        const onFrame = (): void => {
          channel.port1.onmessage = afterPaint;
          channel.port2.postMessage(0);
        };
        g.requestAnimationFrame(onFrame);
      }),
    { id, result: fullState },
  );
  return { chat, firstPaintMs };
}

interface StreamResult {
  deltas: number;
  maxFrameGapMs: number;
  frames: number;
  longTasks: number[];
  startMs: number;
  endMs: number;
  rows: number;
  domNodes: number;
  pinnedGapPx: number;
}

/** Streams a reply from inside the page (timers there, so CDP latency does not pace it). */
async function stream(chat: ChatPage): Promise<StreamResult> {
  await chat.notify('chat/messageAdded', message({ id: 'bench-q', role: 'user', text: 'Walk me through the parser changes.', agentId: undefined }));
  await chat.notify('chat/messageAdded', message({ id: 'bench-a', text: '', status: 'streaming' }));
  await chat.notify('chat/busy', { busy: true });
  const deltas = replyDeltas(RATE * SECONDS);
  return chat.page.evaluate(
    ({ deltas, intervalMs }) =>
      new Promise<StreamResult>((resolve) => {
        const g = globalThis as unknown as PageGlobals & { __longTasks: PerformanceEntryLike[] };
        const startMs = g.performance.now();
        let sent = 0;
        let frames = 0;
        let last = startMs;
        let maxGap = 0;
        let streaming = true;
        const frame = (t: number): void => {
          frames++;
          maxGap = Math.max(maxGap, t - last);
          last = t;
          if (streaming) g.requestAnimationFrame(frame);
        };
        g.requestAnimationFrame(frame);
        const timer = g.setInterval(() => {
          // Catch up if the timer fell behind, as a host's message queue would.
          const due = Math.min(deltas.length, Math.floor((g.performance.now() - startMs) / intervalMs) + 1);
          for (; sent < due; sent++) g.postMessage({ kind: 'notification', method: 'chat/delta', params: { messageId: 'bench-a', text: deltas[sent] } }, '*');
          if (sent < deltas.length) return;
          g.clearInterval(timer);
          g.postMessage(
            { kind: 'notification', method: 'chat/messageUpdated', params: { messageId: 'bench-a', status: 'complete', finishReason: 'stop' } },
            '*',
          );
          g.postMessage({ kind: 'notification', method: 'chat/busy', params: { busy: false } }, '*');
          g.setTimeout(() => {
            streaming = false;
            const endMs = g.performance.now();
            const t = g.document.querySelector('.transcript');
            resolve({
              deltas: sent,
              maxFrameGapMs: maxGap,
              frames,
              longTasks: g.__longTasks.filter((e) => e.startTime >= startMs).map((e) => e.duration),
              startMs,
              endMs,
              rows: g.document.querySelectorAll('[data-testid="message"]').length,
              domNodes: g.document.querySelectorAll('*').length,
              pinnedGapPx: t ? t.scrollHeight - t.clientHeight - t.scrollTop : -1,
            });
          }, 200);
        }, intervalMs);
      }),
    { deltas, intervalMs: 1000 / RATE },
  );
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  /** Thread (CPU) time of the event, µs. */
  tdur?: number;
  args?: { name?: string };
}

interface TraceTasks {
  longestMs: number;
  /** CPU time of the longest task by CPU: on a loaded machine wall time includes waiting for a core. */
  longestCpuMs: number;
  p99Ms: number;
  count: number;
}

/** RunTask durations on the busiest renderer main thread of a trace. */
function traceTasks(trace: Buffer): TraceTasks | undefined {
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === 'X' && /(^|::)RunTask$/.test(e.name) && mains.has(`${e.pid}:${e.tid}`) && e.dur !== undefined);
  const perThread = new Map<string, TraceEvent[]>();
  for (const e of tasks) {
    const key = `${e.pid}:${e.tid}`;
    const list = perThread.get(key) ?? [];
    list.push(e);
    perThread.set(key, list);
  }
  const busiest = [...perThread.values()].sort((a, b) => b.length - a.length)[0];
  if (!busiest) return undefined;
  const wall = busiest.map((e) => (e.dur ?? 0) / 1000).sort((a, b) => a - b);
  return {
    longestMs: wall[wall.length - 1],
    longestCpuMs: busiest.reduce((max, e) => Math.max(max, (e.tdur ?? 0) / 1000), 0),
    p99Ms: wall[Math.floor(wall.length * 0.99)],
    count: wall.length,
  };
}

async function main(): Promise<void> {
  const browser = await launchChromium();
  try {
    const windowedPaint: number[] = [];
    const naivePaint: number[] = [];
    const naiveLongTask: number[] = [];
    const openLongTask: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order so neither mode always runs on a warmer browser.
      for (const windowed of r % 2 === 0 ? [true, false] : [false, true]) {
        const { chat, firstPaintMs } = await openConversation(browser, windowed);
        (windowed ? windowedPaint : naivePaint).push(firstPaintMs);
        // Long tasks (>= 50 ms, 0 when none) from page load through the first paint.
        const longest = Math.max(
          0,
          ...(await chat.page.evaluate(() => (globalThis as unknown as { __longTasks: PerformanceEntryLike[] }).__longTasks.map((e) => e.duration))),
        );
        (windowed ? openLongTask : naiveLongTask).push(longest);
        console.log(
          JSON.stringify({
            round: r + 1,
            mode: windowed ? 'windowed' : 'naive',
            firstPaintMs: round1(firstPaintMs),
            rows: await chat.page.locator('[data-testid="message"]').count(),
          }),
        );
        await chat.close();
      }
    }

    const { chat, firstPaintMs: streamPagePaintMs } = await openConversation(browser, true);
    await chat.nextFrame();
    await browser.startTracing(chat.page, { categories: ['toplevel', '__metadata'] });
    const s = await stream(chat);
    const trace = await browser.stopTracing();
    const traced = traceTasks(trace);
    const problems = [...chat.violations, ...chat.consoleProblems];
    await chat.close();
    const observerMax = Math.max(0, ...s.longTasks);
    console.log(JSON.stringify({ phase: 'stream', streamPagePaintMs: round1(streamPagePaintMs), ...s, longTasks: s.longTasks.length, traced, problems }));

    const result = {
      messages: MESSAGES,
      firstPaintMs: round1(median(windowedPaint)),
      longestTaskMs: round1(traced?.longestMs ?? Math.max(observerMax, s.maxFrameGapMs)),
      longestTaskSource: traced !== undefined ? 'trace RunTask' : 'longtask observer / frame gap',
      longestTaskCpuMs: traced ? round1(traced.longestCpuMs) : undefined,
      p99TaskMs: traced ? round1(traced.p99Ms) : undefined,
      openLongestTaskMs: round1(median(openLongTask)),
      naiveFirstPaintMs: round1(median(naivePaint)),
      naiveLongestTaskMs: round1(median(naiveLongTask)),
      deltas: s.deltas,
      deltasPerSec: RATE,
      longTasksOver50ms: s.longTasks.length,
      maxFrameGapMs: round1(s.maxFrameGapMs),
      fps: round1((s.frames * 1000) / (s.endMs - s.startMs)),
      renderedRows: s.rows,
      domNodes: s.domNodes,
      goals: { firstPaintMs: 300, longestTaskMs: 50 },
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
