// Fault injection: PostgreSQL goes away under a running service process (through a TCP proxy in
// front of the shared server, which keeps running for everyone else): first refusing every
// connection, then swallowing every byte (a hung server or a dropped network). Requests during
// each outage get 503 store_unavailable, none a 200 it could not check, and the same service
// process serves again once the proxy lets traffic through, with every acknowledged session there.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { startProxy, type PgProxy } from '../helpers/pg-proxy.js';
import { ensureBuilt, startService, type ServiceProcess } from '../service/process.js';
import { login, outageUnderLoad, type Issued } from './load.js';

const ADMIN_KEY = `faults-admin-${randomBytes(12).toString('hex')}`;

describePg('a PostgreSQL outage under load', () => {
  const schema = randomSchema('faults');
  let proxy: PgProxy;
  let service: ServiceProcess;
  beforeAll(async () => {
    ensureBuilt();
    proxy = await startProxy(DATABASE_URL);
    service = await startService(['--store', proxy.url, '--store-prefix', schema, '--master-key', randomBytes(32).toString('base64'),
      '--trust-proxy', 'true', '--rate-limit', '1000000/1m', '--log-level', 'fatal', '--sweep-interval', '0'], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
    await dropSchema(schema);
    await closeAdminPool();
  });

  it('answers 503 while connections are refused, never a 200 it could not check, and serves again after', async () => {
    const seed: Issued[] = [];
    for (let i = 0; i < 10; i += 1) seed.push(await login(service.url, ADMIN_KEY, `fault-seed-${i}`));
    await outageUnderLoad(service.url, ADMIN_KEY, seed, { cut: () => proxy.cut('refuse'), restore: () => proxy.resume() });
    expect(service.child.exitCode).toBeNull();
  }, 90_000);

  it('answers 503 within the store timeout while the server swallows every byte, and serves again after', async () => {
    const seed: Issued[] = [];
    for (let i = 0; i < 10; i += 1) seed.push(await login(service.url, ADMIN_KEY, `fault-hang-${i}`));
    await outageUnderLoad(service.url, ADMIN_KEY, seed, { cut: () => proxy.cut('blackhole'), restore: () => proxy.resume() });
    expect(service.child.exitCode).toBeNull();
  }, 90_000);
});
