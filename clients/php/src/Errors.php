<?php
/**
 * Typed exceptions that mirror the service's stable error codes (docs/API.md): catch
 * `SessionExpired`, `SessionRevoked`, ... or read `$e->errorCode`. `getCode()` is the HTTP status.
 * Messages come from the service (which never puts a token in one); the client never adds a token,
 * an API key or a response body to an exception.
 *
 * Example:
 *     try { $session = $client->validate($token); }
 *     catch (Sessionkit\SessionExpired | Sessionkit\SessionRevoked) { header('Location: /login'); }
 */
declare(strict_types=1);

namespace Sessionkit;

class SessionkitException extends \RuntimeException
{
    public const CODE = 'sessionkit_error';
    public const STATUS = 0;

    public readonly string $errorCode;
    public readonly int $status;

    public function __construct(
        string $message,
        ?string $errorCode = null,
        ?int $status = null,
        public readonly ?string $requestId = null,
        public readonly ?int $retryAfter = null,
    ) {
        $this->errorCode = $errorCode ?? static::CODE;
        $this->status = $status ?? static::STATUS;
        parent::__construct($message, $this->status);
    }

    /** The service's JSON error body for this error (what the middleware answers with). */
    public function toBody(): array
    {
        return ['error' => $this->errorCode, 'message' => $this->getMessage()];
    }

    /** The exception for an error answer of the service; unknown codes keep their code. */
    public static function fromResponse(int $status, mixed $body, ?string $requestId = null, ?string $retryAfter = null): self
    {
        $code = is_array($body) ? ($body['error'] ?? null) : null;
        $message = is_array($body) ? ($body['message'] ?? null) : null;
        if (!is_string($code) || !is_string($message)) {
            return new ServiceUnavailable("the service answered HTTP $status without an error body", null, $status >= 500 ? $status : 502, $requestId);
        }
        $seconds = $retryAfter !== null && ctype_digit($retryAfter) ? (int) $retryAfter : null;
        $class = ERROR_CLASSES[$code] ?? ($status === 401 ? TokenException::class : self::class);
        if ($class === ReauthenticationRequired::class) {
            $maxAge = $body['maxAge'] ?? null;
            $methods = is_array($body['methods'] ?? null) ? array_values(array_filter($body['methods'], 'is_string')) : [];
            return new ReauthenticationRequired($message, $code, $status, $requestId, $seconds, is_int($maxAge) ? $maxAge : null, $methods);
        }
        return new $class($message, $code, $status, $requestId, $seconds);
    }
}

/** The token does not identify a live session: answered with 401. */
class TokenException extends SessionkitException { public const STATUS = 401; }
class TokenMissing extends TokenException { public const CODE = 'token_missing'; }
class TokenMalformed extends TokenException { public const CODE = 'token_malformed'; }
class TokenInvalid extends TokenException { public const CODE = 'token_invalid'; }
class SessionNotFound extends TokenException { public const CODE = 'session_not_found'; }
class SessionExpired extends TokenException { public const CODE = 'session_expired'; }
class SessionRevoked extends TokenException { public const CODE = 'session_revoked'; }
/** A refresh token was presented twice: the service revoked the whole session. */
class RefreshReused extends TokenException { public const CODE = 'refresh_reused'; }
class CsrfFailed extends SessionkitException { public const CODE = 'csrf_failed'; public const STATUS = 403; }
class InsufficientScope extends SessionkitException { public const CODE = 'insufficient_scope'; public const STATUS = 403; }
/**
 * The session is live but its last authentication is too old or lacks a required method (sudo
 * mode): `$maxAge` is the longest time in seconds since the last authentication the action
 * accepts (null if the service named none), `$methods` the methods the user must use (empty: any).
 * Send the user to re-authenticate, then call `Client::reauthenticate()`.
 */
class ReauthenticationRequired extends SessionkitException
{
    public const CODE = 'reauthentication_required';
    public const STATUS = 403;

    /** @param list<string> $methods */
    public function __construct(
        string $message,
        ?string $errorCode = null,
        ?int $status = null,
        ?string $requestId = null,
        ?int $retryAfter = null,
        public readonly ?int $maxAge = null,
        public readonly array $methods = [],
    ) {
        parent::__construct($message, $errorCode, $status, $requestId, $retryAfter);
    }

    /** The service's body: `{error, message, maxAge, methods}` (`maxAge` when known). */
    public function toBody(): array
    {
        $body = parent::toBody();
        if ($this->maxAge !== null) {
            $body['maxAge'] = $this->maxAge;
        }
        $body['methods'] = $this->methods;
        return $body;
    }
}
/** Too many failed attempts from this address; `$retryAfter` is in seconds. */
class RateLimited extends SessionkitException { public const CODE = 'rate_limited'; public const STATUS = 429; }
/** The service's store could not answer: fail closed. */
class StoreUnavailable extends SessionkitException { public const CODE = 'store_unavailable'; public const STATUS = 503; }
/** The service could not be reached, timed out, or answered something that is not its JSON. */
class ServiceUnavailable extends SessionkitException { public const CODE = 'service_unavailable'; public const STATUS = 503; }
class InvalidRequest extends SessionkitException { public const CODE = 'invalid_request'; public const STATUS = 400; }
/**
 * Another request of the same session held its lock past SessionHandler's `lockTimeout`: the
 * session was not started (raised by the client, never by the service).
 */
class SessionLocked extends SessionkitException { public const CODE = 'session_locked'; public const STATUS = 503; }
class VersionConflict extends SessionkitException { public const CODE = 'version_conflict'; public const STATUS = 409; }
class SessionLimitReached extends SessionkitException { public const CODE = 'session_limit_reached'; public const STATUS = 409; }

const ERROR_CLASSES = [
    'token_missing' => TokenMissing::class,
    'token_malformed' => TokenMalformed::class,
    'token_invalid' => TokenInvalid::class,
    'session_not_found' => SessionNotFound::class,
    'session_expired' => SessionExpired::class,
    'session_revoked' => SessionRevoked::class,
    'refresh_reused' => RefreshReused::class,
    'csrf_failed' => CsrfFailed::class,
    'insufficient_scope' => InsufficientScope::class,
    'reauthentication_required' => ReauthenticationRequired::class,
    'rate_limited' => RateLimited::class,
    'store_unavailable' => StoreUnavailable::class,
    'service_unavailable' => ServiceUnavailable::class,
    'invalid_request' => InvalidRequest::class,
    'version_conflict' => VersionConflict::class,
    'session_limit_reached' => SessionLimitReached::class,
];
