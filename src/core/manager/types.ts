/** The shapes the manager's operations take and return (re-exported by src/core/manager.ts). */
import type { DeviceInput } from '../device.js';
import type { IssuedJwtSession } from '../jwt/sessions.js';
import type { RequestContext, Session, TokenType } from '../types.js';

export interface CreateSessionInput {
  userId: string;
  roles?: string[];
  device?: DeviceInput;
  data?: Record<string, unknown>;
  /** The token of the session this login replaces: revoked (no fixation). Invalid ones are ignored. */
  replaces?: string | null | undefined;
  /** How the user proved who they are, for re-authentication freshness. Default `[]`. */
  authMethods?: string[];
}

/**
 * `create` input with the token type: `'opaque'` (default) returns one session token; `'jwt'`
 * (needs the `jwt` option) returns an access token and a refresh token.
 */
export type CreateSessionWithTokenType = CreateSessionInput & { tokenType?: TokenType };

export interface IssuedSession {
  session: Session;
  token: string;
  expiresAt: Date;
}

/** What `reauthenticate` records: the methods the user just proved who they are with. */
export interface ReauthenticateInput {
  /** For example `['password']`, `['password', 'totp']` or `['webauthn']`; at least one. */
  methods: string[];
}

/**
 * What `reauthenticate` returns: an opaque session's new token (`IssuedSession`), or a JWT
 * session's new access token and refresh token (`IssuedJwtSession`). Tell them apart with
 * `'token' in result` or `result.session.tokenType`.
 */
export type ReauthenticatedSession = IssuedSession | IssuedJwtSession;

export interface RevokeInput extends RequestContext {
  reason?: string;
}

export interface RevokeAllInput extends RevokeInput {
  except?: string;
}
