/**
 * Runs extension tests (an `extensionTestsPath` exporting `run()`) inside the remote (Node) extension
 * host of a real code-server, driven headless by Playwright + Debian Chromium. It accepts the VS Code
 * desktop command line that `@vscode/test-electron` `runTests()` generates, so the `code-server-as-vscode`
 * shim can stand in for a desktop VS Code (`vscodeExecutablePath`).
 *
 * Mechanism (VS Code 1.139 / code-server 4.139): `--vscode-option enable-smoke-test-driver` makes the
 * built web workbench honour the `payload` URL parameter (extensionDevelopmentPath / extensionTestsPath
 * as vscode-remote:// URIs); when run() settles the page calls `window.codeAutomationExit(code)`.
 *
 * Exit codes: 0 pass, 1 tests failed, 2 timeout, 3 harness error.
 */
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { CodeServer } from './codeServer';
import { launchChromium } from './env';

const IGNORED = new Set([
  'no-sandbox',
  'disable-gpu-sandbox',
  'disable-updates',
  'skip-welcome',
  'skip-release-notes',
  'no-cached-data',
  'disable-workspace-trust',
  'disable-gpu',
  'new-window',
  'wait',
  'disable-telemetry',
  'disable-crash-reporter',
  'verbose',
  'disable-chromium-sandbox',
  'user-data-dir',
  'extensions-dir',
  'disable-extensions',
]);

interface Args {
  dev: string[];
  tests?: string;
  folder?: string;
  disableExtensions: boolean;
  timeoutSec: number;
}

function parseArgs(argv: string[]): Args {
  const o: Args = { dev: [], disableExtensions: false, timeoutSec: Number(process.env.EXT_TEST_TIMEOUT ?? 300) };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let val: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = (): string => val ?? argv[++i] ?? '';
    if (a === '--extensionDevelopmentPath') o.dev.push(path.resolve(next()));
    else if (a === '--extensionTestsPath') o.tests = path.resolve(next());
    else if (a === '--timeout') o.timeoutSec = Number(next());
    else if (a === '--disable-extensions') o.disableExtensions = true;
    else if (a === '--user-data-dir' || a === '--extensions-dir')
      next(); // always fresh, throw-away dirs
    else if (a.startsWith('--')) {
      if (!IGNORED.has(a.slice(2))) process.stderr.write(`[ext-runner] ignoring ${a}\n`);
    } else o.folder = path.resolve(a);
  }
  return o;
}

const t0 = Date.now();
const log = (...a: unknown[]): void => {
  process.stderr.write(`[ext-runner ${((Date.now() - t0) / 1000).toFixed(1)}s] ${util.format(...a)}\n`);
};
const NOISE =
  /open-vsx\.org|authentication provider|tryActivateProvider|getSessions|\[AgentHost|AccountPolicyGate|Resolv|Creating a socket|Updating additional|Service Worker|reconnection-grace|vsda/;

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (!o.dev.length || !o.tests) throw new Error('--extensionDevelopmentPath and --extensionTestsPath are required');
  const artifacts = path.resolve(process.env.MULTICLAW_ARTIFACTS ?? 'test-results/extension-host');
  const cs = new CodeServer({ smokeTestDriver: true, label: 'multiclaw-ext', env: { VSCODE_TEST_HARNESS: 'code-server' } });
  const browser = await launchChromium();
  let code = 3;
  const consoleLines: string[] = [];
  try {
    await cs.start();
    log('code-server up on port', cs.port);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (c: number) => resolve(Number(c) || 0));
    });
    let chain = Promise.resolve();
    page.on('console', (m) => {
      chain = chain.then(async () => {
        let vals: unknown[];
        try {
          vals = await Promise.all(m.args().map((a) => a.jsonValue()));
        } catch {
          vals = [m.text()];
        }
        const first = vals[0];
        if (typeof first === 'string' && first.startsWith('%c')) {
          // The remote extension host's console arrives as ['%c INFO', 'color: …', fmt, ...args].
          const line = util.format(...vals.slice(2));
          consoleLines.push(line);
          if (!NOISE.test(line)) process.stdout.write(line + '\n');
        } else consoleLines.push(`[page ${m.type()}] ${m.text()}`);
      });
    });
    const payload: Array<[string, string]> = [
      ...o.dev.map((d): [string, string] => ['extensionDevelopmentPath', cs.remoteUri(d)]),
      ['extensionTestsPath', cs.remoteUri(o.tests)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
      ...(o.disableExtensions ? [['disableExtensions', 'true'] as [string, string]] : []),
    ];
    await page.goto(cs.workbenchUrl(payload));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), o.timeoutSec * 1000);
    });
    const r = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await chain;
    code = r === 'timeout' ? 2 : r;
    if (code !== 0) {
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'failure.png') }).catch(() => undefined);
    }
    if (r === 'timeout') log(`TIMEOUT after ${o.timeoutSec}s`);
  } catch (e) {
    log('harness error:', e instanceof Error ? e.stack : e);
    code = 3;
  } finally {
    if (code !== 0) {
      cs.collectLogs(artifacts);
      fs.mkdirSync(artifacts, { recursive: true });
      fs.writeFileSync(path.join(artifacts, 'page-console.log'), consoleLines.join('\n') + '\n');
      log('kept logs and screenshot in', artifacts);
    }
    await browser.close().catch(() => undefined);
    await cs.stop();
  }
  log(code === 0 ? 'extension tests passed' : `extension tests failed (exit ${code})`);
  return code;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    log(e);
    process.exit(3);
  },
);
