"""Python client of the sessionkit session service: the HTTP client, typed errors, and WSGI / ASGI
middlewares that validate every request's session through the service.

Example::

    from sessionkit import SessionkitClient, SessionkitMiddleware
    client = SessionkitClient("http://127.0.0.1:8080", api_key=os.environ["SESSIONKIT_API_KEY"])
    app.wsgi_app = SessionkitMiddleware(app.wsgi_app, client)
"""
from .asgi import SessionkitASGIMiddleware
from .cache import ValidationCache
from .client import InsecureTransportWarning, SessionkitClient
from .freshness import RecentAuth
from .errors import (
    CsrfFailed, InsufficientScope, InvalidRequest, RateLimited, ReauthenticationRequired,
    RefreshReused, ServiceUnavailable, SessionExpired, SessionkitError, SessionLimitReached,
    SessionNotFound, SessionRevoked, StoreUnavailable, TokenError, TokenInvalid, TokenMalformed,
    TokenMissing, UnexpectedAnswer, VersionConflict,
)
from .secret import Secret
from .wsgi import SessionkitMiddleware

__all__ = [
    "SessionkitClient", "SessionkitMiddleware", "SessionkitASGIMiddleware", "ValidationCache", "RecentAuth",
    "SessionkitError", "TokenError", "TokenMissing", "TokenMalformed", "TokenInvalid",
    "SessionNotFound", "SessionExpired", "SessionRevoked", "RefreshReused", "CsrfFailed",
    "InsufficientScope", "ReauthenticationRequired", "RateLimited", "StoreUnavailable",
    "ServiceUnavailable", "UnexpectedAnswer", "InvalidRequest", "VersionConflict", "SessionLimitReached",
    "Secret", "InsecureTransportWarning",
]
__version__ = "0.1.0"
