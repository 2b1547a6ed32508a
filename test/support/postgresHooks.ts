/**
 * Mocha root hooks (`--require out/test/support/postgresHooks.js`): with MULTICLAW_TEST_DATABASE=postgres
 * one PostgreSQL cluster is started before the first test and stopped after the last; every test
 * server started meanwhile (`startTestServer`) runs on its own database in it. The test runner's
 * `unit-postgres` tier runs the server suites this way, after the `unit` tier ran them on SQLite.
 */
import { startPostgres, type PgCluster } from './postgres';

let cluster: PgCluster | undefined;

/** The cluster the server suites run on, when they run on PostgreSQL. */
export function testCluster(): PgCluster | undefined {
  return cluster;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    if (process.env.MULTICLAW_TEST_DATABASE !== 'postgres' || cluster) return;
    this.timeout(120_000);
    cluster = await startPostgres();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    const c = cluster;
    cluster = undefined;
    await c?.stop();
  },
};
