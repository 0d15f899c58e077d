import { parseStoreUrl } from '../../config/store.js';
import type { SessionStore } from '../../stores/types.js';
import { listApiKeys } from '../../server/api-keys.js';
import { compareStoreClock } from '../clock.js';
import { jsonOption, type Command } from '../command.js';
import { describeFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../errors.js';
import { escapeText, isoTime, jsonLine } from '../output.js';
import { redactStoreUrl } from '../redact.js';
import { connectStore, readConfig } from '../service.js';
import type { ServiceConfig } from '../../config/index.js';
import { masterKeyStatus } from './master-key.js';
import { SERVICE_RECORD, type ServiceAnnouncement } from '../../server/announcement.js';

/** One finding of `sessionkit doctor`. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** Clocks further apart than this break expiry and JWT `iat`/`exp` across machines. */
const CLOCK_TOLERANCE_MS = 2000;
const PINGS = 5;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

function check(name: string, status: Check['status'], detail: string): Check {
  return { name, status, detail };
}

function configChecks(config: ServiceConfig): Check[] {
  const checks: Check[] = [];
  checks.push(check('config', 'ok', `configured to listen on ${config.host}:${config.port}, store ${redactStoreUrl(config.store)}${config.config ? `, file ${config.config}` : ''}`));
  for (const warning of config.warnings) checks.push(check('variables', 'warn', warning));
  if (config.insecureCookies) {
    checks.push(LOOPBACK.test(config.host)
      ? check('cookies', 'warn', 'insecureCookies is on: cookies lack the Secure flag and the __Host- prefix; for plain-HTTP localhost development only')
      : check('cookies', 'fail', `insecureCookies is on while listening on ${config.host}: session cookies would travel over plain HTTP beyond this machine`));
  } else {
    checks.push(check('cookies', 'ok', '__Host-sessionkit: Secure, HttpOnly, SameSite=Lax, Path=/ (serve over HTTPS, or behind a TLS proxy)'));
  }
  const own = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (config.allowedOrigins.length === 0) {
    checks.push(check('origins', 'ok', `cookie-authenticated writes accepted from the service's own origin only (${own})`));
  } else {
    const plain = config.allowedOrigins.filter((o) => o.startsWith('http:') && !/^http:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(o));
    checks.push(plain.length > 0
      ? check('origins', 'warn', `allowed origins ${config.allowedOrigins.join(', ')}; plain-HTTP origins ${plain.join(', ')} can be spoofed on the network`)
      : check('origins', 'ok', `allowed origins ${config.allowedOrigins.join(', ')}`));
  }
  const master = masterKeyStatus(config);
  checks.push(check('master key', master.status, master.detail));
  checks.push(check('proxy', 'ok', config.trustProxy === false ? 'client IPs from the connection (trustProxy off)' : `client IPs from X-Forwarded-For through ${config.trustProxy === true ? 1 : config.trustProxy} trusted prox${config.trustProxy === 1 || config.trustProxy === true ? 'y' : 'ies'}`));
  return checks;
}

async function storeChecks(config: ServiceConfig, store: SessionStore): Promise<Check[]> {
  const checks: Check[] = [];
  const timings: number[] = [];
  for (let i = 0; i < PINGS; i += 1) {
    const start = process.hrtime.bigint();
    await store.ping();
    timings.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  timings.sort((a, b) => a - b);
  const median = timings[Math.floor(timings.length / 2)] as number;
  checks.push(check('store', 'ok', `${store.name} answered ${PINGS} pings, median ${median.toFixed(2)} ms, slowest ${(timings[timings.length - 1] as number).toFixed(2)} ms`));
  if (parseStoreUrl(config.store).kind === 'memory') {
    checks.push(check('store', 'warn', 'memory: sessions are lost on restart and not shared between processes'));
  }

  const now = Date.now();
  const local = `local clock ${isoTime(now)} (${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
  try {
    const compared = await compareStoreClock(config.store);
    if (compared) {
      const off = Math.abs(compared.offsetMs);
      checks.push(check('clock', off > CLOCK_TOLERANCE_MS ? 'fail' : 'ok',
        `${local}; ${compared.source} is ${off} ms ${compared.offsetMs >= 0 ? 'ahead' : 'behind'} (round trip ${compared.roundTripMs} ms)${off > CLOCK_TOLERANCE_MS ? ': synchronise the clocks (NTP), expiry depends on them' : ''}`));
    } else {
      checks.push(check('clock', 'ok', `${local}; the ${store.name} store has no clock of its own to compare with`));
    }
  } catch (err) {
    checks.push(check('clock', 'warn', `${local}; could not read the store's clock: ${escapeText(err instanceof Error ? err.message : String(err))}`));
  }
  // A newest audit event from the future means some process's clock (maybe ours) jumped.
  const [newest] = await store.queryAudit({ limit: 1 });
  if (newest && newest.at - now > CLOCK_TOLERANCE_MS) {
    checks.push(check('clock', 'fail', `the newest audit event (#${newest.seq}, ${isoTime(newest.at)}) is ${Math.round((newest.at - now) / 1000)} s in the future: a clock was or is wrong`));
  }

  checks.push(await serviceCheck(store));

  const keys = await listApiKeys(store);
  const admins = keys.filter((k) => k.scopes.includes('admin')).length;
  checks.push(check('api keys', 'ok', `${keys.length} API key${keys.length === 1 ? '' : 's'} (${admins} admin)${config.adminKey ? '; an admin key is also set by SESSIONKIT_ADMIN_KEY/--admin-key' : ''}`));
  return checks;
}

/**
 * The service running on this store, as it announced itself (the port it really bound, which differs
 * from the configured one with port 0 or another config), checked by asking its /healthz.
 */
async function serviceCheck(store: SessionStore): Promise<Check> {
  const announced = await store.getRecord<ServiceAnnouncement>(SERVICE_RECORD.kind, SERVICE_RECORD.id);
  if (!announced) return check('service', 'ok', 'no running service has announced itself on this store');
  const who = `pid ${announced.pid} on ${escapeText(announced.hostname)}, started ${isoTime(announced.startedAt)}`;
  let answered = false;
  try {
    const res = await fetch(`${announced.url}/healthz`, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
    answered = res.ok;
    await res.body?.cancel();
  } catch {
    answered = false;
  }
  return answered
    ? check('service', 'ok', `running, listening on ${escapeText(announced.url)} (${who})`)
    : check('service', 'warn', `the last service started on this store announced ${escapeText(announced.url)} (${who}) but does not answer there: it stopped without closing, or that address is not reachable from here`);
}

const doctor: Command = {
  path: ['doctor'],
  summary: 'check the configuration, store, clock and cookie settings, and print what was found',
  usage: 'doctor [--json] [config flags]',
  options: { ...jsonOption },
  usesConfig: true,
  details: [
    'Exits 0 when every check passes (warnings included), 1 when one fails (store unreachable,',
    'clocks apart, missing master key), 2 when the configuration itself is invalid.',
  ].join('\n'),
  async run(args, { io, env }) {
    const checks: Check[] = [];
    let exitCode = EXIT_OK;
    let config: ServiceConfig | null = null;
    try {
      config = readConfig(args.configArgv, env);
    } catch (err) {
      const { message, exitCode: code } = describeFailure(err);
      checks.push(check('config', 'fail', message));
      exitCode = code === EXIT_USAGE ? EXIT_USAGE : EXIT_FAILURE;
    }
    if (config) {
      checks.push(...configChecks(config));
      let store: SessionStore | null = null;
      try {
        store = await connectStore(config);
        checks.push(...await storeChecks(config, store));
      } catch (err) {
        checks.push(check('store', 'fail', describeFailure(err).message));
      } finally {
        await store?.close().catch(() => {});
      }
      if (checks.some((c) => c.status === 'fail')) exitCode = EXIT_FAILURE;
    }
    if (args.values.json) {
      io.stdout(jsonLine({ ok: exitCode === EXIT_OK, checks }));
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      io.stdout(checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${escapeText(c.detail)}`).join('\n') + '\n');
      io.stdout(exitCode === EXIT_OK ? 'sessionkit doctor: all checks passed\n' : 'sessionkit doctor: some checks failed\n');
    }
    return exitCode;
  },
};

export const doctorCommands: Command[] = [doctor];
