"""FastAPI / Starlette login and logout: create or end the session at the service and set or clear
its cookies exactly as the Node adapters do (``__Host-sessionkit`` HttpOnly, ``sessionkit-csrf``
readable; both ``Secure``, ``SameSite=Lax``, ``Path=/``, ``Max-Age`` to the session's absolute
expiry).

The client and the cookie settings come from the ``SessionkitASGIMiddleware`` around the app, so
login, logout and the middleware can never disagree on the cookie's name or flags. Both helpers
are coroutines: the service call runs in a worker thread, off the event loop. ``response`` is the
response you return, or the ``Response`` parameter FastAPI injects.

Example::

    app.add_middleware(SessionkitASGIMiddleware, client=client, exclude_paths=["/login"])

    @app.post("/login")
    async def do_login(request: Request):
        user = await users.check(await request.form())            # your check
        response = RedirectResponse("/", status_code=303)
        await login(request, response, user.id, roles=user.roles)
        return response

    @app.post("/logout")
    async def do_logout(request: Request, response: Response):
        await logout(request, response)
        return {"loggedOut": True}
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import _login

__all__ = ["login", "logout"]

_WHERE = "app.add_middleware(SessionkitASGIMiddleware, client=client)"


def _headers(request: Request) -> Dict[str, Optional[str]]:
    return {"cookie": request.headers.get("cookie"), "authorization": request.headers.get("authorization"),
            "user-agent": request.headers.get("user-agent")}


def _apply(response: Response, changes: _login.Changes) -> None:
    for name, value in changes.headers.items():
        response.headers[name] = value
    for cookie in changes.cookies:
        response.headers.append("set-cookie", cookie)


async def login(request: Request, response: Response, user_id: str, *, roles: Optional[Sequence[str]] = None,
                data: Optional[Dict[str, Any]] = None, label: Optional[str] = None) -> Dict[str, Any]:
    """Logs ``user_id`` in (after your own check of their credentials): a new session at the
    service, its cookies on ``response``, and ``request.state.sessionkit_session`` updated. The
    session the request carried, if any, is revoked (no fixation). Returns the service's answer
    ``{session, token, expiresAt, csrfToken}``; raises the service's errors (``SessionkitError``).
    """
    auth = _login.find_auth(request.scope, _WHERE)
    client_ip = request.client.host if request.client else None
    issued, changes = await run_in_threadpool(
        lambda: _login.login(auth, _headers(request), client_ip, user_id, roles=roles, data=data, label=label))
    _apply(response, changes)
    request.state.sessionkit_session = issued["session"]
    request.state.sessionkit_csrf_token = issued["csrfToken"]
    request.scope["sessionkit.cookies_set"] = True
    return issued


async def logout(request: Request, response: Response, *, clear_site_data: bool = False) -> bool:
    """Logs out: revokes the request's session at the service, expires both cookies on
    ``response``; ``clear_site_data=True`` also sends ``Clear-Site-Data: "cookies"`` (off by default, as in
    the Node adapters: it clears every cookie of the registrable domain, other applications' too).
    True when a live session was revoked."""
    auth = _login.find_auth(request.scope, _WHERE)
    session = request.scope.get("sessionkit.session")
    revoked, changes = await run_in_threadpool(lambda: _login.logout(auth, _headers(request), session, clear_site_data))
    _apply(response, changes)
    request.state.sessionkit_session = None
    request.state.sessionkit_csrf_token = None
    request.scope["sessionkit.cookies_set"] = True
    return revoked
