"""SessionkitClient against the real service: every call, every error class, timeouts."""
from __future__ import annotations

import unittest

import _support
from sessionkit import (
    RefreshReused, ServiceUnavailable, SessionExpired, SessionkitClient, SessionkitError,
    SessionRevoked, TokenError, TokenInvalid, TokenMalformed, TokenMissing,
)
from sessionkit.errors import ERRORS_BY_CODE, RateLimited, error_from_response


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = _support.client()
        self.user = _support.new_user()

    def test_creates_and_validates_a_session(self) -> None:
        issued = self.client.create(self.user, roles=["user", "admin"], data={"theme": "dark"},
                                    device={"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "ip": "203.0.113.9", "label": "laptop"})
        self.assertTrue(issued["token"].startswith("sk_"))
        session = self.client.validate(issued["token"])
        self.assertEqual(session["id"], issued["session"]["id"])
        self.assertEqual(session["userId"], self.user)
        self.assertEqual(session["roles"], ["user", "admin"])
        self.assertEqual(session["data"], {"theme": "dark"})
        self.assertEqual(session["device"]["ip"], "203.0.113.9")
        self.assertEqual(session["device"]["browser"], "Firefox")

    def test_a_login_that_replaces_a_token_revokes_its_session(self) -> None:
        first = self.client.create(self.user)
        second = self.client.create(self.user, replaces=first["token"])
        with self.assertRaises(SessionRevoked):
            self.client.validate(first["token"])
        self.assertEqual(self.client.validate(second["token"])["id"], second["session"]["id"])

    def test_renew_rotates_the_token_and_keeps_the_session(self) -> None:
        issued = self.client.create(self.user)
        renewed = self.client.renew(issued["token"])
        self.assertNotEqual(renewed["token"], issued["token"])
        self.assertEqual(renewed["session"]["id"], issued["session"]["id"])
        self.assertEqual(self.client.validate(renewed["token"])["id"], issued["session"]["id"])
        # The suite's service runs without a renew grace: the old token is dead at once.
        with self.assertRaises(TokenError):
            self.client.validate(issued["token"])

    def test_current_list_mine_and_revoke_others_act_for_the_token_owner(self) -> None:
        mine = self.client.create(self.user)
        other = self.client.create(self.user)
        self.assertEqual(self.client.current(mine["token"])["id"], mine["session"]["id"])
        listed = {s["id"]: s.get("current") for s in self.client.list_mine(mine["token"])}
        self.assertEqual(listed, {mine["session"]["id"]: True, other["session"]["id"]: False})
        self.assertEqual(self.client.revoke_others(mine["token"]), 1)
        with self.assertRaises(SessionRevoked):
            self.client.validate(other["token"])
        self.client.logout(mine["token"])
        with self.assertRaises(SessionRevoked):
            self.client.validate(mine["token"])

    def test_revokes_one_session_by_id_and_reports_unknown_ids(self) -> None:
        issued = self.client.create(self.user)
        self.assertTrue(self.client.revoke(issued["session"]["id"]))
        with self.assertRaises(SessionRevoked) as caught:
            self.client.validate(issued["token"])
        self.assertEqual((caught.exception.code, caught.exception.status), ("session_revoked", 401))
        self.assertFalse(self.client.revoke(issued["session"]["id"]))
        self.assertFalse(self.client.revoke("no-such-session"))

    def test_lists_and_revokes_all_sessions_of_a_user_but_one(self) -> None:
        keep = self.client.create(self.user)
        self.client.create(self.user)
        self.client.create(self.user)
        self.assertEqual(len(self.client.list(self.user)), 3)
        self.assertEqual(self.client.revoke_all(self.user, except_session=keep["session"]["id"]), 2)
        self.assertEqual([s["id"] for s in self.client.list(self.user)], [keep["session"]["id"]])
        self.assertEqual(self.client.revoke_all(self.user), 1)
        self.assertEqual(self.client.list(self.user), [])

    def test_user_ids_with_url_characters_reach_the_right_user(self) -> None:
        odd = self.user + "/a?b#c d%2F"
        self.client.create(odd)
        self.assertEqual([s["userId"] for s in self.client.list(odd)], [odd])
        self.assertEqual(self.client.revoke_all(odd), 1)

    def test_jwt_sessions_validate_and_refresh_and_a_reused_refresh_token_revokes(self) -> None:
        issued = self.client.create(self.user, token_type="jwt")
        self.assertEqual(issued["accessToken"].count("."), 2)
        self.assertEqual(self.client.validate(issued["accessToken"])["id"], issued["session"]["id"])
        refreshed = self.client.refresh(issued["refreshToken"])
        self.assertNotEqual(refreshed["refreshToken"], issued["refreshToken"])
        self.assertEqual(refreshed["session"]["id"], issued["session"]["id"])
        with self.assertRaises(RefreshReused) as caught:
            self.client.refresh(issued["refreshToken"])
        self.assertEqual(caught.exception.status, 401)
        with self.assertRaises(SessionRevoked):
            self.client.refresh(refreshed["refreshToken"])

    def test_bad_tokens_raise_their_codes(self) -> None:
        issued = self.client.create(self.user)
        with self.assertRaises(TokenMalformed):
            self.client.validate("not a token")
        forged = issued["token"].split(".")[0] + "." + "A" * 43
        with self.assertRaises(TokenInvalid):
            self.client.validate(forged)
        with self.assertRaises(TokenMissing):
            self.client.validate("")
        with self.assertRaises(TokenMalformed):
            self.client.renew("x" * 5000)

    def test_a_wrong_api_key_is_refused_and_a_missing_one_never_leaves_the_process(self) -> None:
        wrong = SessionkitClient(_support.URL, "ska_" + "A" * 22 + "." + "B" * 43)
        with self.assertRaises(TokenInvalid) as caught:
            wrong.create(self.user)
        self.assertEqual(caught.exception.status, 401)
        self.assertIsNotNone(caught.exception.request_id)
        with self.assertRaises(SessionkitError) as missing:
            SessionkitClient(_support.URL).create(self.user)
        self.assertEqual(missing.exception.code, "api_key_missing")
        self.assertNotIn(_support.API_KEY, repr(_support.client()))

    def test_an_unreachable_service_raises_service_unavailable(self) -> None:
        down = SessionkitClient(_support.closed_port_url(), "key", timeout=2)
        with self.assertRaises(ServiceUnavailable) as caught:
            down.validate("sk_a.b")
        self.assertEqual((caught.exception.code, caught.exception.status), ("service_unavailable", 503))

    def test_a_service_that_never_answers_times_out(self) -> None:
        silent = _support.SilentServer()
        try:
            with self.assertRaises(ServiceUnavailable):
                SessionkitClient(silent.url, "key", timeout=0.3).validate("sk_a.b")
        finally:
            silent.close()

    def test_errors_never_carry_the_token(self) -> None:
        issued = self.client.create(self.user)
        self.client.revoke(issued["session"]["id"])
        for call in (self.client.validate, self.client.renew, self.client.current):
            with self.assertRaises(SessionkitError) as caught:
                call(issued["token"])
            text = " ".join([str(caught.exception), repr(caught.exception), repr(caught.exception.args),
                             repr(vars(caught.exception))])
            self.assertNotIn(issued["token"], text)
            self.assertNotIn(issued["token"].split(".")[1], text)

    def test_options_are_checked_once_at_construction(self) -> None:
        with self.assertRaises(ValueError):
            SessionkitClient("ftp://example.com")
        with self.assertRaises(ValueError):
            SessionkitClient(_support.URL, timeout=0)
        with self.assertRaises(ValueError):
            SessionkitClient(_support.URL, cache_ttl=61)


class ErrorMappingTest(unittest.TestCase):
    def test_every_code_of_the_service_has_its_class(self) -> None:
        for code, cls in ERRORS_BY_CODE.items():
            err = error_from_response(cls.default_status or 503, {"error": code, "message": "m"}, "rid")
            self.assertIsInstance(err, cls)
            self.assertEqual((err.code, err.message, err.request_id), (code, "m", "rid"))
        self.assertIsInstance(error_from_response(401, {"error": "session_expired", "message": "idle"}), SessionExpired)

    def test_rate_limits_carry_retry_after(self) -> None:
        err = error_from_response(429, {"error": "rate_limited", "message": "slow down"}, None, "17")
        self.assertIsInstance(err, RateLimited)
        self.assertEqual(err.retry_after, 17)

    def test_unknown_codes_and_non_json_bodies_stay_typed(self) -> None:
        unknown = error_from_response(401, {"error": "brand_new_code", "message": "m"})
        self.assertIsInstance(unknown, TokenError)
        self.assertEqual(unknown.code, "brand_new_code")
        self.assertIsInstance(error_from_response(502, None), ServiceUnavailable)


if __name__ == "__main__":
    unittest.main()
