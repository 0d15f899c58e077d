import type { Session } from '../../core/types.js';
import { jsonOption, requiredPositional, requiredString, type Command } from '../command.js';
import { EXIT_OK, failure } from '../errors.js';
import { escapeText, isoTime, jsonLine, table } from '../output.js';
import { withManager } from '../service.js';

/** A session as the HTTP API shows it (times as ISO-8601 UTC strings). */
export function sessionJson(s: Session): Record<string, unknown> {
  return {
    id: s.id, userId: s.userId, roles: s.roles,
    createdAt: isoTime(s.createdAt), lastSeenAt: isoTime(s.lastSeenAt),
    idleExpiresAt: isoTime(s.idleExpiresAt), absoluteExpiresAt: isoTime(s.absoluteExpiresAt),
    device: s.device, data: s.data,
  };
}

function deviceText(s: Session): string {
  const d = s.device;
  // Unparsed user agents are shown (shortened) rather than hidden: they are what an admin recognises.
  const what = [d.browser, d.os].filter(Boolean).join(' on ') || (d.userAgent ? d.userAgent.slice(0, 40) : d.type);
  return [what, d.ip, d.label ? `"${d.label}"` : null].filter(Boolean).join(' ');
}

const list: Command = {
  path: ['sessions', 'list'],
  summary: "list a user's live sessions (every device)",
  usage: 'sessions list --user <userId> [--json] [config flags]',
  options: { user: { type: 'string', valueName: '<userId>', description: 'the user whose sessions to list (required)' }, ...jsonOption },
  usesConfig: true,
  details: 'Example: sessionkit sessions list --user u1 --json',
  async run(args, { io, env }) {
    const userId = requiredString(args, 'user', 'sessions list');
    const sessions = await withManager(args.configArgv, env, (manager) => manager.listForUser(userId));
    if (args.values.json) {
      io.stdout(jsonLine({ sessions: sessions.map(sessionJson) }));
    } else if (sessions.length === 0) {
      io.stdout(`no live sessions for user ${escapeText(userId)}\n`);
    } else {
      io.stdout(table(['ID', 'CREATED', 'LAST SEEN', 'IDLE EXPIRES', 'ROLES', 'DEVICE'],
        sessions.map((s) => [s.id, isoTime(s.createdAt), isoTime(s.lastSeenAt), isoTime(s.idleExpiresAt), s.roles.join(',') || '-', deviceText(s)])));
    }
    return EXIT_OK;
  },
};

const revoke: Command = {
  path: ['sessions', 'revoke'],
  summary: 'revoke one session by id (reason admin, actor cli)',
  usage: 'sessions revoke <sessionId> [--json] [config flags]',
  options: { ...jsonOption },
  maxPositionals: 1,
  usesConfig: true,
  details: 'Exits 1 when no live session has that id (unknown, expired or already revoked).',
  async run(args, { io, env }) {
    const id = requiredPositional(args, 'sessionId', 'sessions revoke');
    const revoked = await withManager(args.configArgv, env, (manager) => manager.revoke(id, { reason: 'admin', actor: 'cli' }));
    if (!revoked) throw failure(`sessions revoke: no live session with id ${escapeText(id.slice(0, 80))}`);
    io.stdout(args.values.json ? jsonLine({ revoked: true, id }) : `revoked session ${escapeText(id)}\n`);
    return EXIT_OK;
  },
};

const revokeAll: Command = {
  path: ['sessions', 'revoke-all'],
  summary: "revoke every live session of a user (reason admin, actor cli)",
  usage: 'sessions revoke-all --user <userId> [--except <sessionId>] [--json] [config flags]',
  options: {
    user: { type: 'string', valueName: '<userId>', description: 'the user whose sessions to revoke (required)' },
    except: { type: 'string', valueName: '<sessionId>', description: 'keep this one session' },
    ...jsonOption,
  },
  usesConfig: true,
  details: 'Revoking zero sessions is not an error (exit 0).',
  async run(args, { io, env }) {
    const userId = requiredString(args, 'user', 'sessions revoke-all');
    const except = typeof args.values.except === 'string' ? args.values.except : undefined;
    const count = await withManager(args.configArgv, env,
      (manager) => manager.revokeAllForUser(userId, { reason: 'admin', actor: 'cli', ...(except ? { except } : {}) }));
    io.stdout(args.values.json ? jsonLine({ revoked: count }) : `revoked ${count} session${count === 1 ? '' : 's'} of user ${escapeText(userId)}\n`);
    return EXIT_OK;
  },
};

export const sessionCommands: Command[] = [list, revoke, revokeAll];
