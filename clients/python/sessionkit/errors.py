"""Typed exceptions that mirror the service's stable error codes.

Every failure the service reports is ``{"error": "<code>", "message": "<text>"}``; the client
raises the exception class of that code, so callers can ``except SessionExpired`` or switch on
``err.code``. Exceptions carry the code, the HTTP status, the service's message and the request
id, never a token or an API key (the service never puts one in a message, and the client never
adds one).

Example::

    try:
        session = client.validate(token)
    except (SessionExpired, SessionRevoked):
        return redirect("/login")
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Type


class SessionkitError(Exception):
    """Base class: ``code`` (stable, switch on it), ``status`` (HTTP, or None), ``message``."""

    code = "sessionkit_error"
    default_status: Optional[int] = None

    def __init__(self, message: str, *, code: Optional[str] = None, status: Optional[int] = None,
                 request_id: Optional[str] = None, retry_after: Optional[int] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.status = status if status is not None else self.default_status
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after

    def to_body(self) -> Dict[str, Any]:
        """The service's JSON error body for this error (what the middlewares answer with)."""
        return {"error": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class TokenError(SessionkitError):
    """The token does not identify a live session: answered with 401."""

    default_status = 401


class TokenMissing(TokenError):
    code = "token_missing"


class TokenMalformed(TokenError):
    code = "token_malformed"


class TokenInvalid(TokenError):
    code = "token_invalid"


class SessionNotFound(TokenError):
    code = "session_not_found"


class SessionExpired(TokenError):
    code = "session_expired"


class SessionRevoked(TokenError):
    code = "session_revoked"


class RefreshReused(TokenError):
    """A refresh token was presented twice: the service revoked the whole session."""

    code = "refresh_reused"


class CsrfFailed(SessionkitError):
    code = "csrf_failed"
    default_status = 403


class InsufficientScope(SessionkitError):
    """The API key lacks the scope the route needs (``sessions`` or ``admin``)."""

    code = "insufficient_scope"
    default_status = 403


class ReauthenticationRequired(SessionkitError):
    """The session is live but its last authentication is too old, or lacks a required method
    (sudo mode). ``max_age`` is the longest time in seconds since the last authentication the
    action accepts, or None if the service named none; ``methods`` the methods the user must
    use (empty: any will do). Send the user to re-authenticate, then call
    :meth:`SessionkitClient.reauthenticate`.
    """

    code = "reauthentication_required"
    default_status = 403

    def __init__(self, message: str, *, max_age: Optional[int] = None, methods: Optional[List[str]] = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.max_age = max_age
        self.methods = list(methods) if methods is not None else []

    def to_body(self) -> Dict[str, Any]:
        """The service's body: ``{error, message, maxAge, methods}`` (``maxAge`` when known)."""
        body: Dict[str, Any] = {"error": self.code, "message": self.message}
        if self.max_age is not None:
            body["maxAge"] = self.max_age
        body["methods"] = list(self.methods)
        return body


class RateLimited(SessionkitError):
    """Too many failed attempts from this address; ``retry_after`` is in seconds (or None)."""

    code = "rate_limited"
    default_status = 429


class StoreUnavailable(SessionkitError):
    """The service's store could not answer: validation fails closed."""

    code = "store_unavailable"
    default_status = 503


class ServiceUnavailable(SessionkitError):
    """The service could not be reached, timed out or answered something that is not its JSON."""

    code = "service_unavailable"
    default_status = 503


class UnexpectedAnswer(ServiceUnavailable):
    """The service answered something the API does not promise: a 2xx without the fields of its
    route, a body that is not JSON, a redirect or another 1xx/3xx, an error without an error body.
    Nothing of it is believed or cached; the middlewares answer 503 ``service_unavailable``."""


class InvalidRequest(SessionkitError):
    code = "invalid_request"
    default_status = 400


class VersionConflict(SessionkitError):
    code = "version_conflict"
    default_status = 409


class SessionLimitReached(SessionkitError):
    code = "session_limit_reached"
    default_status = 409


ERRORS_BY_CODE: Dict[str, Type[SessionkitError]] = {
    cls.code: cls
    for cls in (TokenMissing, TokenMalformed, TokenInvalid, SessionNotFound, SessionExpired,
                SessionRevoked, RefreshReused, CsrfFailed, InsufficientScope,
                ReauthenticationRequired, RateLimited, StoreUnavailable, ServiceUnavailable,
                InvalidRequest, VersionConflict, SessionLimitReached)
}


def error_from_response(status: int, body: Any, request_id: Optional[str] = None,
                        retry_after: Optional[str] = None) -> SessionkitError:
    """The exception for an error response of the service (unknown codes keep their code)."""
    code = body.get("error") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    if not 400 <= status <= 599:
        return UnexpectedAnswer(f"the service answered HTTP {status}, which it never does", request_id=request_id)
    if not isinstance(code, str) or not isinstance(message, str):
        return UnexpectedAnswer(f"the service answered HTTP {status} without an error body", request_id=request_id)
    seconds = int(retry_after) if retry_after is not None and retry_after.isdigit() else None
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        base: Type[SessionkitError] = TokenError if status == 401 else SessionkitError
        return base(message, code=code, status=status, request_id=request_id, retry_after=seconds)
    if cls is ReauthenticationRequired:
        max_age = body.get("maxAge")
        methods = body.get("methods")
        return ReauthenticationRequired(
            message, status=status, request_id=request_id, retry_after=seconds,
            max_age=max_age if isinstance(max_age, int) and not isinstance(max_age, bool) else None,
            methods=[m for m in methods if isinstance(m, str)] if isinstance(methods, list) else [])
    return cls(message, status=status, request_id=request_id, retry_after=seconds)
