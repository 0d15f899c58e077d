"""The behaviour both login helpers must have (sessionkit.flask, sessionkit.fastapi), written once
against the example apps (clients/python/examples) and the real service; test_login_flask and
test_login_fastapi supply ``start(**options)``, a browser with a cookie jar on ``https://``."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import _support
from sessionkit import SessionRevoked

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

PASSWORD = "correct horse battery staple"
ABSOLUTE_TIMEOUT_S = 8 * 3600  # the suite's service runs with the default absolute timeout


class Reply:
    def __init__(self, status: int, headers: Dict[str, str], set_cookies: List[str], body: Any) -> None:
        self.status, self.headers, self.set_cookies, self.body = status, headers, set_cookies, body


class Browser:
    """``request(method, path, json=, form=, headers=)`` -> Reply; ``cookie(name)`` reads the jar."""

    request: Callable[..., Reply]
    cookie: Callable[[str], Optional[str]]
    drop_cookie: Callable[[str], None]


def parse_set_cookie(value: str) -> Tuple[str, str, Dict[str, Any]]:
    """``(name, value, attributes)`` with attribute names in lowercase; flags map to True."""
    pair, *attributes = [part.strip() for part in value.split(";")]
    name, _, cookie_value = pair.partition("=")
    parsed: Dict[str, Any] = {}
    for attribute in attributes:
        key, sep, attribute_value = attribute.partition("=")
        parsed[key.lower()] = attribute_value if sep else True
    return name, cookie_value, parsed


class LoginCases:
    start: Callable[..., Browser]

    def setUp(self) -> None:  # noqa: D401
        self.client = _support.client()

    def log_in(self, browser: Browser) -> Reply:
        reply = browser.request("POST", "/login", json={"username": "alice", "password": PASSWORD}, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
        self.assertEqual(reply.status, 200, reply.body)  # type: ignore[attr-defined]
        return reply

    def test_login_sets_the_session_and_csrf_cookies_as_the_node_adapters_do(self) -> None:
        reply = self.log_in(self.start())
        (name, token, flags), (csrf_name, csrf, csrf_flags) = [parse_set_cookie(c) for c in reply.set_cookies]
        self.assertEqual((name, csrf_name), ("__Host-sessionkit", "sessionkit-csrf"))
        self.assertEqual(flags.pop("max-age"), csrf_flags.pop("max-age"))
        self.assertEqual(flags, {"httponly": True, "secure": True, "samesite": "Lax", "path": "/"})
        self.assertEqual(csrf_flags, {"secure": True, "samesite": "Lax", "path": "/"})
        self.assertEqual(reply.headers["cache-control"], "no-store")
        answer = self.client.validation(token)
        self.assertEqual((answer["session"]["userId"], answer["session"]["roles"], answer["csrfToken"]), ("alice", ["user"], csrf))
        self.assertEqual(answer["session"]["device"]["browser"], "Firefox")

    def test_max_age_runs_to_the_absolute_expiry(self) -> None:
        reply = self.log_in(self.start())
        max_age = int(parse_set_cookie(reply.set_cookies[0])[2]["max-age"])
        # floor((absoluteExpiresAt - now) / 1 s): the full lifetime less the moments since creation.
        self.assertLessEqual(max_age, ABSOLUTE_TIMEOUT_S)
        self.assertGreater(max_age, ABSOLUTE_TIMEOUT_S - 60)

    def test_the_cookies_authenticate_and_logout_needs_the_csrf_cookie(self) -> None:
        browser = self.start()
        token = parse_set_cookie(self.log_in(browser).set_cookies[0])[1]
        me = browser.request("GET", "/me")
        self.assertEqual((me.status, me.body["userId"]), (200, "alice"))
        refused = browser.request("POST", "/logout")
        self.assertEqual((refused.status, refused.body["error"]), (403, "csrf_failed"))
        out = browser.request("POST", "/logout", headers={"X-CSRF-Token": browser.cookie("sessionkit-csrf")})
        self.assertEqual((out.status, out.body), (200, {"loggedOut": True}))
        with self.assertRaises(SessionRevoked):
            self.client.validate(token)
        # Off by default, as in the Node adapters: it would clear every cookie of the site.
        self.assertNotIn("clear-site-data", out.headers)
        self.assertEqual(out.headers["cache-control"], "no-store")
        cleared = [parse_set_cookie(c) for c in out.set_cookies]
        self.assertEqual([(n, v) for n, v, _ in cleared], [("__Host-sessionkit", ""), ("sessionkit-csrf", "")])
        for _, _, flags in cleared:
            self.assertEqual((flags["max-age"], flags["expires"], flags["path"], flags["secure"]),
                             ("0", "Thu, 01 Jan 1970 00:00:00 GMT", "/", True))
        self.assertEqual(browser.request("GET", "/me").status, 401)

    def test_a_login_revokes_the_session_the_browser_carried(self) -> None:
        browser = self.start()
        first = parse_set_cookie(self.log_in(browser).set_cookies[0])[1]
        second = parse_set_cookie(self.log_in(browser).set_cookies[0])[1]
        self.assertNotEqual(first, second)
        with self.assertRaises(SessionRevoked):
            self.client.validate(first)
        self.assertEqual(self.client.validate(second)["userId"], "alice")

    def test_a_wrong_password_sets_no_cookie(self) -> None:
        reply = self.start().request("POST", "/login", json={"username": "alice", "password": "guess"})
        self.assertEqual((reply.status, reply.body["error"], reply.set_cookies), (401, "invalid_credentials", []))

    def test_a_plain_form_login_redirects_with_the_cookies(self) -> None:
        browser = self.start()
        reply = browser.request("POST", "/login", form={"username": "alice", "password": PASSWORD})
        self.assertEqual((reply.status, reply.headers["location"].rsplit("/", 1)[-1]), (303, "me"))
        self.assertEqual([parse_set_cookie(c)[0] for c in reply.set_cookies], ["__Host-sessionkit", "sessionkit-csrf"])
        self.assertEqual(browser.request("GET", "/me").body["userId"], "alice")

    def test_insecure_cookies_drop_the_prefix_and_secure(self) -> None:
        with warnings.catch_warnings():
            # The warning is the point of the option (tested in test_wsgi); FastAPI builds the
            # middleware at the first request.
            warnings.simplefilter("ignore")
            reply = self.log_in(self.start(insecure_cookies=True))
        cookies = [parse_set_cookie(c) for c in reply.set_cookies]
        self.assertEqual([n for n, _, _ in cookies], ["sessionkit", "sessionkit-csrf"])
        self.assertFalse(any("secure" in flags for _, _, flags in cookies))

    def test_logout_without_the_csrf_cookie_still_ends_with_it_expired(self) -> None:
        # The middleware hands a cookie session without the CSRF cookie a new one, but not on a
        # response whose cookies logout() set: one Set-Cookie per name, the expired ones.
        browser = self.start()
        self.log_in(browser)
        csrf = browser.cookie("sessionkit-csrf")
        browser.drop_cookie("sessionkit-csrf")
        out = browser.request("POST", "/logout", headers={"X-CSRF-Token": csrf})
        self.assertEqual(out.status, 200)
        self.assertEqual([parse_set_cookie(c)[:2] for c in out.set_cookies], [("__Host-sessionkit", ""), ("sessionkit-csrf", "")])
        self.assertIsNone(browser.cookie("sessionkit-csrf"))
        self.assertIsNone(browser.cookie("__Host-sessionkit"))
