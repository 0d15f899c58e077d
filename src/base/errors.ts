/**
 * Every failure sessionkit reports is a `SessionError` with a stable `code` and the HTTP `status`
 * that code maps to, so callers can `switch (err.code)` and adapters can answer without a table.
 *
 * @example
 * try { await sessions.validate(token) } catch (err) {
 *   if (err instanceof SessionError && err.code === 'session_expired') redirectToLogin()
 * }
 */
export const ERROR_STATUS = {
  token_missing: 401,
  token_malformed: 401,
  token_invalid: 401,
  session_not_found: 401,
  session_expired: 401,
  session_revoked: 401,
  refresh_reused: 401,
  csrf_failed: 403,
  /** An API key without the scope a route needs (the service: `sessions` or `admin`). */
  insufficient_scope: 403,
  reauthentication_required: 403,
  rate_limited: 429,
  store_unavailable: 503,
  invalid_request: 400,
  version_conflict: 409,
  session_limit_reached: 409,
  /** A DPoP proof (RFC 9449) that fails a check; answered with `WWW-Authenticate: DPoP`. */
  invalid_dpop_proof: 401,
  /** The server wants a DPoP proof carrying its current nonce (RFC 9449 §9); sent with `DPoP-Nonce`. */
  use_dpop_nonce: 401,
  /** A DBSC proof (`dbsc+jwt`) that fails a check: wrong key, challenge, audience or time. */
  invalid_dbsc_proof: 401,
} as const;

export type SessionErrorCode = keyof typeof ERROR_STATUS;

/** The codes that mean "this token does not identify a live session": answered with 401. */
export const TOKEN_ERROR_CODES: ReadonlySet<SessionErrorCode> = new Set<SessionErrorCode>([
  'token_missing', 'token_malformed', 'token_invalid', 'session_not_found',
  'session_expired', 'session_revoked', 'refresh_reused',
]);

export class SessionError extends Error {
  readonly code: SessionErrorCode;
  readonly status: number;
  /** Machine-readable extra facts (for example `{ expiry: 'idle' }`); never a secret. */
  readonly details: Record<string, unknown>;

  constructor(code: SessionErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }
}

export function isSessionError(err: unknown, code?: SessionErrorCode): err is SessionError {
  return err instanceof SessionError && (code === undefined || err.code === code);
}

/** Wraps any failure of a store call as `store_unavailable`, keeping `SessionError`s as they are. */
export function storeFailure(err: unknown, what: string): SessionError {
  if (err instanceof SessionError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SessionError('store_unavailable', `session store unavailable during ${what}: ${reason}`, {}, { cause: err });
}
