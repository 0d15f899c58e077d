"""WSGI middleware: every request must carry a live sessionkit session (Flask, Django, any WSGI app).

The middleware reads the session cookie or ``Authorization: Bearer``, validates the token through
the service (with the client's short, revocation-aware cache), checks CSRF on cookie-authenticated
writes, and puts the result in the environ:

- ``environ["sessionkit.session"]``: the session dict (``id``, ``userId``, ``roles``, ...)
- ``environ["sessionkit.csrf_token"]``: the session's CSRF token, for the app's forms and scripts
- ``environ["sessionkit.token_source"]``: ``"cookie"`` or ``"bearer"``

As the Node adapters do, a response to a request that presented a token gets ``Cache-Control:
no-store`` (unless the app set its own), a dead cookie session gets both cookies expired (so the
browser stops sending them) and a live cookie session whose request lacks the ``sessionkit-csrf``
cookie gets it again.

A refused request is answered by the middleware with the service's JSON error body: 401 (with
``WWW-Authenticate``) for a missing, malformed, expired or revoked token, 403 for CSRF, 429 when
the service rate-limits, 503 when the service cannot be reached (fail closed).

Sudo mode: with ``recent_auth=RecentAuth(max_age=300, methods=["totp"])`` the requests under
``recent_auth_paths`` (every checked request when not given) also need a session whose last
authentication meets it; the service judges that on every such request (no cache) and a stale
session gets the service's 403 ``{"error": "reauthentication_required", "message": ...,
"maxAge": 300, "methods": ["totp"]}``, so the front end can send the user to re-authenticate.

Example (Flask)::

    client = SessionkitClient("http://127.0.0.1:8080", api_key=os.environ["SESSIONKIT_API_KEY"])
    app.wsgi_app = SessionkitMiddleware(app.wsgi_app, client, exclude_paths=["/login"],
                                        recent_auth=RecentAuth(max_age=300), recent_auth_paths=["/settings/security"])

    @app.get("/me")
    def me():
        return request.environ["sessionkit.session"]
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ._auth import Authenticator, error_response
from .client import SessionkitClient
from .freshness import RecentAuthLike
from .secret import secret

__all__ = ["SessionkitMiddleware"]

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _headers(environ: Dict[str, Any]) -> Dict[str, str]:
    wanted = {"HTTP_COOKIE": "cookie", "HTTP_AUTHORIZATION": "authorization",
              "HTTP_X_CSRF_TOKEN": "x-csrf-token", "HTTP_SEC_FETCH_SITE": "sec-fetch-site"}
    # Secrets: the cookie and Authorization carry the token, and this dict is a local of frames.
    return {name: secret(environ[key]) for key, name in wanted.items() if isinstance(environ.get(key), str)}


class SessionkitMiddleware:
    """Wraps a WSGI app. Options: ``cookie_name`` (default ``__Host-sessionkit``, or ``sessionkit``
    with ``insecure_cookies``, plain-HTTP development only: no ``Secure``, no ``__Host-``), ``csrf`` (on), ``optional`` (requests without a live
    session pass with ``sessionkit.session`` set to None), ``exclude_paths`` (path prefixes that
    skip the check entirely, e.g. the login page), ``recent_auth`` (a ``RecentAuth``: sudo mode)
    and ``recent_auth_paths`` (path prefixes it applies to; default: every checked path)."""

    def __init__(self, app: WSGIApp, client: SessionkitClient, *, cookie_name: Optional[str] = None,
                 insecure_cookies: bool = False, csrf: bool = True, optional: bool = False, exclude_paths: Sequence[str] = (),
                 recent_auth: Optional[RecentAuthLike] = None, recent_auth_paths: Optional[Sequence[str]] = None) -> None:
        self.app = app
        self.auth = Authenticator(client, cookie_name=cookie_name, insecure_cookies=insecure_cookies, csrf=csrf,
                                  optional=optional, exclude_paths=exclude_paths, recent_auth=recent_auth,
                                  recent_auth_paths=recent_auth_paths)

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        environ["sessionkit.auth"] = self.auth  # for sessionkit.flask's login() / logout(), excluded paths too
        if self.auth.excluded(path):
            return self.app(environ, start_response)
        outcome = self.auth.authenticate_sync(environ.get("REQUEST_METHOD", "GET"), _headers(environ), path)
        if outcome.error is not None:
            status, headers, body = error_response(outcome.error, outcome.set_cookies)
            start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
            return [body]
        answer = outcome.answer
        environ["sessionkit.session"] = answer["session"] if answer else None
        environ["sessionkit.csrf_token"] = answer.get("csrfToken") if answer else None
        environ["sessionkit.token_source"] = outcome.source
        extra = outcome.response_headers()
        if not extra:
            return self.app(environ, start_response)

        def start_with_changes(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            has_cache_control = any(name.lower() == "cache-control" for name, _ in headers)
            # After login() or logout() their cookies alone speak for the session.
            replaced = environ.get("sessionkit.cookies_set") is True
            added = [(n, v) for n, v in extra
                     if not (n == "Cache-Control" and has_cache_control) and not (n == "Set-Cookie" and replaced)]
            # Before the app's own: a cookie that login() or logout() sets comes later, and wins.
            return start_response(status, added + list(headers), exc_info)

        return self.app(environ, start_with_changes)

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 409: "Conflict",
            429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}
