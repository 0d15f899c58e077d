/**
 * The JSON schemas of the service's bodies. Routes declare them (Fastify validates requests and
 * serialises responses with them) and `/openapi.json` is generated from the same objects, so the
 * contract and the code cannot drift. Plain JSON Schema, valid in OpenAPI 3.1.
 */
import { isoTime } from '../core/iso-time.js';
import type { Session } from '../core/types.js';

const nullableString = { type: ['string', 'null'] } as const;
const time = { type: 'string', format: 'date-time' } as const;

export const errorSchema = {
  type: 'object',
  description: 'An error: a stable code (switch on it) and a human message.',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' }, message: { type: 'string' },
    maxAge: { type: 'integer', description: 'Only with `reauthentication_required`: the longest time (seconds) since the last authentication the action accepts.' },
    methods: { type: 'array', items: { type: 'string' }, description: 'Only with `reauthentication_required`: every method the re-authentication must include (empty: any).' },
  },
  additionalProperties: false,
} as const;

export const deviceSchema = {
  type: 'object',
  required: ['userAgent', 'ip', 'label', 'browser', 'os', 'type'],
  properties: {
    userAgent: nullableString, ip: nullableString, label: nullableString,
    browser: nullableString, os: nullableString, type: { type: 'string' },
  },
  additionalProperties: false,
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['id', 'userId', 'roles', 'createdAt', 'lastSeenAt', 'idleExpiresAt', 'absoluteExpiresAt', 'device', 'data'],
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    createdAt: time, lastSeenAt: time, idleExpiresAt: time, absoluteExpiresAt: time,
    idleTimeout: { type: 'integer', description: 'The effective idle timeout of this session, in milliseconds.' },
    absoluteTimeout: { type: 'integer', description: 'The effective absolute lifetime of this session, in milliseconds.' },
    policy: { type: ['string', 'null'], description: 'The role whose policy set the timeouts (the most restrictive of the roles), or null for the defaults.' },
    authenticatedAt: { ...time, description: 'When the user last proved who they are: at login, or at the last re-authentication.' },
    authMethods: { type: 'array', items: { type: 'string' }, description: 'How the user proved it then, e.g. ["password", "totp"].' },
    fresh: { type: 'boolean', description: 'Only from `GET /v1/sessions/current` and `POST /v1/sessions/validate`: whether the last authentication is recent enough for sensitive actions (`SESSIONKIT_REAUTH_MAX_AGE`, or the `recentAuth` of the request).' },
    device: deviceSchema,
    data: { type: 'object', additionalProperties: true },
    current: { type: 'boolean', description: "Only in lists of the caller's own sessions: whether this is the caller's session." },
  },
  additionalProperties: false,
} as const;

/** `{ session }` plus the session's CSRF token for cookie-authenticated writes. */
export const sessionResponseSchema = {
  type: 'object',
  required: ['session', 'csrfToken'],
  properties: { session: sessionSchema, csrfToken: { type: 'string' } },
  additionalProperties: false,
} as const;

