/**
 * Entry the extension host calls (`extensionTestsPath`): runs every *.test.js in this folder with mocha.
 * A rejected promise means a non-zero exit code for the whole run.
 */
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import { SummaryReporter } from '../../harness/summaryReporter';

export function run(): Promise<void> {
  // MULTICLAW_EXT_GREP: run only the tests whose title matches (a fast loop while developing).
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: SummaryReporter, grep: process.env.MULTICLAW_EXT_GREP || undefined });
  for (const f of fs
    .readdirSync(__dirname)
    .filter((n) => n.endsWith('.test.js'))
    .sort())
    mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension-host tests failed`)) : resolve()));
  });
}
