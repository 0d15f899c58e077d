import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, startCli, tempDir, type RunningCli } from './helpers.js';

/** Waits for the start-up lines and returns the URL the service printed. */
async function started(run: RunningCli): Promise<string> {
  const [, url] = await run.waitFor(/^sessionkit listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
  await run.waitFor(/^dashboard: .*\n/m);
  return url as string;
}

async function stop(run: RunningCli): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}

describe('sessionkit serve', () => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'serve.db');

  beforeAll(() => ensureBuilt());
  afterAll(() => tmp.cleanup());

  it('starts on a free port, answers /healthz, prints the admin key on a fresh store, and exits 0 on SIGTERM', async () => {
    const run = startCli(['serve', '--port', '0', '--store', `sqlite:${db}`, '--log-level', 'silent']);
    const url = await started(run);
    const [, key] = await run.waitFor(/^admin API key \(shown once, store it now\): (ska_\S+)$/m);
    expect(run.stdout()).toContain(`store: sqlite:${db}\n`);
    expect(run.stdout()).toContain(`dashboard: ${url}/dashboard\n`);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    // The printed key works against the admin API of the running service.
    const users = await fetch(`${url}/v1/users/nobody/sessions`, { headers: { 'X-API-Key': key as string } });
    expect(users.status).toBe(200);
    expect(await stop(run)).toBe(0);
    expect(run.stderr()).toBe('');
  });

  it('does not print an admin key on the second start of the same store', async () => {
    const run = startCli(['serve', '--port', '0', '--log-level', 'silent'], { SESSIONKIT_STORE: `sqlite:${db}` });
    const url = await started(run);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await stop(run)).toBe(0);
    expect(run.stdout()).not.toContain('admin API key (shown once');
    // A user who lost the first-start key is told how to make another.
    expect(run.stdout()).toContain('admin API key: created at the first start and shown only then; to make another, run `sessionkit keys create --name admin --scope admin` with the same store\n');
    expect(run.stdout()).toContain('sessionkit: shutting down\n');
  });

  it('signs with a key rotated by the CLI beforehand: both resolve the same master key', async () => {
    const shared = { SESSIONKIT_STORE: `sqlite:${join(tmp.dir, 'jwt', 'jwt.db')}` };
    const rotated = await cli(['keys', 'rotate', '--json'], shared);
    expect(rotated.code).toBe(0);
    const { kid } = JSON.parse(rotated.stdout) as { kid: string };
    const run = startCli(['serve', '--port', '0', '--log-level', 'silent'], shared);
    const url = await started(run);
    const [, key] = await run.waitFor(/^admin API key \(shown once, store it now\): (ska_\S+)$/m);
    const jwks = await (await fetch(`${url}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST', headers: { 'X-API-Key': key as string, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: 'u1', tokenType: 'jwt' }),
    });
    expect(created.status).toBe(201);
    const { accessToken } = await created.json() as { accessToken: string };
    const header = JSON.parse(Buffer.from(accessToken.split('.')[0] as string, 'base64url').toString()) as { kid: string };
    expect(header.kid).toBe(kid);
    expect(await stop(run)).toBe(0);
  });

  it('takes its options from a JSON file too, and SIGINT stops it as well', async () => {
    const file = join(tmp.dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 0, store: 'memory:', logLevel: 'silent', insecureCookies: true }));
    const run = startCli(['serve', '--config', file]);
    await started(run);
    expect(run.stdout()).toMatch(/^store: memory:$/m);
    expect(run.stderr()).toContain('insecureCookies is on');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it('stops start-up with one line naming a bad option, from a flag, a variable or the file (exit 2)', async () => {
    const flag = await cli(['serve', '--port', '99999']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^sessionkit: invalid option port \(--port\): expected an integer from 0 to 65535, got "99999"\n$/);
    const variable = await cli(['serve'], { SESSIONKIT_IDLE_TIMEOUT: 'soon' });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toMatch(/^sessionkit: invalid option idleTimeout \(SESSIONKIT_IDLE_TIMEOUT\): [^\n]*\n$/);
    const file = join(tmp.dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ colour: 'blue' }));
    const inFile = await cli(['serve'], { SESSIONKIT_CONFIG: file });
    expect(inFile.code).toBe(2);
    expect(inFile.stderr).toBe(`sessionkit: unknown option "colour" in ${file}\n`);
    const unknown = await cli(['serve', '--colour', 'blue']);
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: "sessionkit: serve: unknown option '--colour'\n" });
  });

  it('exits 1 with one line when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await cli(['serve', '--port', String(port), '--store', 'memory:', '--log-level', 'silent']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^sessionkit: .*EADDRINUSE[^\n]*\n$/);
    } finally {
      blocker.close();
    }
  });

  it('lists every configuration flag with its variable in --help', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--port <value>', 'SESSIONKIT_PORT', '--insecure-cookies', 'SESSIONKIT_MASTER_KEY', 'SESSIONKIT_CONFIG']) expect(r.stdout).toContain(text);
  });
});
