"""The HTTP client of the sessionkit service (docs/API.md), over ``urllib`` only.

Backend calls (create, validate, reauthenticate, revoke, revoke_all, list) authenticate with the API key;
calls made on behalf of an end user (renew, current, logout, list_mine, revoke_others) carry the
user's token as ``Authorization: Bearer``; ``refresh`` carries the refresh token in the body.
Responses are the service's JSON as plain dicts. Every call has a timeout; a service that cannot
be reached raises ``ServiceUnavailable``, an error answer raises the exception of its code.

Example::

    client = SessionkitClient("http://127.0.0.1:8080", api_key=os.environ["SESSIONKIT_API_KEY"])
    issued = client.create("u1", roles=["user"], device={"userAgent": ua, "ip": ip})
    session = client.validate(issued["token"])      # raises SessionExpired, SessionRevoked, ...
    client.validate(token, recent_auth=RecentAuth(max_age=300))  # raises ReauthenticationRequired
    client.revoke(session["id"])
"""
from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Callable, Dict, List, Optional

from .answers import (
    Check, check_empty, check_issued, check_jwks, check_revoked, check_session_answer, check_sessions,
    check_validation, redact_answer,
)
from .cache import ValidationCache
from .errors import (
    ServiceUnavailable, SessionkitError, TokenError, TokenMissing, UnexpectedAnswer, error_from_response,
)
from .freshness import RecentAuthLike, recent_auth_body
from .secret import Secret, secret

__all__ = ["SessionkitClient", "InsecureTransportWarning"]


class InsecureTransportWarning(UserWarning):
    """The client talks plain ``http://`` to a host that is not this machine: the API key and
    session tokens cross the network unencrypted."""


_MAX_TOKEN = 4096


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The service never redirects; following one would send the API key somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


