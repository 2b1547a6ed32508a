/**
 * Mocha hooks for a UI end-to-end suite: the packaged VSIX installed in code-server driven by
 * Chromium. `before` runs the suite's own set-up (peers), then opens the workbench with the options
 * it returns; a failed test keeps its artifacts (logs, console, screenshot) under test-results/;
 * `after` closes the workbench, then runs the suite's teardown.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { CodeServerOptions } from '../harness/codeServer';
import { Workbench } from '../harness/workbench';

export const VSIX = process.env.MULTICLAW_VSIX ?? 'dist/multiclaw.vsix';

export type WorkbenchOptions = CodeServerOptions & { files?: Record<string, string>; chromiumArgs?: string[] };

export function useWorkbench(hooks: { setUp: () => Promise<WorkbenchOptions>; opened: (wb: Workbench) => void; tearDown?: () => Promise<void> }): void {
  let wb: Workbench | undefined;
  before(async () => {
    assert.ok(fs.existsSync(VSIX), `the packaged VSIX exists at ${VSIX} (run npm run package)`);
    const o = await hooks.setUp();
    wb = await Workbench.open({ ...o, installExtensions: [VSIX, ...(o.installExtensions ?? [])] });
    hooks.opened(wb);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      const dir = await wb.keepArtifacts(this.currentTest.fullTitle());
      console.log(`kept failure artifacts in ${dir}`);
    }
  });
  after(async () => {
    await wb?.close();
    await hooks.tearDown?.();
  });
}
