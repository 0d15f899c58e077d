// Issue 18: `sessionkit serve` with a master key that cannot decrypt the store's signing keys
// (a restart with another SESSIONKIT_MASTER_KEY) refuses to start with one line naming the key,
// exit 2, instead of starting and answering the first JWT login with 503.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema } from '../helpers/pg-env.js';
import { deleteByPrefix, REDIS_URL } from '../helpers/redis-env.js';
import { cli, ensureBuilt, startCli, tempDir } from './helpers.js';

const FIRST_KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64');

/** Rotates a signing key in with one master key, then starts `serve` with another. */
async function startWithOtherMasterKey(env: Record<string, string>): Promise<{ kid: string; code: number | null; stderr: string; listened: boolean }> {
  const rotated = await cli(['keys', 'rotate', '--json'], { ...env, SESSIONKIT_MASTER_KEY: FIRST_KEY });
  expect(rotated.stderr).toBe('');
  expect(rotated.code).toBe(0);
  const { kid } = JSON.parse(rotated.stdout) as { kid: string };
  const run = startCli(['serve', '--port', '0', '--log-level', 'silent'], { ...env, SESSIONKIT_MASTER_KEY: OTHER_KEY });
  // Either it exits (the fix) or it starts listening (the bug): never wait for a timeout.
  const listened = await Promise.race([
    run.waitFor(/^sessionkit listening on /m).then(() => true, () => false),
    run.exited.then(() => false),
  ]);
  if (listened) run.child.kill('SIGTERM');
  const code = await run.exited;
  return { kid, code, stderr: run.stderr(), listened };
}

function expectRefusal(outcome: { kid: string; code: number | null; stderr: string; listened: boolean }): void {
  expect(outcome.listened).toBe(false);
  expect(outcome.code).toBe(2);
  const lines = outcome.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^sessionkit: invalid option masterKey: signing key ${outcome.kid} in the store cannot be decrypted with it \\(.*another master key`));
  expect(outcome.stderr).not.toContain(FIRST_KEY);
  expect(outcome.stderr).not.toContain(OTHER_KEY);
}

const storePrefix = (): string => `skt_mk_${randomBytes(4).toString('hex')}`;

beforeAll(() => ensureBuilt());

describe('sessionkit serve with a master key that cannot decrypt the key ring', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('refuses to start on SQLite: exit 2, one line naming the key id and the cause', async () => {
    expectRefusal(await startWithOtherMasterKey({ SESSIONKIT_STORE: `sqlite:${join(tmp.dir, 'ring.db')}` }));
  });
});

describeIfAvailable(await tcpReachable(REDIS_URL), 'Redis', 'REDIS_URL', REDIS_URL)('sessionkit serve on Redis with another master key', () => {
  const prefix = storePrefix();
  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    await deleteByPrefix(admin, `${prefix}:`);
    admin.disconnect();
  });

  it('refuses to start: exit 2, one line naming the key id and the cause', async () => {
    expectRefusal(await startWithOtherMasterKey({ SESSIONKIT_STORE: REDIS_URL, SESSIONKIT_STORE_PREFIX: prefix }));
  });
});

describePg('sessionkit serve on PostgreSQL with another master key', () => {
  const schema = storePrefix();
  afterAll(async () => {
    await dropSchema(schema);
    await closeAdminPool();
  });

  it('refuses to start: exit 2, one line naming the key id and the cause', async () => {
    expectRefusal(await startWithOtherMasterKey({ SESSIONKIT_STORE: DATABASE_URL, SESSIONKIT_STORE_PREFIX: schema }));
  });
});
