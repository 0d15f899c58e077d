"""The behaviour both middlewares must have, written once; test_wsgi / test_asgi / test_flask
supply ``serve(options)`` (a context manager yielding ``request(method, path, headers)``)."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Tuple

import _support
from sessionkit import ReauthenticationRequired, RecentAuth, SessionkitClient

COOKIE = "app-session"
Response = Tuple[int, Dict[str, str], Any]


def echo_body(session: Any, csrf_token: Any, source: Any, checked: bool) -> bytes:
    """What the protected test apps answer: who the middleware says is calling."""
    return json.dumps({"userId": session["userId"] if session else None, "sessionId": session["id"] if session else None,
                       "csrf": csrf_token, "source": source, "checked": checked}).encode()


def header_dict(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """Response headers by lowercase name; several Set-Cookie headers joined by newlines."""
    out: Dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}\n{value}" if key == "set-cookie" and key in out else value
    return out


def set_cookies(headers: Dict[str, str]) -> List[Tuple[str, str, str]]:
    """``(name, value, attributes)`` of each Set-Cookie header."""
    cookies = []
    for line in filter(None, headers.get("set-cookie", "").split("\n")):
        pair, _, attributes = line.partition(";")
        name, _, value = pair.partition("=")
        cookies.append((name, value, attributes.strip()))
    return cookies


class MiddlewareCases:
    """Mixed into a unittest.TestCase that defines ``serve(client, **options)``."""

    serve: Callable[..., Any]

    def setUp(self) -> None:  # noqa: D401
        self.client = _support.client()
        self.user = _support.new_user()
        self.issued = self.client.create(self.user, roles=["user"])
        self.token = self.issued["token"]

    def call(self, method: str, path: str = "/me", headers: Dict[str, str] = None, client: SessionkitClient = None, **options: Any) -> Response:
        options.setdefault("cookie_name", COOKIE)
        with self.serve(client or self.client, **options) as request:
            return request(method, path, headers or {})

    def test_a_request_without_a_token_gets_the_services_401(self) -> None:
        status, headers, body = self.call("GET")
        self.assertEqual(status, 401)
        self.assertEqual(body["error"], "token_missing")
        self.assertEqual(set(body), {"error", "message"})
        self.assertEqual(headers["www-authenticate"], 'Bearer error="invalid_token"')
        self.assertEqual(headers["cache-control"], "no-store")

    def test_a_bearer_token_reaches_the_app_with_its_session(self) -> None:
        status, _, body = self.call("GET", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(status, 200, body)
        self.assertEqual((body["userId"], body["sessionId"], body["source"]), (self.user, self.issued["session"]["id"], "bearer"))
        self.assertEqual(body["csrf"], self.issued["csrfToken"])

    def test_a_jwt_access_token_is_accepted_as_bearer(self) -> None:
        jwt = self.client.create(self.user, token_type="jwt")
        status, _, body = self.call("GET", headers={"Authorization": f"Bearer {jwt['accessToken']}"})
        self.assertEqual((status, body["sessionId"]), (200, jwt["session"]["id"]))

    def test_the_session_cookie_authenticates_reads(self) -> None:
        status, _, body = self.call("GET", headers={"Cookie": f"other=1; {COOKIE}={self.token}"})
        self.assertEqual((status, body["userId"], body["source"]), (200, self.user, "cookie"))

    def test_cookie_authenticated_writes_need_the_csrf_token(self) -> None:
        cookie = {"Cookie": f"{COOKIE}={self.token}"}
        status, _, body = self.call("POST", headers=cookie)
        self.assertEqual((status, body["error"]), (403, "csrf_failed"))
        status, _, body = self.call("POST", headers={**cookie, "X-CSRF-Token": "wrong"})
        self.assertEqual((status, body["error"]), (403, "csrf_failed"))
        status, _, body = self.call("POST", headers={**cookie, "X-CSRF-Token": self.issued["csrfToken"], "Sec-Fetch-Site": "cross-site"})
        self.assertEqual((status, body["error"]), (403, "csrf_failed"))
        status, _, body = self.call("POST", headers={**cookie, "X-CSRF-Token": self.issued["csrfToken"], "Sec-Fetch-Site": "same-origin"})
        self.assertEqual((status, body["userId"]), (200, self.user))
        status, _, body = self.call("POST", headers=cookie, csrf=False)
        self.assertEqual(status, 200)

    def test_bearer_writes_need_no_csrf_token(self) -> None:
        status, _, _ = self.call("DELETE", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(status, 200)

    def test_a_revoked_session_gets_the_services_error_body(self) -> None:
        self.client.revoke(self.issued["session"]["id"])
        status, headers, body = self.call("GET", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(status, 401)
        self.assertEqual(body, {"error": "session_revoked", "message": "the session was revoked"})
        self.assertIn("invalid_token", headers["www-authenticate"])

    def test_a_malformed_token_and_a_token_sent_twice_are_refused(self) -> None:
        status, _, body = self.call("GET", headers={"Authorization": "Bearer garbage"})
        self.assertEqual((status, body["error"]), (401, "token_malformed"))
        status, _, body = self.call("GET", headers={"Authorization": "Bearer "})
        self.assertEqual((status, body["error"]), (401, "token_malformed"))
        status, _, body = self.call("GET", headers={"Authorization": f"Bearer {self.token}", "Cookie": f"{COOKIE}={self.token}"})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))

    def test_excluded_paths_skip_the_check(self) -> None:
        status, _, body = self.call("GET", "/login/form", exclude_paths=["/login"])
        self.assertEqual((status, body["checked"]), (200, False))
        status, _, _ = self.call("GET", "/loginx", exclude_paths=["/login"])
        self.assertEqual(status, 401)

    def test_optional_mode_lets_anonymous_and_dead_sessions_through_without_a_session(self) -> None:
        status, _, body = self.call("GET", optional=True)
        self.assertEqual((status, body["userId"], body["checked"]), (200, None, True))
        self.client.revoke(self.issued["session"]["id"])
        status, _, body = self.call("GET", headers={"Authorization": f"Bearer {self.token}"}, optional=True)
        self.assertEqual((status, body["userId"]), (200, None))

    def test_an_unreachable_service_fails_closed_with_503(self) -> None:
        down = SessionkitClient(_support.closed_port_url(), _support.API_KEY, timeout=2)
        status, _, body = self.call("GET", headers={"Authorization": f"Bearer {self.token}"}, client=down)
        self.assertEqual((status, body["error"]), (503, "service_unavailable"))
        self.assertNotIn(self.token, json.dumps(body))

    def test_sudo_paths_refuse_a_stale_session_with_the_services_403(self) -> None:
        bearer = {"Authorization": f"Bearer {self.token}"}
        sudo = {"recent_auth": RecentAuth(methods=["totp"]), "recent_auth_paths": ["/settings/security"]}
        try:
            self.client.validate(self.token, recent_auth=RecentAuth(methods=["totp"]))
            self.fail("the service should refuse a session without totp")
        except ReauthenticationRequired as err:
            expected = err.to_body()
        status, headers, body = self.call("GET", "/settings/security/password", headers=bearer, **sudo)
        self.assertEqual((status, body), (403, expected))
        self.assertEqual((body["maxAge"], body["methods"]), (600, ["totp"]))
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertNotIn("www-authenticate", headers)
        # Other paths need no fresh authentication; optional mode does not waive it.
        status, _, body = self.call("GET", "/me", headers=bearer, **sudo)
        self.assertEqual((status, body["userId"]), (200, self.user))
        status, _, body = self.call("GET", "/settings/security", headers=bearer, optional=True, **sudo)
        self.assertEqual((status, body["error"]), (403, "reauthentication_required"))
        # After the app re-checks the user with totp, the rotated token passes the sudo path.
        renewed = self.client.reauthenticate(self.token, ["password", "totp"])
        status, _, body = self.call("GET", "/settings/security", headers={"Authorization": f"Bearer {renewed['token']}"}, **sudo)
        self.assertEqual((status, body["sessionId"]), (200, self.issued["session"]["id"]))

    def test_recent_auth_without_paths_guards_every_checked_request(self) -> None:
        bearer = {"Authorization": f"Bearer {self.token}"}
        status, _, body = self.call("GET", "/anything", headers=bearer, recent_auth={"methods": ["webauthn"]})
        self.assertEqual((status, body["methods"]), (403, ["webauthn"]))
        status, _, body = self.call("GET", "/anything", headers=bearer, recent_auth=RecentAuth(max_age=600))
        self.assertEqual((status, body["userId"]), (200, self.user))

    def test_a_dead_cookie_session_gets_both_cookies_expired_as_the_node_adapters_do(self) -> None:
        self.client.revoke(self.issued["session"]["id"])
        for optional in (False, True):
            with self.subTest(optional=optional):
                status, headers, _ = self.call("GET", headers={"Cookie": f"{COOKIE}={self.token}"}, optional=optional)
                self.assertEqual(status, 200 if optional else 401)
                cleared = set_cookies(headers)
                self.assertEqual([(n, v) for n, v, _ in cleared], [(COOKIE, ""), ("sessionkit-csrf", "")])
                self.assertTrue(all("Max-Age=0" in attributes for _, _, attributes in cleared))
                self.assertEqual(headers["cache-control"], "no-store")
        # A dead Bearer token leaves the cookies alone; no token at all changes nothing.
        self.assertNotIn("set-cookie", self.call("GET", headers={"Authorization": f"Bearer {self.token}"})[1])
        self.assertNotIn("set-cookie", self.call("GET", optional=True)[1])

    def test_a_cookie_session_without_the_csrf_cookie_gets_it_again(self) -> None:
        status, headers, _ = self.call("GET", headers={"Cookie": f"{COOKIE}={self.token}"})
        self.assertEqual((status, headers["cache-control"]), (200, "no-store"))
        [(name, value, attributes)] = set_cookies(headers)
        self.assertEqual((name, value), ("sessionkit-csrf", self.issued["csrfToken"]))
        self.assertIn("SameSite=Lax", attributes)
        self.assertNotIn("HttpOnly", attributes)
        status, headers, _ = self.call("GET", headers={"Cookie": f"{COOKIE}={self.token}; sessionkit-csrf={self.issued['csrfToken']}"})
        self.assertEqual((status, headers.get("set-cookie"), headers["cache-control"]), (200, None, "no-store"))
        status, headers, _ = self.call("GET", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual((status, headers.get("set-cookie"), headers["cache-control"]), (200, None, "no-store"))
