/**
 * A second process on a SQLite store file, started by the multi-process tests:
 *   node --import ./test/stores/helpers/register-ts.mjs test/stores/helpers/sqlite-worker.ts <command> <file> [args]
 * It reports on stdout, one JSON object per line, and never prints a token (only session ids).
 */
import { createSessionManager } from '../../../src/core/manager.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';

const [command, path, ...args] = process.argv.slice(2);
const say = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const store = sqliteStore({ path: path as string, pollInterval: 20 });
const sessions = createSessionManager({ store, secret: 'multi-process-test-secret-0123456789abcdef', maxSessionsPerUser: Number(args[1] ?? 5) });

switch (command) {
  case 'race': {
    // Waits for "go" on stdin so both processes start creating at the same moment.
    process.stdin.once('data', async () => {
      const results = await Promise.allSettled(Array.from({ length: Number(args[0]) }, () => sessions.create({ userId: 'racer' })));
      say({ fulfilled: results.filter((r) => r.status === 'fulfilled').length });
      await store.close();
      process.exit(0);
    });
    say({ ready: true });
    break;
  }
  case 'create-forever': {
    // Creates sessions one after another and reports each id once create() resolved; the parent kills it.
    say({ ready: true });
    for (;;) {
      const { session } = await sessions.create({ userId: 'durable' });
      say({ created: session.id });
    }
  }
  case 'revoke': {
    say({ revoked: await sessions.revoke(args[0] as string, { reason: 'admin' }) });
    await store.close();
    break;
  }
  case 'watch': {
    store.watch((change) => say(change));
    // The poll timer is unref'd (it never keeps a process alive): stdin does, until the parent ends it.
    process.stdin.resume();
    process.stdin.once('end', () => process.exit(0));
    say({ ready: true });
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
