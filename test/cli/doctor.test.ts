import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { deleteByPrefix, REDIS_URL } from '../helpers/redis-env.js';
import { cli, ensureBuilt, startCli, tempDir } from './helpers.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: 'ok' | 'warn' | 'fail'; detail: string }>;
}

describe('sessionkit doctor', () => {
  const tmp = tempDir();
  const store = { SESSIONKIT_STORE: `sqlite:${join(tmp.dir, 'doctor.db')}` };

  beforeAll(() => ensureBuilt());
  afterAll(() => tmp.cleanup());

  it('passes on the default SQLite set-up and reports store latency, clock and cookies', async () => {
    const r = await cli(['doctor', '--json'], store);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.ok).toBe(true);
    const names = report.checks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['config', 'store', 'clock', 'cookies', 'origins', 'master key', 'api keys']));
    expect(report.checks.find((c) => c.name === 'store')?.detail).toMatch(/^sqlite answered 5 pings, median \d+\.\d\d ms/);
    expect(report.checks.every((c) => c.status !== 'fail')).toBe(true);
  });

  it('reports the port the running service really listens on, not the configured one, and a service that stopped', async () => {
    const shared = { SESSIONKIT_STORE: `sqlite:${join(tmp.dir, 'running', 'running.db')}` };
    const run = startCli(['serve', '--port', '0', '--log-level', 'silent'], shared);
    const [, url] = await run.waitFor(/^sessionkit listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
    await run.waitFor(/^dashboard: .*\n/m);
    try {
      const report = JSON.parse((await cli(['doctor', '--json', '--port', '8080'], shared)).stdout) as Report;
      expect(report.checks.find((c) => c.name === 'config')?.detail).toMatch(/^configured to listen on 127\.0\.0\.1:8080,/);
      expect(report.checks.find((c) => c.name === 'service')).toMatchObject({ status: 'ok', detail: expect.stringContaining(`running, listening on ${url as string} (pid ${run.child.pid as number} on `) });
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    // A clean stop withdraws the announcement.
    const after = JSON.parse((await cli(['doctor', '--json'], shared)).stdout) as Report;
    expect(after.checks.find((c) => c.name === 'service')).toEqual({ name: 'service', status: 'ok', detail: 'no running service has announced itself on this store' });
    // A killed one leaves it behind, and doctor says it does not answer.
    const killed = startCli(['serve', '--port', '0', '--log-level', 'silent'], shared);
    const [, gone] = await killed.waitFor(/^sessionkit listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
    await killed.waitFor(/^dashboard: .*\n/m);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const stale = JSON.parse((await cli(['doctor', '--json'], shared)).stdout) as Report;
    expect(stale.checks.find((c) => c.name === 'service')).toMatchObject({ status: 'warn', detail: expect.stringContaining(`announced ${gone as string} (pid ${killed.child.pid as number}`) });
  });

  it('reports the generated master key beside the SQLite file once signing keys exist', async () => {
    const before = JSON.parse((await cli(['doctor', '--json'], store)).stdout) as Report;
    expect(before.checks.find((c) => c.name === 'master key')?.detail).toMatch(/^not set: the first start generates one in .*master\.key$/);
    expect((await cli(['keys', 'rotate'], store)).code).toBe(0);
    const after = JSON.parse((await cli(['doctor', '--json'], store)).stdout) as Report;
    expect(after.checks.find((c) => c.name === 'master key')).toMatchObject({ status: 'ok', detail: `generated, kept in ${join(tmp.dir, 'master.key')}` });
  });

  it('warns about insecure cookies on localhost, fails them on a public address, in text', async () => {
    const local = await cli(['doctor', '--insecure-cookies'], store);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/^warn\s+cookies\s+insecureCookies is on/m);
    expect(local.stdout).toMatch(/all checks passed\n$/);
    const exposed = await cli(['doctor', '--insecure-cookies=true', '--host', '0.0.0.0'], store);
    expect(exposed.code).toBe(1);
    expect(exposed.stdout).toMatch(/^fail\s+cookies\s+insecureCookies is on while listening on 0\.0\.0\.0/m);
  });

  it('reports a bad option and exits 2', async () => {
    const r = await cli(['doctor', '--json', '--port', 'eighty'], store);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toEqual({ ok: false, checks: [{ name: 'config', status: 'fail', detail: expect.stringMatching(/^invalid option port \(--port\): /) }] });
  });

  it('fails when the store cannot be opened', async () => {
    const file = join(tmp.dir, 'plain-file');
    writeFileSync(file, 'x');
    const r = await cli(['doctor', '--json', '--store', `sqlite:${file}/x.db`]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.find((c) => c.name === 'store')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^cannot open the store/) });
  });

  it('warns that the memory store forgets, and explains itself with --help', async () => {
    const r = await cli(['doctor', '--store', 'memory:']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^warn\s+store\s+memory: sessions are lost on restart/m);
    const help = await cli(['doctor', '--help']);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: sessionkit doctor/) });
  });
});

describePg('sessionkit doctor on PostgreSQL', () => {
  const schema = randomSchema('cli');
  const env = { SESSIONKIT_STORE: DATABASE_URL, SESSIONKIT_STORE_PREFIX: schema };

  beforeAll(() => ensureBuilt());
  afterAll(async () => {
    await dropSchema(schema);
    await closeAdminPool();
  });

  it("compares the clock with PostgreSQL's and requires a master key", async () => {
    const without = await cli(['doctor', '--json'], env);
    expect(without.code).toBe(1);
    const failing = JSON.parse(without.stdout) as Report;
    expect(failing.checks.find((c) => c.name === 'master key')).toMatchObject({ status: 'fail', detail: expect.stringContaining('SESSIONKIT_MASTER_KEY is required') });
    expect(failing.checks.find((c) => c.name === 'clock')?.detail).toMatch(/; PostgreSQL is \d+ ms (ahead|behind) \(round trip \d+ ms\)/);

    const masterKey = randomBytes(32).toString('base64');
    const withKey = await cli(['doctor', '--json'], { ...env, SESSIONKIT_MASTER_KEY: masterKey });
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).not.toContain(masterKey);
    const malformed = await cli(['doctor'], { ...env, SESSIONKIT_MASTER_KEY: 'k'.repeat(40) });
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toMatch(/^fail\s+config\s+invalid option masterKey \(SESSIONKIT_MASTER_KEY\): /m);
  });
});

describeIfAvailable(await tcpReachable(REDIS_URL), 'Redis', 'REDIS_URL', REDIS_URL)('sessionkit doctor on Redis', () => {
  const prefix = `skt_cli_${randomBytes(4).toString('hex')}`;

  beforeAll(() => ensureBuilt());
  afterAll(async () => {
    const client = new Redis(REDIS_URL);
    await deleteByPrefix(client, `${prefix}:`);
    client.disconnect();
  });

  it("compares the clock with Redis TIME", async () => {
    const r = await cli(['doctor', '--json', '--store', REDIS_URL, '--store-prefix', prefix], { SESSIONKIT_MASTER_KEY: randomBytes(32).toString('hex') });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.find((c) => c.name === 'clock')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/; Redis is \d+ ms (ahead|behind) \(round trip \d+ ms\)$/) });
  });
});
