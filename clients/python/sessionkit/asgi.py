"""ASGI middleware: every HTTP request must carry a live sessionkit session (FastAPI, Starlette).

The same rules as the WSGI middleware (see ``sessionkit.wsgi``). The session is put in the scope
as ``scope["sessionkit.session"]`` and in ``scope["state"]["sessionkit_session"]``, so FastAPI and
Starlette handlers read ``request.state.sessionkit_session`` (and ``sessionkit_csrf_token``).
Validation through the service runs in a worker thread (the client is synchronous); a cache hit
answers without leaving the event loop. WebSocket handshakes are checked too (refused with close
code 1008); lifespan messages pass through untouched. ``recent_auth`` / ``recent_auth_paths``
(sudo mode) work as in the WSGI middleware; those requests always ask the service.

Example (FastAPI)::

    app = FastAPI()
    app.add_middleware(SessionkitASGIMiddleware, client=client, exclude_paths=["/login"])

    @app.get("/me")
    def me(request: Request):
        return request.state.sessionkit_session
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, MutableMapping, Optional, Sequence

from ._auth import Authenticator, Outcome, error_response, extract_token
from .client import SessionkitClient
from .errors import SessionkitError
from .freshness import RecentAuthLike
from .secret import secret

__all__ = ["SessionkitASGIMiddleware"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Dict[str, Any]]]
Send = Callable[[Dict[str, Any]], Awaitable[None]]
_WANTED = {b"cookie", b"authorization", b"x-csrf-token", b"sec-fetch-site"}


def _headers(scope: Scope) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in scope.get("headers") or []:
        key = bytes(name).lower()
        if key in _WANTED:
            text = bytes(value).decode("latin-1")
            # Several Cookie headers (HTTP/2) are one list; other repeated headers: the first wins.
            if key == b"cookie" and "cookie" in out:
                out["cookie"] += "; " + text
            else:
                out.setdefault(key.decode(), text)
    # Secrets: the cookie and Authorization carry the token, and this dict is a local of frames.
    return {name: secret(value) for name, value in out.items()}


class SessionkitASGIMiddleware:
    """Wraps an ASGI app; options as for ``SessionkitMiddleware`` (WSGI)."""

    def __init__(self, app: Callable[..., Awaitable[None]], client: SessionkitClient, *,
                 cookie_name: Optional[str] = None, insecure_cookies: bool = False, csrf: bool = True,
                 optional: bool = False, exclude_paths: Sequence[str] = (),
                 recent_auth: Optional[RecentAuthLike] = None, recent_auth_paths: Optional[Sequence[str]] = None) -> None:
        self.app = app
        self.auth = Authenticator(client, cookie_name=cookie_name, insecure_cookies=insecure_cookies, csrf=csrf,
                                  optional=optional, exclude_paths=exclude_paths, recent_auth=recent_auth,
                                  recent_auth_paths=recent_auth_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        path = scope.get("path", "") or "/"
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # A copy: the server's scope is its own. The settings serve sessionkit.fastapi's login() / logout().
        scope = dict(scope)
        scope["sessionkit.auth"] = self.auth
        if self.auth.excluded(path):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET") if kind == "http" else "GET"
        outcome = await self._authenticate(method, _headers(scope), path)
        if outcome.error is not None:
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            status, headers, body = error_response(outcome.error, outcome.set_cookies)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
            await send({"type": "http.response.body", "body": body})
            return
        answer = outcome.answer
        session = answer["session"] if answer else None
        csrf_token = answer.get("csrfToken") if answer else None
        scope["sessionkit.session"] = session
        scope["sessionkit.csrf_token"] = csrf_token
        scope["sessionkit.token_source"] = outcome.source
        # A copy: the server may share one state dict between requests (lifespan state).
        state = dict(scope.get("state") or {})
        state.update(sessionkit_session=session, sessionkit_csrf_token=csrf_token)
        scope["state"] = state
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in outcome.response_headers()]
        if kind != "http" or not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_changes(message: Dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers") or [])
                has_cache_control = any(bytes(name).lower() == b"cache-control" for name, _ in headers)
                # After login() or logout() their cookies alone speak for the session.
                replaced = scope.get("sessionkit.cookies_set") is True
                added = [(n, v) for n, v in extra
                         if not (n == b"cache-control" and has_cache_control) and not (n == b"set-cookie" and replaced)]
                # Before the app's own: a cookie that login() or logout() sets comes later, and wins.
                message = {**message, "headers": added + headers}
            await send(message)

        await self.app(scope, receive, send_with_changes)

    async def _authenticate(self, method: str, headers: Dict[str, str], path: str) -> Outcome:
        # The cache answers most requests: only a miss pays for a thread and a round trip.
        # Freshness checks never come from the cache.
        if self.auth.client.cache.enabled and not self.auth.needs_recent_auth(path):
            quick = self._from_cache(method, headers, path)
            if quick is not None:
                return quick
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.auth.authenticate_sync, method, headers, path)

    def _from_cache(self, method: str, headers: Dict[str, str], path: str) -> Optional[Outcome]:
        try:
            token, _ = extract_token(headers.get("cookie"), headers.get("authorization"), self.auth.cookie_name)
        except SessionkitError:
            return None
        if token is None or self.auth.client.cache.get(token) is None:
            return None
        # A hit: authenticate_sync answers from the cache too, without I/O.
        return self.auth.authenticate_sync(method, headers, path)