export const issuedSessionSchema = {
  type: 'object',
  required: ['session', 'token', 'expiresAt', 'csrfToken'],
  properties: {
    session: sessionSchema,
    token: { type: 'string', description: 'The session token: shown once, never stored in clear.' },
    expiresAt: { ...time, description: 'When the token expires if unused (the idle expiry).' },
    csrfToken: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/**
 * A renewal answered to a cookie-authenticated caller: the new token travels only in the HttpOnly
 * cookie, never in a body that page scripts can read (issue 18, Low 5).
 */
export const cookieIssuedSessionSchema = {
  type: 'object',
  required: ['session', 'expiresAt', 'csrfToken'],
  properties: {
    session: sessionSchema,
    expiresAt: { ...time, description: 'When the token in the cookie expires if unused (the idle expiry).' },
    csrfToken: { type: 'string' },
  },
  additionalProperties: false,
} as const;

export const sessionListSchema = {
  type: 'object',
  required: ['sessions'],
  properties: { sessions: { type: 'array', items: sessionSchema } },
  additionalProperties: false,
} as const;

export const revokedCountSchema = {
  type: 'object',
  required: ['revoked'],
  properties: { revoked: { type: 'integer', minimum: 0 } },
  additionalProperties: false,
} as const;

export const auditEventSchema = {
  type: 'object',
  required: ['seq', 'type', 'at', 'sessionId', 'userId', 'ip', 'userAgent', 'reason', 'detail', 'actor', 'requestId', 'tokenFingerprint', 'prevHash', 'hash'],
  properties: {
    seq: { type: 'integer' }, type: { type: 'string' }, at: time,
    sessionId: nullableString, userId: nullableString, ip: nullableString, userAgent: nullableString,
    reason: nullableString, detail: nullableString, actor: nullableString, requestId: nullableString,
    tokenFingerprint: nullableString, prevHash: { type: 'string' }, hash: { type: 'string' },
  },
  additionalProperties: false,
} as const;

export const auditPageSchema = {
  type: 'object',
  required: ['events', 'nextCursor'],
  properties: {
    events: { type: 'array', items: auditEventSchema },
    nextCursor: { type: ['string', 'null'], pattern: '^[0-9]{1,16}$', description: 'Pass as `cursor` for the next (older) page (the `seq` of the last event, in decimal); null at the end.' },
  },
  additionalProperties: false,
} as const;

/** The responses every route may give besides its own: errors by class. */
export const errorResponses = {
  '4xx': errorSchema,
  '5xx': errorSchema,
} as const;

/** A session as the API shows it (shared/API.md): ISO-8601 UTC times, `current` only in own lists. */
export interface SessionJson {
  id: string;
  userId: string;
  roles: string[];
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
  /** Effective timeouts (ms) and the role policy that set them (null: the defaults). */
  idleTimeout: number;
  absoluteTimeout: number;
  policy: string | null;
  authenticatedAt: string;
  authMethods: string[];
  /** Only where the service judged freshness (current session, validate). */
  fresh?: boolean;
  device: Session['device'];
  data: Record<string, unknown>;
  current?: boolean;
}

/**
 * Turns a `Session` into its API form (`fresh` and `current` only when given). Times go through
 * `isoTime` (core/iso-time.ts), the same text as `toISOString` at a tenth of its cost: this runs on
 * every `GET /v1/sessions/current` and `POST /v1/sessions/validate`.
 *
 * @example reply.send({ session: sessionJson(session) })
 */
/**
 * The session as its own user sees it (a session token or refresh token, not an API key): `data`
 * cut down to the keys of `userVisibleData` (null: all of it, the default). What a backend keeps
 * in the other keys stays between the backends and the service.
 *
 * @example userView(sessionJson(session), ['theme']) // data: { theme: 'dark' } only
 */
export function userView(json: SessionJson, visible: readonly string[] | null | undefined): SessionJson {
  if (visible === null || visible === undefined) return json;
  const data = json.data as Record<string, unknown>;
  // fromEntries defines own properties, so even a key named __proto__ stays data.
  return { ...json, data: Object.fromEntries(visible.filter((k) => Object.hasOwn(data, k)).map((k) => [k, data[k]])) };
}

export function sessionJson(s: Session, current?: boolean, fresh?: boolean): SessionJson {
  const out: SessionJson = {
    id: s.id, userId: s.userId, roles: s.roles,
    createdAt: isoTime(s.createdAt.getTime()), lastSeenAt: isoTime(s.lastSeenAt.getTime()),
    idleExpiresAt: isoTime(s.idleExpiresAt.getTime()), absoluteExpiresAt: isoTime(s.absoluteExpiresAt.getTime()),
    idleTimeout: s.idleTimeout, absoluteTimeout: s.absoluteTimeout, policy: s.policy,
    authenticatedAt: isoTime(s.authenticatedAt.getTime()), authMethods: s.authMethods,
    device: s.device, data: s.data,
  };
  if (fresh !== undefined) out.fresh = fresh;
  if (current !== undefined) out.current = current;
  return out;
}
