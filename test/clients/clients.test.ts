// The Python and PHP clients against the real service: their own suites (unittest and
// clients/php/tests/run.php) run as child processes with the service's URL and an admin key in
// the environment, plus cross-language checks: a token one client creates, the other validates.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startService, type RunningService } from './service.js';

const ADMIN_KEY = `clients-admin-${randomBytes(24).toString('base64url')}`;
/** No renew or refresh grace, so the suites see rotations at once; a high attempt limit, so their error cases never trip it. */
const SERVICE_ENV = {
  SESSIONKIT_STORE: 'memory:', SESSIONKIT_ADMIN_KEY: ADMIN_KEY, SESSIONKIT_RENEW_GRACE: '0', SESSIONKIT_REFRESH_GRACE: '0',
  SESSIONKIT_RATE_LIMIT: '100000/1m', SESSIONKIT_LOG_LEVEL: 'warn',
  // The client suites test their verifiers' refetch of an unknown kid right after a rotation, so the
  // rotated-in key signs at once here (the propagation window itself: jwks-rotation.test.ts).
  SESSIONKIT_KEY_PROPAGATION: '0',
};

interface Run { code: number | null; output: string }

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, output: `$ ${cmd} ${args.join(' ')}\n${stdout}${stderr}` });
    });
  });
}

/** Passes when the command exited 0; shows its whole output otherwise. */
function expectSuccess(result: Run): void {
  if (result.code !== 0) console.error(result.output);
  expect(result.code, result.output).toBe(0);
}

/** /usr/bin/python3 when Debian's python3-flask is importable there (the Flask tests run), else python3. */
async function pickPython(): Promise<string> {
  const system = await run('/usr/bin/python3', ['-c', 'import flask'], {});
  return system.code === 0 ? '/usr/bin/python3' : 'python3';
}

let services: RunningService[] = [];
let env: Record<string, string> = {};
let python = 'python3';
let dir = '';

beforeAll(async () => {
  services = await Promise.all(['EdDSA', 'ES256', 'RS256'].map((alg) => startService({ ...SERVICE_ENV, SESSIONKIT_JWT_ALGORITHM: alg })));
  const [eddsa, es256, rs256] = services as [RunningService, RunningService, RunningService];
  env = { SESSIONKIT_URL: eddsa.url, SESSIONKIT_API_KEY: ADMIN_KEY, SESSIONKIT_ES256_URL: es256.url, SESSIONKIT_RS256_URL: rs256.url };
  python = await pickPython();
  dir = mkdtempSync(join(tmpdir(), 'sessionkit-clients-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('client suites against the real service', () => {
  it('passes the Python client suite (client, re-authentication, cache, WSGI, ASGI, Flask when installed)', async () => {
    expectSuccess(await run(python, ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'], env));
  }, 120_000);

  it('passes the PHP client suite (client, re-authentication, $_SESSION handler, JWT verifier and middleware)', async () => {
    expectSuccess(await run('php', ['clients/php/tests/run.php'], env));
  }, 120_000);
});

describe('one session, two languages', () => {
  const pythonScript = 'clients/python/tests/interop.py';
  const phpScript = 'clients/php/tests/interop.php';

  it('validates in PHP an opaque token the Python client created', async () => {
    const file = join(dir, 'py-opaque.json');
    expectSuccess(await run(python, [pythonScript, 'create', 'opaque', file], env));
    expectSuccess(await run('php', [phpScript, 'validate', file], env));
  }, 60_000);

  it('validates in Python an opaque token the PHP client created', async () => {
    const file = join(dir, 'php-opaque.json');
    expectSuccess(await run('php', [phpScript, 'create', 'opaque', file], env));
    expectSuccess(await run(python, [pythonScript, 'validate', file], env));
  }, 60_000);

  it('verifies in the PHP JWT middleware an access token issued through the Python client', async () => {
    const file = join(dir, 'py-jwt.json');
    expectSuccess(await run(python, [pythonScript, 'create', 'jwt', file], env));
    expectSuccess(await run('php', [phpScript, 'verify-jwt', file], env));
  }, 60_000);

  it('validates through the Python client an access token issued through the PHP client', async () => {
    const file = join(dir, 'php-jwt.json');
    expectSuccess(await run('php', [phpScript, 'create', 'jwt', file], env));
    expectSuccess(await run(python, [pythonScript, 'validate', file], env));
  }, 60_000);
});
