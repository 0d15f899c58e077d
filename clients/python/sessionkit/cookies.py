"""The session and CSRF cookies, exactly as the Node adapters set them (src/http/core.ts).

- the session cookie ``__Host-sessionkit`` (``sessionkit`` with ``insecure_cookies``): the token,
  ``HttpOnly``, ``Secure``, ``SameSite=Lax``, ``Path=/``, no ``Domain``, ``Max-Age`` the seconds
  left until the session's absolute expiry (capped by its absolute timeout);
- the readable ``sessionkit-csrf`` cookie: the session's CSRF token, same flags but not
  ``HttpOnly`` (the page's scripts copy it into ``X-CSRF-Token``);
- on logout both again, empty, with ``Max-Age=0`` and ``Expires`` at the epoch.

``insecure_cookies`` is for plain-HTTP development on localhost only: browsers refuse
``__Host-`` and ``Secure`` cookies over ``http://``, so it drops both (and warns once).
Serialised by the standard library's ``http.cookies.Morsel``.

Example::

    jar = CookieSettings()                                   # __Host-sessionkit, Secure
    headers = jar.login_cookies(issued["token"], issued["csrfToken"], issued["session"])
    headers = jar.clear_cookies()
"""
from __future__ import annotations

import math
import re
import time
import warnings
from datetime import datetime
from http.cookies import Morsel
from typing import Any, Callable, Dict, List, Optional

from .client import InsecureTransportWarning

__all__ = ["CookieSettings", "CSRF_COOKIE_NAME", "SECURE_COOKIE_NAME", "INSECURE_COOKIE_NAME"]

SECURE_COOKIE_NAME = "__Host-sessionkit"
INSECURE_COOKIE_NAME = "sessionkit"
CSRF_COOKIE_NAME = "sessionkit-csrf"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$")
# RFC 6265 cookie-octets: what a value may hold without quoting.
_VALUE = re.compile(r"^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$")
_warned = False


class CookieSettings:
    """The cookie name and flags of one app; checked once, when the middleware is built."""

    def __init__(self, cookie_name: Optional[str] = None, insecure_cookies: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        if cookie_name is not None:
            if not isinstance(cookie_name, str) or not _NAME.match(cookie_name):
                raise ValueError("cookie_name must be a cookie name token such as __Host-sessionkit")
            if insecure_cookies and re.match(r"^__(host|secure)-", cookie_name, re.IGNORECASE):
                raise ValueError("cookie_name: __Host- and __Secure- cookies need Secure; drop the prefix with insecure_cookies")
        self.insecure = bool(insecure_cookies)
        self.name = cookie_name if cookie_name is not None else (INSECURE_COOKIE_NAME if self.insecure else SECURE_COOKIE_NAME)
        self._clock = clock
        if self.insecure:
            _warn_insecure()

    def login_cookies(self, token: str, csrf_token: str, session: Dict[str, Any]) -> List[str]:
        """``Set-Cookie`` values handing a new session to a browser: the session cookie, then the CSRF cookie."""
        max_age = self.max_age(session)
        return [self._cookie(self.name, token, max_age, http_only=True),
                self._cookie(CSRF_COOKIE_NAME, csrf_token, max_age, http_only=False)]

    def clear_cookies(self) -> List[str]:
        """Expired session and CSRF cookies, for logout."""
        return [self._cookie(self.name, "", 0, http_only=True, expires=_EPOCH),
                self._cookie(CSRF_COOKIE_NAME, "", 0, http_only=False, expires=_EPOCH)]

    def max_age(self, session: Dict[str, Any]) -> int:
        """Whole seconds until the session's absolute expiry, capped by its absolute timeout (0 when past)."""
        expires = datetime.fromisoformat(str(session["absoluteExpiresAt"]).replace("Z", "+00:00")).timestamp()
        remaining = (expires - self._clock()) * 1000
        cap = session.get("absoluteTimeout")
        if isinstance(cap, (int, float)) and not isinstance(cap, bool) and cap > 0:
            remaining = min(remaining, cap)
        return max(0, math.floor(remaining / 1000)) if math.isfinite(remaining) else 0

    def _cookie(self, name: str, value: str, max_age: int, *, http_only: bool, expires: Optional[str] = None) -> str:
        if not _VALUE.match(value):
            raise ValueError(f"the value of the {name} cookie holds characters a cookie cannot carry")
        morsel: Morsel = Morsel()
        # value == coded value: checked above to need no quoting (an empty one stays empty, not "").
        morsel.set(name, str(value), str(value))
        morsel["max-age"] = max_age
        morsel["path"] = "/"
        if expires is not None:
            morsel["expires"] = expires
        morsel["httponly"] = http_only
        morsel["secure"] = not self.insecure
        morsel["samesite"] = "Lax"
        return morsel.OutputString()


def _warn_insecure() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(InsecureTransportWarning(
        "sessionkit: insecure_cookies is on: session cookies are sent without Secure and without the __Host- prefix. "
        "Use this only for plain-HTTP development on localhost."), stacklevel=5)
