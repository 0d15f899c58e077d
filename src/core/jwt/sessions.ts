/**
 * JWT sessions: short-lived access tokens over a stored session, opaque single-use refresh tokens
 * rotated on every refresh, the key ring, and revocation of stateless tokens. The manager owns the
 * store, clock and audit; this module gets them as dependencies. It assembles the JWT half from
 * context.ts (settings, key ring, caches, issuing), access.ts (validation) and refresh.ts.
 */
import type { SessionError } from '../errors.js';
import type { PolicyResolver } from '../policy.js';
import type { SessionStore } from '../store.js';
import type { AuditEvent, AuditEventType, RequestContext, Session, StoredSession } from '../types.js';
import { accessTokenOperations } from './access.js';
import { jwtContext } from './context.js';
import type { ImportKeyInput, SigningKeyInfo } from './keyring.js';
import { refreshOperation } from './refresh.js';
import type { JwtSessionOptions } from './settings.js';

export type { JwtOptions, JwtSessionOptions, RevocationCheck } from './settings.js';

/** What `create({ tokenType: 'jwt' })` and `refresh()` return. */
export interface IssuedJwtSession {
  session: Session;
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  /** When the refresh token stops working unless used (the session's idle expiry). */
  expiresAt: Date;
}

/** What the manager lends this module. */
export interface JwtSessionDeps {
  store: SessionStore;
  now: () => number;
  prefix: string;
  resolvePolicy: PolicyResolver;
  derivedKey(purpose: string): Promise<Buffer>;
  nextSecret(id: string, generation: number, secret: string): Promise<string>;
  reject(error: SessionError, token: unknown, ctx: RequestContext | undefined, s: { id: string; userId: string } | null, reason: string, detail?: string | null): Promise<SessionError>;
  event(type: AuditEventType, s: { id: string; userId: string } | null, ctx: RequestContext | undefined, reason?: string | null, extra?: Partial<AuditEvent>): AuditEvent;
  emit(events: AuditEvent[]): void;
  toSession(record: StoredSession): Session;
  isOpaqueToken(token: unknown): boolean;
}

/**
 * Builds the JWT half of a session manager.
 *
 * @example const jwt = createJwtSessions(options, deps); const s = await jwt.validate(accessToken, ctx);
 */
export function createJwtSessions(options: JwtSessionOptions, deps: JwtSessionDeps) {
  const jc = jwtContext(options, deps);
  const { ring, tokens, verifier, revocations, parseRefresh } = jc;
  const { validate, sessionIdOf } = accessTokenOperations(jc);

  ring.onChange(() => {
    tokens.clear();
    verifier?.reset();
  });
  let unwatch: (() => void) | null = null;
  if (jc.jwt) {
    unwatch = deps.store.watch((change) => {
      if (change.type === 'keys') ring.reload().catch(() => {});
      else revocations.signal(change);
    });
    ring.start();
  }

  return {
    settings: jc.settings,
    /** Whether a value is shaped like one of our refresh tokens (never valid as an access token). */
    isRefreshToken: (token: unknown): boolean => parseRefresh(token) !== null,
    issue: jc.issue,
    /** The `create`/`refresh` answer for a record whose refresh secret is `refreshSecret`. */
    issued: jc.issued,
    validate,
    refresh: refreshOperation(jc),
    sessionIdOf,
    /** Tells the local revocation set at once, whatever the store's events do. */
    revoked(sessionIds: string[], at: number): void {
      for (const id of sessionIds) revocations.markRevoked(id, at);
    },
    keys: {
      /**
       * Adds a new signing key: published (pending) at once, signing from `activatesAt` (now plus
       * `jwt.keyPropagation`; at once when there was no key); the previous key keeps signing until
       * then, and verifies until its tokens have expired.
       */
      rotate: async (): Promise<{ kid: string; activatesAt: Date }> => {
        const { kid, activatesAt } = await ring.rotate();
        return { kid, activatesAt: new Date(activatesAt) };
      },
      /**
       * Creates the first signing key now if the store has none (`jwks()` does too), so the JWKS is
       * published before the first token is signed: call it at start-up. `sessionkit serve` does.
       */
      ensure: (): Promise<void> => ring.ensureKey(),
      /** The public keys, for `/.well-known/jwks.json` (creates the first key if there is none). */
      jwks: (): Promise<{ keys: import('node:crypto').JsonWebKey[] }> => ring.jwks(),
      /** Every key with its state; never key material. */
      list: (): Promise<SigningKeyInfo[]> => ring.list(),
      /** Adds an existing key (JWK, PEM or KeyObject): public keys verify, private keys can sign. */
      import: (input: ImportKeyInput): Promise<{ kid: string }> => ring.import(input),
      /** Retires a key at once: every token it signed stops verifying (a compromised key). */
      retire: (kid: string): Promise<boolean> => ring.retire(kid),
      /**
       * Checks that the master key decrypts every signing key in the store that still has a private
       * half; throws `invalid_request` naming the first that it does not (`details.kid`). Run it at
       * start-up: `sessionkit serve` does, and refuses to start.
       */
      check: (): Promise<void> => ring.checkDecryptable(),
    },
    close(): void {
      unwatch?.();
      unwatch = null;
      ring.stop();
    },
  };
}
