import { afterAll } from 'vitest';
import { storeSuite } from '../../src/testing/index.js';
import { postgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import type { SessionStore } from '../../src/stores/types.js';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { startProxy } from '../helpers/pg-proxy.js';

// Every store goes through a proxy this file controls, so "the server stops" can be tested
// without touching the shared PostgreSQL: breakStore cuts the proxy, the next store resumes it.
const proxy = await startProxy(DATABASE_URL);
afterAll(async () => {
  await proxy.close();
  await closeAdminPool();
});

describePg('postgres', () => {
  storeSuite('postgres', () => {
    proxy.resume();
    // timeout 25s (within the 30 s test timeout), not the 2s default: the suite's 200 racing logins of one user queue on the
    // per-user lock, and each commit waits for its WAL flush, so the last one waits well over 2s
    // on a loaded 2-core machine. The default is exercised by test/stores/postgres-fail-closed.
    return postgresStore({ connectionString: proxy.url, schema: randomSchema('conf'), poolSize: 4, timeout: '25s' });
  }, {
    cleanup: (store: SessionStore) => dropSchema((store as PostgresStore).schema),
    breakStore: () => proxy.cut('refuse'),
  });
});
