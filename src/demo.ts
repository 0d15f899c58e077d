/**
 * `npm start` until the session service exists: one session's life on the embedded SQLite store
 * (create, validate, renew, revoke, and the rejected validation after it), printed step by step.
 * Tokens are shown only as fingerprints, as everywhere in sessionkit.
 *
 * @example node dist/demo.js   # writes ./data/demo.db
 */
import { createSessionManager } from './core/manager.js';
import { SessionError } from './core/errors.js';
import { sqliteStore } from './stores/sqlite.js';
import { tokenFingerprint } from './tokens/opaque.js';

const path = process.env.SESSIONKIT_DEMO_DB ?? 'data/demo.db';
const store = sqliteStore({ path });
const sessions = createSessionManager({ store });
const say = (step: string, detail: string): void => console.log(`${step.padEnd(10)} ${detail}`);

try {
  say('store', `SQLite at ${store.path} (WAL, synchronous=FULL)`);
  const device = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '127.0.0.1' };
  const { session, token } = await sessions.create({ userId: 'demo-user', roles: ['user'], device });
  say('create', `session ${session.id.slice(0, 8)}… for ${session.userId} on ${session.device.browser}/${session.device.os}, token ${tokenFingerprint(token)}, idle expiry ${session.idleExpiresAt.toISOString()}`);

  const seen = await sessions.validate(token);
  say('validate', `ok: ${seen.userId}, version ${seen.version}`);

  const renewed = await sessions.renew(token);
  say('renew', `new token ${tokenFingerprint(renewed.token)} for the same session ${renewed.session.id.slice(0, 8)}…, version ${renewed.session.version}`);

  await sessions.revoke(session.id, { reason: 'logout' });
  say('revoke', 'session revoked (reason: logout)');

  try {
    await sessions.validate(renewed.token);
    say('validate', 'UNEXPECTED: a revoked session validated');
    process.exitCode = 1;
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    say('validate', `rejected: ${err.code} (HTTP ${err.status}, reason ${String(err.details.reason)})`);
  }

  const trail = await store.queryAudit({ sessionId: session.id, after: 0 });
  say('audit', trail.map((e) => e.type + (e.reason ? `(${e.reason})` : '')).join(' → '));
} finally {
  await store.close();
}