class SessionkitClient:
    """A client of one sessionkit service.

    ``timeout`` (seconds) bounds each request. ``cache_ttl`` / ``cache_size`` configure the
    validation cache used by :meth:`validate_cached` (the middlewares' path); :meth:`validate`
    always asks the service. Environment proxies are ignored unless an ``opener`` says otherwise:
    the API key should go to the service and nowhere else. Redirects are never followed; an
    ``opener`` you pass should not follow them either (its request would carry the key to the
    new place), and an answer that arrives through one is refused as ``UnexpectedAnswer``.
    """

    def __init__(self, base_url: str, api_key: Optional[str] = None, *, timeout: float = 5.0,
                 cache_ttl: float = 1.0, cache_size: int = 10_000,
                 clock: Optional[Callable[[], float]] = None,
                 opener: Optional[urllib.request.OpenerDirector] = None,
                 user_agent: str = "sessionkit-python/0.1") -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("base_url must be an http(s) URL such as http://127.0.0.1:8080")
        if "@" in parsed.netloc:
            # Named, never shown: the text before @ is a user name and password (and this frame's
            # locals show in tracebacks printed with locals).
            base_url = parsed = None  # type: ignore[assignment]
            raise ValueError("base_url must not carry credentials (user:password@host): the client "
                             "authenticates with api_key, and a URL ends up in logs and error messages")
        if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
            warnings.warn(InsecureTransportWarning(
                f"sessionkit: {parsed.scheme}://{parsed.netloc} is plain HTTP to another machine: the API key and "
                "session tokens travel unencrypted; use https:// (plain HTTP is for a service on loopback)"), stacklevel=2)
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.base_url = base_url.rstrip("/")
        self._api_key = secret(api_key)
        self.timeout = timeout
        self.user_agent = user_agent
        self.cache = ValidationCache(cache_ttl, cache_size, clock) if clock else ValidationCache(cache_ttl, cache_size)
        self._opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def __repr__(self) -> str:
        # Never the key: only whether there is one.
        # getattr: a traceback printed with locals shows a client whose __init__ raised, too.
        return f"SessionkitClient({getattr(self, 'base_url', None)!r}, api_key={'set' if getattr(self, '_api_key', None) else None})"

    # -- backend calls (API key) ---------------------------------------------------------------

    def create(self, user_id: str, *, roles: Optional[List[str]] = None,
               device: Optional[Dict[str, Optional[str]]] = None, data: Optional[Dict[str, Any]] = None,
               replaces: Optional[str] = None, token_type: str = "opaque") -> Dict[str, Any]:
        """Creates a session for a user the app has authenticated.

        Returns ``{session, token, expiresAt, csrfToken}``, or with ``token_type="jwt"``
        ``{session, accessToken, refreshToken, accessTokenExpiresAt, expiresAt, csrfToken}``.
        ``replaces`` is the token of the session this login replaces (it is revoked: no fixation).
        """
        replaces = secret(replaces)
        body: Dict[str, Any] = {"userId": user_id, "tokenType": token_type}
        if roles is not None:
            body["roles"] = roles
        if device is not None:
            body["device"] = device
        if data is not None:
            body["data"] = data
        if replaces is None:
            return self._call("POST", "/v1/sessions", check_issued, body=body, api_key=True)
        body["replaces"] = replaces
        self.cache.forget_token(replaces)
        try:
            return self._call("POST", "/v1/sessions", check_issued, body=body, api_key=True)
        finally:
            self.cache.forget_token(replaces)

    def validate(self, token: str, *, recent_auth: Optional[RecentAuthLike] = None) -> Dict[str, Any]:
        """The session of an opaque token or JWT access token (asks the service every time).

        With ``recent_auth`` (a ``RecentAuth`` or ``{"max_age": seconds, "methods": [...]}``) a
        live session whose last authentication does not meet it raises
        ``ReauthenticationRequired`` (``max_age``, ``methods``). The session carries
        ``authenticatedAt``, ``authMethods`` and ``fresh``.
        """
        token = secret(token)
        return self.validation(token, recent_auth=recent_auth)["session"]

    def validate_cached(self, token: str) -> Dict[str, Any]:
        """Like :meth:`validate`, answered from the short validation cache when it can be."""
        token = secret(token)
        return self.validation(token, cached=True)["session"]

    def validation(self, token: str, *, cached: bool = False,
                   recent_auth: Optional[RecentAuthLike] = None) -> Dict[str, Any]:
        """The whole validation answer ``{session, csrfToken}``; ``cached`` allows the cache.

        A ``recent_auth`` check always asks the service (freshness changes with every second
        and with the service's role rules) and its answer is not cached. An answer is cached
        only when no revocation went through this client while it was being asked for.
        """
        token = secret(token)
        self._check_token(token)
        body: Dict[str, Any] = {"token": token}
        if recent_auth is not None:
            body["recentAuth"] = recent_auth_body(recent_auth)
        elif cached:
            hit = self.cache.get(token)
            if hit is not None:
                return hit
        # Read before asking: a revocation while the question is out makes the answer unstorable.
        started, generation = self.cache.now(), self.cache.generation
        try:
            answer = self._call("POST", "/v1/sessions/validate", lambda a: check_validation(a, token), body=body, api_key=True)
        except TokenError:
            self.cache.discard(token)
            raise
        if recent_auth is None:
            self.cache.put(token, answer, generation=generation, started=started)
        return answer

    def reauthenticate(self, token: str, methods: List[str]) -> Dict[str, Any]:
        """Records that the app just re-checked the user of ``token`` (password, second factor):
        the session's ``authenticatedAt`` becomes now and ``authMethods`` ``methods``, and its
        token rotates (the old one works for the service's renew grace only).

        Returns ``{session, token, expiresAt, csrfToken}``, or for a JWT session (``token`` is
        its access token) ``{session, accessToken, refreshToken, accessTokenExpiresAt,
        expiresAt, csrfToken}``; the old refresh token is superseded as by a refresh.
        """
        token = secret(token)
        self._check_token(token)
        if isinstance(methods, str) or not isinstance(methods, (list, tuple)) or not methods:
            raise ValueError('methods must be a non-empty list such as ["password", "totp"]')
        result = self._call("POST", "/v1/sessions/current/reauthenticate", check_issued,
                            body={"token": token, "methods": list(methods)}, api_key=True)
        # Cached answers of this session carry the old authenticatedAt and the old token.
        self.cache.forget_token(token)
        self.cache.forget_session(result["session"]["id"])
        return result

    def revoke(self, session_id: str) -> bool:
        """Revokes one session by id; False when there was no live session with that id."""
        self.cache.forget_session(session_id)
        try:
            self._call("DELETE", f"/v1/sessions/{_segment(session_id)}", check_empty, api_key=True)
        except SessionkitError as err:
            if err.status == 404:
                return False
            raise
        finally:
            # Again once the service has it: a validation answered in between is dropped.
            self.cache.forget_session(session_id)
        return True

    def revoke_all(self, user_id: str, *, except_session: Optional[str] = None) -> int:
        """Revokes every session of a user (but ``except_session``); the number revoked."""
        self.cache.forget_user(user_id, except_session)
        query = f"?except={urllib.parse.quote(except_session, safe='')}" if except_session else ""
        try:
            return int(self._call("DELETE", f"/v1/users/{_segment(user_id)}/sessions{query}", check_revoked,
                                  api_key=True)["revoked"])
        finally:
            self.cache.forget_user(user_id, except_session)

    def list(self, user_id: str) -> List[Dict[str, Any]]:
        """A user's live sessions (devices)."""
        return self._call("GET", f"/v1/users/{_segment(user_id)}/sessions", check_sessions, api_key=True)["sessions"]

    def jwks(self) -> Dict[str, Any]:
        """The service's public signing keys."""
        return self._call("GET", "/.well-known/jwks.json", check_jwks)

    # -- calls on behalf of an end user (their token) ------------------------------------------

    def current(self, token: str) -> Dict[str, Any]:
        """The session of ``token`` as its owner sees it (slides the idle expiry)."""
        token = secret(token)
        return self._call("GET", "/v1/sessions/current", check_session_answer, bearer=token)["session"]

    def renew(self, token: str) -> Dict[str, Any]:
        """Rotates the token: ``{session, token, expiresAt, csrfToken}``; the old token dies after a short grace."""
        token = secret(token)
        try:
            return self._call("POST", "/v1/sessions/current/renew", check_issued, bearer=token)
        finally:
            self.cache.forget_token(token)

    def refresh(self, refresh_token: str) -> Dict[str, Any]:
        """Rotates a refresh token: a new access token and refresh token (a reused one raises RefreshReused)."""
        refresh_token = secret(refresh_token)
        self._check_token(refresh_token)
        return self._call("POST", "/v1/sessions/refresh", check_issued, body={"refreshToken": refresh_token})

    def logout(self, token: str) -> None:
        """Revokes the session of ``token``."""
        token = secret(token)
        hit = self.cache.get(token)
        self.cache.forget_token(token)
        try:
            self._call("DELETE", "/v1/sessions/current", check_empty, bearer=token)
        finally:
            self.cache.forget_token(token)
            if hit is not None:
                self.cache.forget_session(hit["session"]["id"])

    def list_mine(self, token: str) -> List[Dict[str, Any]]:
        """The sessions of the token's user on all devices (``current`` marks this one)."""
        token = secret(token)
        return self._call("GET", "/v1/sessions", check_sessions, bearer=token)["sessions"]

    def revoke_others(self, token: str) -> int:
        """Logs the token's user out of every other device; the number revoked."""
        token = secret(token)
        self.cache.clear()
        try:
            return int(self._call("DELETE", "/v1/sessions?others=true", check_revoked, bearer=token)["revoked"])
        finally:
            self.cache.clear()

    # -- transport -----------------------------------------------------------------------------

    @staticmethod
    def _check_token(token: Any) -> None:
        if not isinstance(token, str) or token == "":
            raise TokenMissing("no token given")

    def _call(self, method: str, path: str, check: Check, *, body: Optional[Dict[str, Any]] = None,
              api_key: bool = False, bearer: Optional[str] = None) -> Any:
        """One request; the checked answer, or the error it stands for. Tokens and the key stay
        ``Secret``s here and the encoded request lives only in ``_exchange``, so a traceback
        printed with its frames' locals shows none of them."""
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if api_key:
            if not self._api_key:
                raise SessionkitError("this call needs an API key (SessionkitClient(url, api_key=...))",
                                      code="api_key_missing")
            headers["X-API-Key"] = self._api_key
        if bearer is not None:
            self._check_token(bearer)
            if len(bearer) > _MAX_TOKEN or any(c in bearer for c in "\r\n"):
                raise error_from_response(401, {"error": "token_malformed", "message": "the session token is not well-formed"})
            headers["Authorization"] = Secret(f"Bearer {bearer}")
        url = self.base_url + path
        reply = self._exchange(method, url, body, headers)
        if reply.unreachable is not None:
            raise ServiceUnavailable(f"the session service at {self.base_url} could not be reached: {reply.unreachable}")
        if reply.url != url:
            # A custom opener followed a redirect: whatever answered is not the service.
            raise UnexpectedAnswer(f"the service answered HTTP {reply.status} from another URL (a redirect)",
                                   request_id=reply.request_id)
        parsed = _parse(reply.raw)
        if 200 <= reply.status <= 299:
            if parsed is _NOT_JSON:
                raise UnexpectedAnswer(f"the service answered HTTP {reply.status} with a body that is not JSON",
                                       request_id=reply.request_id)
            try:
                return check(parsed)
            except UnexpectedAnswer as err:
                err.request_id = reply.request_id
                raise
        raise error_from_response(reply.status, None if parsed is _NOT_JSON else parsed, reply.request_id, reply.retry_after)

    def _exchange(self, method: str, url: str, body: Optional[Dict[str, Any]], headers: Dict[str, str]) -> "_Reply":
        """Sends one request and reads the whole answer; never raises for what the network or the
        service does (the caller turns the reply into a result or an error outside any
        ``except``, so no exception chain keeps this frame and its encoded request alive)."""
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers = {**headers, "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Reply(response.status, response.read(), response.headers, response.geturl())
        except urllib.error.HTTPError as err:
            with err:
                raw = err.read()
            return _Reply(err.code, raw, err.headers, url)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as err:
            return _Reply(0, b"", None, url, unreachable=str(getattr(err, "reason", err)))


class _Reply:
    """What came back: status, body, headers, final URL, or why nothing came back."""

    __slots__ = ("status", "raw", "request_id", "retry_after", "url", "unreachable")

    def __init__(self, status: int, raw: bytes, headers: Any, url: str, unreachable: Optional[str] = None) -> None:
        self.status = status
        self.raw = raw
        self.request_id = headers.get("X-Request-Id") if headers else None
        self.retry_after = headers.get("Retry-After") if headers else None
        self.url = url
        self.unreachable = unreachable


_NOT_JSON = object()


def _parse(raw: bytes) -> Any:
    """The JSON of a body (None when empty; token fields as ``Secret``s), or ``_NOT_JSON``."""
    if not raw:
        return None
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except ValueError:
        return _NOT_JSON
    # At once, before any check can fail with the answer among its frame's locals.
    return redact_answer(parsed)


def _segment(value: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ValueError("an id must be a non-empty string")
    return urllib.parse.quote(value, safe="")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
