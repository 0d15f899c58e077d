/** What sessionkit knows about the device a session was created from. */
export interface DeviceInfo {
  userAgent: string | null;
  ip: string | null;
  label: string | null;
  browser: string | null;
  os: string | null;
  /** `desktop`, `mobile`, `tablet`, `tv`, `bot` or `unknown`. */
  type: string;
}

export type RevokeReason = 'logout' | 'logout_all' | 'admin' | 'evicted' | 'replaced' | 'expired'
  | 'refresh_reuse' | 'backchannel_logout' | (string & {});

export type TokenType = 'opaque' | 'jwt';

/**
 * The record a store holds. Kept apart from `Session` (what callers get): it carries hashes and
 * bookkeeping that never leave the library. Times are epoch milliseconds.
 */
export interface StoredSession {
  id: string;
  /** SHA-256 (hex) of the current secret: the opaque token's secret, or the current refresh token's. */
  secretHash: string;
  /** The predecessor of `secretHash` after a renewal or refresh, accepted until `previousSecretExpiresAt`. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
  /** Hashes of earlier refresh tokens of this family (bounded), so presenting one is detected as reuse. */
  usedSecretHashes: string[];
  /** Rotation counter of the token family (renewals and refreshes). */
  generation: number;
  tokenType: TokenType;
  userId: string;
  roles: string[];
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  /** The effective timeouts and the role policy that set them (null: the defaults). */
  idleTimeout: number;
  absoluteTimeout: number;
  policy: string | null;
  authenticatedAt: number;
  authMethods: string[];
  device: DeviceInfo;
  data: Record<string, unknown>;
  /** Bumped by every change except the throttled touch; `update` compares it. */
  version: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
}

/** A session as callers see it. */
export interface Session {
  id: string;
  userId: string;
  roles: string[];
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  idleTimeout: number;
  absoluteTimeout: number;
  policy: string | null;
  authenticatedAt: Date;
  authMethods: string[];
  device: DeviceInfo;
  data: Record<string, unknown>;
  version: number;
  tokenType: TokenType;
}

export type AuditEventType =
  | 'session.created' | 'session.renewed' | 'session.refreshed' | 'session.revoked'
  | 'session.expired' | 'session.rejected' | 'session.refresh_reuse_detected'
  | 'session.updated' | 'session.reauthenticated' | 'keys.rotated' | 'apikey.rejected';

/** One audit event. Never holds a token, refresh token, CSRF token or key: only fingerprints. */
export interface AuditEvent {
  type: AuditEventType;
  /** Epoch milliseconds. */
  at: number;
  sessionId: string | null;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  reason: string | null;
  /** A refinement of the reason (for example `idle` or `absolute` for an expiry). */
  detail?: string | null;
  actor: string | null;
  requestId: string | null;
  /** Short fingerprint of a presented token (first 12 hex of its SHA-256), for rejected attempts. */
  tokenFingerprint?: string | null;
}

/**
 * Where audit events go besides the store: a log, a live stream, a test's array. Declared in the
 * core (the manager's port for audit), implemented in src/audit/sink.ts and by applications.
 */
export interface AuditSink {
  write(event: AuditEvent): void | Promise<void>;
}

/** An audit event as a store keeps it: with its place in the stream and the hash chain. */
export interface StoredAuditEvent extends AuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  userId?: string;
  sessionId?: string;
  type?: string;
  /** The client IP the event recorded (for example every `session.rejected` from one address). */
  ip?: string;
  since?: number;
  until?: number;
  limit?: number;
  /** Return events with `seq` below this (newest first paging). */
  before?: number;
  /** Return events with `seq` above this, oldest first (live tailing, `Last-Event-ID`). */
  after?: number;
}

/** Who asked, for audit: filled by adapters and the service. */
export interface RequestContext {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  actor?: string | null;
}
