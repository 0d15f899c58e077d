// The soak's short mode in the test suite: `scripts/soak.mjs --duration 5s` (two service
// processes on Redis, mixed load, then every invariant checked against the store and the audit
// trail) must exit 0 with no violation, so the invariants are checked on every CI run.
// `npm run soak` is the 60-second run that records its numbers in docs/PERFORMANCE.md.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { REDIS_URL } from '../helpers/redis-env.js';
import { ensureBuilt, root } from '../service/process.js';

interface SoakResult {
  ok: boolean;
  requests: number;
  sessions: number;
  violations: string[];
  counts: { serverErrors: number; noAnswer: number; created: number; revoked: number };
  audit: { created: number; revoked: number };
}

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'soak.mjs'), ...args], { cwd: root, env: { ...process.env, REDIS_URL } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describeIfAvailable(await tcpReachable(REDIS_URL), 'Redis', 'REDIS_URL', REDIS_URL)('the soak, short mode', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('keeps every invariant through 5 s of mixed load on two service processes', async () => {
    const run = await soak(['--duration', '5s', '--json', '--concurrency', '16', '--users', '100']);
    const line = run.stdout.trim().split('\n').pop() ?? '';
    let result: SoakResult;
    try {
      result = JSON.parse(line) as SoakResult;
    } catch {
      throw new Error(`the soak printed no result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(run.code).toBe(0);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.counts.serverErrors).toBe(0);
    expect(result.counts.noAnswer).toBe(0);
    expect(result.audit.created).toBe(result.counts.created);
    expect(result.audit.revoked).toBe(result.counts.revoked);
  }, 120_000);
});
