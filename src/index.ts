export { createSessionManager, toSession } from './core/manager.js';
export type { SessionManager, SessionManagerOptions, CreateSessionInput, IssuedSession, RevokeInput, RevokeAllInput } from './core/manager.js';
export { SessionError, isSessionError, ERROR_STATUS, TOKEN_ERROR_CODES } from './core/errors.js';
export type { SessionErrorCode } from './core/errors.js';
export { parseDuration } from './core/duration.js';
export type { Duration } from './core/duration.js';
export { parseDevice } from './core/device.js';
export type * from './core/types.js';
export type * from './stores/types.js';
export { retentionOf, isLive } from './stores/types.js';
export { pinoAudit, memoryAudit } from './audit/sink.js';
export type { AuditSink } from './audit/sink.js';
export { verifyChain, GENESIS_HASH } from './audit/chain.js';
export { tokenFingerprint, hashSecret } from './tokens/opaque.js';
export { memoryStore } from './stores/memory.js';
// JWT access tokens, refresh tokens and the key ring (issue 3)
export type { CreateSessionWithTokenType } from './core/manager.js';
export type { JwtOptions, JwtSessionOptions, RevocationCheck, IssuedJwtSession } from './core/jwt/sessions.js';
export { JWT_ALGORITHMS } from './tokens/jwt-algorithms.js';
export type { JwtAlgorithm } from './tokens/jwt-algorithms.js';
export { createAccessTokenVerifier, looksLikeJwt } from './tokens/jwt-verify.js';
export type { AccessTokenClaims, AccessTokenVerifier, VerificationKey, JwtRejectReason } from './tokens/jwt-verify.js';
export type { SigningKeyInfo, KeyState, ImportKeyInput } from './core/jwt/keyring.js';
// Re-authentication freshness, "sudo mode" (issue 12)
export { isFresh, checkFreshness, reauthenticationRequired, DEFAULT_REAUTH_MAX_AGE } from './core/freshness.js';
export type { FreshnessRequirement, FreshnessVerdict, RecentAuthInput, ReauthPolicyInput, RoleFreshnessRule } from './core/freshness.js';
export type { ReauthenticateInput, ReauthenticatedSession } from './core/manager.js';
// Proof-of-possession protocols (issue 19): DPoP proof verification (RFC 9449) and DBSC wire formats
export { verifyDpopProof, DpopError, dpopChallenge, normaliseHtu, accessTokenHash, jwkThumbprint, DPOP_ALGORITHMS } from './tokens/dpop.js';
export type { DpopAlgorithm, DpopRejectReason, DpopNonceSource, VerifyDpopProofOptions, VerifiedDpopProof } from './tokens/dpop.js';
export {
  DbscError, DBSC_ALGORITHMS, DBSC_HEADERS, registrationHeader, challengeHeader, sessionInstructions, parseSfStringHeader,
  newDbscChallenge, hashDbscChallenge, verifyRegistrationProof, verifyRefreshProof,
} from './tokens/dbsc.js';
export type {
  DbscAlgorithm, DbscRejectReason, BoundKey, RegistrationHeaderOptions, SessionInstructions, SessionInstructionsOptions,
  RegistrationProofOptions, RefreshProofOptions,
} from './tokens/dbsc.js';
