/**
 * Mocha reporter: the normal `spec` output, plus a JSON summary `{passed, failed, pending}` written to
 * `$MULTICLAW_RESULT_FILE` when set, so `npm test` can sum every tier into one `N passed, N failed`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.MULTICLAW_RESULT_FILE;
      if (!file) return;
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ passed: s.passes, failed: s.failures, pending: s.pending }) + '\n');
    });
  }
}

module.exports = SummaryReporter;
module.exports.SummaryReporter = SummaryReporter;
