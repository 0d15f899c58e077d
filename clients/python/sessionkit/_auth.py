"""What the WSGI and ASGI middlewares share: finding the token, checking CSRF, error answers.

The rules mirror the service's own (src/http/core.ts, src/http/csrf.ts): the token comes from the
session cookie or ``Authorization: Bearer``, never both; cookie-authenticated unsafe requests need
the session's CSRF token in ``X-CSRF-Token`` and must not be cross-site; Bearer requests are exempt
(a browser never attaches a Bearer header on its own, so there is nothing to forge).
With ``recent_auth`` the service also judges whether the session's last authentication is recent
enough (sudo mode); a stale one is refused with the service's 403 ``reauthentication_required``
body (``maxAge``, ``methods``).
"""
from __future__ import annotations

import hmac
import json
import re
import urllib.parse
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .client import SessionkitClient
from .cookies import CSRF_COOKIE_NAME, CookieSettings
from .errors import CsrfFailed, InvalidRequest, SessionkitError, TokenError, TokenMalformed, TokenMissing
from .freshness import RecentAuthLike, as_recent_auth
from .secret import secret

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_MAX_TOKEN = 4096
_BEARER = re.compile(r"^\s*bearer(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


def read_cookie(header: Optional[str], name: str) -> Optional[str]:
    """The first cookie called ``name`` in a ``Cookie`` header (lenient: bad pairs are skipped)."""
    if not header:
        return None
    for pair in header.split(";"):
        key, sep, value = pair.partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return urllib.parse.unquote(value) or None
    return None


def extract_token(cookie_header: Optional[str], authorization: Optional[str], cookie_name: str) -> Tuple[Optional[str], Optional[str]]:
    """``(token, source)`` with source ``"cookie"`` / ``"bearer"``, or ``(None, None)``."""
    cookie_token = read_cookie(cookie_header, cookie_name)
    bearer = None
    if authorization is not None:
        match = _BEARER.match(authorization)
        if match:
            bearer = (match.group(1) or "").strip()
            if not bearer:
                raise TokenMalformed("Authorization: Bearer carries no token")
    if cookie_token is not None and bearer is not None:
        raise InvalidRequest("send the session token in the cookie or in Authorization: Bearer, not both")
    token, source = (bearer, "bearer") if bearer is not None else (cookie_token, "cookie" if cookie_token else None)
    if token is not None and len(token) > _MAX_TOKEN:
        raise TokenMalformed("the session token is too long")
    return secret(token), source


def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class Authenticator:
    """Finds, validates (through the client's short cache) and CSRF-checks a request's token;
    with ``recent_auth``, has the service check freshness on ``recent_auth_paths`` (all paths
    when None), uncached."""

    def __init__(self, client: SessionkitClient, *, cookie_name: Optional[str] = None,
                 insecure_cookies: bool = False, csrf: bool = True,
                 optional: bool = False, exclude_paths: Sequence[str] = (),
                 recent_auth: Optional[RecentAuthLike] = None,
                 recent_auth_paths: Optional[Sequence[str]] = None) -> None:
        if not isinstance(client, SessionkitClient):
            raise TypeError("client must be a SessionkitClient")
        if isinstance(recent_auth_paths, str):
            raise TypeError('recent_auth_paths is a list of path prefixes, e.g. ["/settings/security"]')
        if recent_auth_paths is not None and recent_auth is None:
            raise ValueError("recent_auth_paths needs recent_auth (e.g. RecentAuth(max_age=300))")
        self.client = client
        # The login and logout helpers find these settings through the request (environ / scope).
        self.cookies = CookieSettings(cookie_name, insecure_cookies)
        self.cookie_name = self.cookies.name
        self.csrf = csrf
        self.optional = optional
        self.exclude_paths = tuple(exclude_paths)
        # Checked once here: a bad requirement fails at start-up, not on the first request.
        self.recent_auth = as_recent_auth(recent_auth) if recent_auth is not None else None
        self.recent_auth_paths = tuple(recent_auth_paths) if recent_auth_paths is not None else None

    def excluded(self, path: str) -> bool:
        return _under(path, self.exclude_paths)

    def needs_recent_auth(self, path: str) -> bool:
        """Whether requests to ``path`` must come from a freshly authenticated session."""
        if self.recent_auth is None:
            return False
        return self.recent_auth_paths is None or _under(path, self.recent_auth_paths)

    def check(self, token: Optional[str], source: Optional[str], method: str, headers: Dict[str, str],
              answer: Optional[Dict[str, Any]]) -> None:
        """Raises CsrfFailed for a cookie-authenticated unsafe request without the right token."""
        if not self.csrf or source != "cookie" or method.upper() in SAFE_METHODS or answer is None:
            return
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise CsrfFailed("cross-site request refused: Sec-Fetch-Site is cross-site")
        presented = headers.get(CSRF_HEADER, "")
        expected = answer.get("csrfToken", "")
        if not presented or not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise CsrfFailed("missing or wrong X-CSRF-Token header")

    def authenticate_sync(self, method: str, headers: Dict[str, str], path: str = "/") -> "Outcome":
        """What the request carries and what the response needs (``Outcome``); ``error`` is set
        when the request must be refused. As the Node adapters do (src/http/layer.ts), a request
        that presented a token gets ``Cache-Control: no-store``, a dead cookie session gets both
        cookies expired (so the browser stops sending them), and a live cookie session whose
        request lacks the CSRF cookie gets it again."""
        token, source = None, None
        try:
            token, source = extract_token(headers.get("cookie"), headers.get("authorization"), self.cookie_name)
            if token is None:
                raise TokenMissing("no session token: send the session cookie or Authorization: Bearer")
            if self.needs_recent_auth(path):
                answer = self.client.validation(token, recent_auth=self.recent_auth)
            else:
                answer = self.client.validation(token, cached=True)
            self.check(token, source, method, headers, answer)
        except TokenError as err:
            # source is set only once a token was read: the service refused the cookie's session.
            dead_cookie = source == "cookie"
            presented = token is not None or not isinstance(err, TokenMissing)
            return Outcome(None, None, None if self.optional else err, presented,
                           self.cookies.clear_cookies() if dead_cookie else [])
        except SessionkitError as err:
            return Outcome(None, None, err, True, [])
        cookies: List[str] = []
        if source == "cookie" and f"{CSRF_COOKIE_NAME}=" not in (headers.get("cookie") or ""):
            cookies = self.cookies.login_cookies(token, answer["csrfToken"], answer["session"])[1:]
        return Outcome(answer, source, None, True, cookies)


class Outcome(NamedTuple):
    """``answer`` (``{session, csrfToken}``) and ``source`` for an accepted request, or the
    ``error`` to answer with; ``no_store`` and ``set_cookies`` go on the response either way."""

    answer: Optional[Dict[str, Any]]
    source: Optional[str]
    error: Optional[SessionkitError]
    no_store: bool
    set_cookies: List[str]

    def response_headers(self) -> List[Tuple[str, str]]:
        """The headers to add to the app's response (Cache-Control only if the app set none)."""
        headers = [("Set-Cookie", cookie) for cookie in self.set_cookies]
        return headers + [("Cache-Control", "no-store")] if self.no_store else headers


def error_response(err: SessionkitError, set_cookies: Sequence[str] = ()) -> Tuple[int, List[Tuple[str, str]], bytes]:
    """``(status, headers, body)`` answering a refused request with the service's JSON error
    (and ``set_cookies``: the expired cookies of a dead session)."""
    status = err.status or 503
    body = json.dumps(err.to_body()).encode("utf-8")
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store"),
               ("Content-Length", str(len(body)))]
    if status == 401:
        headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
    if err.retry_after is not None:
        headers.append(("Retry-After", str(err.retry_after)))
    headers.extend(("Set-Cookie", cookie) for cookie in set_cookies)
    return status, headers, body
