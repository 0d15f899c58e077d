"""What the Flask and FastAPI login helpers share: the service calls and the response changes.

Login creates the session at the service (``POST /v1/sessions`` with the API key, the request's
user agent and IP as the device, and the token the request carried as ``replaces``, so a session
planted before login is revoked, never adopted) and hands it to the browser in the session and
CSRF cookies. Logout revokes the request's session at the service and expires both cookies (and,
only when asked, sends ``Clear-Site-Data: "cookies"``, which wipes every cookie of the site, other
applications' too). Both answers are ``Cache-Control: no-store``. The same as the Node
adapters' ``login`` / ``logout`` (src/http/layer.ts).
"""
from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._auth import Authenticator, extract_token
from .errors import SessionkitError, TokenError

__all__ = ["Changes", "find_auth", "login", "logout"]

NO_STORE = "no-store"


class Changes:
    """What the response needs: headers to set and ``Set-Cookie`` values to add, in order."""

    __slots__ = ("headers", "cookies")

    def __init__(self, headers: Dict[str, str], cookies: List[str]) -> None:
        self.headers = headers
        self.cookies = cookies


def find_auth(carrier: Mapping[str, Any], where: str) -> Authenticator:
    """The middleware's settings from a WSGI environ or an ASGI scope, or a clear error."""
    auth = carrier.get("sessionkit.auth")
    if not isinstance(auth, Authenticator):
        raise RuntimeError(f"sessionkit: {where} must run before login() and logout() (they use its client and cookie settings)")
    return auth


def _presented(auth: Authenticator, headers: Mapping[str, Optional[str]]) -> Optional[str]:
    """The token the request carries, if it can be read (a bad one is simply not replaced)."""
    try:
        token, _ = extract_token(headers.get("cookie"), headers.get("authorization"), auth.cookie_name)
    except SessionkitError:
        return None
    return token


def _ip(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return None


def login(auth: Authenticator, headers: Mapping[str, Optional[str]], remote_ip: Optional[str], user_id: str, *,
          roles: Optional[Sequence[str]], data: Optional[Dict[str, Any]], label: Optional[str]) -> Tuple[Dict[str, Any], Changes]:
    """Creates the session and returns ``(issued, changes)``; raises the service's errors."""
    device = {"userAgent": headers.get("user-agent"), "ip": _ip(remote_ip), "label": label}
    issued = auth.client.create(user_id, roles=list(roles) if roles is not None else None, data=data, device=device,
                                replaces=_presented(auth, headers))
    cookies = auth.cookies.login_cookies(issued["token"], issued["csrfToken"], issued["session"])
    return issued, Changes({"Cache-Control": NO_STORE}, cookies)


def logout(auth: Authenticator, headers: Mapping[str, Optional[str]], session: Optional[Dict[str, Any]],
           clear_site_data: bool = False) -> Tuple[bool, Changes]:
    """Revokes the request's session (``session``, the one the middleware checked, or else the
    one its token names) and returns the expired cookies; False when there was none or it was
    already dead. A service that cannot be reached raises: the session would live on."""
    if session is None:
        token = _presented(auth, headers)
        if token is not None:
            # validate + revoke by id with the API key, not DELETE /v1/sessions/current with the
            # token: bad tokens sent there count against the backend's IP in the attempt limit.
            try:
                session = auth.client.validate(token)
            except TokenError:
                session = None
    revoked = auth.client.revoke(session["id"]) if session is not None else False
    response_headers = {"Cache-Control": NO_STORE}
    # Clear-Site-Data wipes every cookie of the origin: left out when a new session follows at once.
    if clear_site_data:
        response_headers["Clear-Site-Data"] = '"cookies"'
    return revoked, Changes(response_headers, auth.cookies.clear_cookies())
