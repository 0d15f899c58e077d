// Fault injection: the Redis server under a running service process is killed and restarted
// while logins, validations and revocations keep coming. Requests during the outage get 503
// store_unavailable (none a 200 for a session it could not check), and after the restart the
// same service process serves again, with every acknowledged session still there.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIfAvailable } from '../helpers/availability.js';
import { redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { ensureBuilt, startService, type ServiceProcess } from '../service/process.js';
import { login, outageUnderLoad, type Issued } from './load.js';

const ADMIN_KEY = `faults-admin-${randomBytes(12).toString('hex')}`;

describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('a Redis outage under load', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  beforeAll(async () => {
    ensureBuilt();
    // AOF with fsync on every write: what the server acknowledged survives its SIGKILL.
    redis = await startRedisServer(['appendonly yes', 'appendfsync always']);
    service = await startService(['--store', redis.url, '--master-key', randomBytes(32).toString('base64'), '--trust-proxy', 'true',
      '--rate-limit', '1000000/1m', '--log-level', 'fatal', '--sweep-interval', '0'], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
  });

  it('answers 503 store_unavailable while Redis is down, never a 200 it could not check, and serves again after the restart', async () => {
    const seed: Issued[] = [];
    for (let i = 0; i < 10; i += 1) seed.push(await login(service.url, ADMIN_KEY, `fault-seed-${i}`));
    await outageUnderLoad(service.url, ADMIN_KEY, seed, { cut: () => redis.kill(), restore: () => redis.restart() });
    expect(service.child.exitCode).toBeNull();
  }, 90_000);
});
