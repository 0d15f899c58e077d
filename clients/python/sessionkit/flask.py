"""Flask login and logout: create or end the session at the service and set or clear its cookies
exactly as the Node adapters do (``__Host-sessionkit`` HttpOnly, ``sessionkit-csrf`` readable;
both ``Secure``, ``SameSite=Lax``, ``Path=/``, ``Max-Age`` to the session's absolute expiry).

The client and the cookie settings come from the ``SessionkitMiddleware`` around the app, so
login, logout and the middleware can never disagree on the cookie's name or flags. Put the login
route in ``exclude_paths`` and keep logout behind the middleware (a cookie-authenticated POST: it
needs the ``X-CSRF-Token`` header, so a cross-site form cannot log a user out).

Example::

    app.wsgi_app = SessionkitMiddleware(app.wsgi_app, client, exclude_paths=["/login"])

    @app.post("/login")
    def do_login():
        user = users.check(request.form["email"], request.form["password"])   # your check
        response = redirect("/", 303)
        login(response, user.id, roles=user.roles)
        return response

    @app.post("/logout")
    def do_logout():
        response = redirect("/login", 303)
        logout(response)
        return response
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from flask import request

from . import _login

__all__ = ["login", "logout"]


def _headers() -> Dict[str, Optional[str]]:
    return {"cookie": request.headers.get("Cookie"), "authorization": request.headers.get("Authorization"),
            "user-agent": request.headers.get("User-Agent")}


def _apply(response: Any, changes: _login.Changes) -> None:
    for name, value in changes.headers.items():
        response.headers[name] = value
    for cookie in changes.cookies:
        response.headers.add("Set-Cookie", cookie)


def login(response: Any, user_id: str, *, roles: Optional[Sequence[str]] = None, data: Optional[Dict[str, Any]] = None,
          label: Optional[str] = None) -> Dict[str, Any]:
    """Logs ``user_id`` in (after your own check of their credentials): a new session at the
    service, its cookies on ``response``, and the request's environ updated. The session the
    request carried, if any, is revoked (no fixation). Returns the service's answer
    ``{session, token, expiresAt, csrfToken}``; raises the service's errors (``SessionkitError``).
    """
    environ = request.environ
    auth = _login.find_auth(environ, "SessionkitMiddleware(app.wsgi_app, client)")
    issued, changes = _login.login(auth, _headers(), request.remote_addr, user_id, roles=roles, data=data, label=label)
    _apply(response, changes)
    environ["sessionkit.session"] = issued["session"]
    environ["sessionkit.csrf_token"] = issued["csrfToken"]
    environ["sessionkit.token_source"] = "cookie"
    environ["sessionkit.cookies_set"] = True
    return issued


def logout(response: Any, *, clear_site_data: bool = False) -> bool:
    """Logs out: revokes the request's session at the service, expires both cookies on
    ``response``; ``clear_site_data=True`` also sends ``Clear-Site-Data: "cookies"`` (off by default, as in
    the Node adapters: it clears every cookie of the registrable domain, other applications' too).
    True when a live session was revoked."""
    environ = request.environ
    auth = _login.find_auth(environ, "SessionkitMiddleware(app.wsgi_app, client)")
    revoked, changes = _login.logout(auth, _headers(), environ.get("sessionkit.session"), clear_site_data)
    _apply(response, changes)
    environ["sessionkit.session"] = None
    environ["sessionkit.csrf_token"] = None
    environ["sessionkit.cookies_set"] = True
    return revoked
