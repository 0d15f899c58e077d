"""Re-authentication (sudo mode) through SessionkitClient against the real service: validate with
recent_auth, ReauthenticationRequired with the service's max_age and methods, reauthenticate."""
from __future__ import annotations

import json
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime

import _support
from sessionkit import (
    InvalidRequest, ReauthenticationRequired, RecentAuth, SessionRevoked, TokenError, TokenInvalid,
)
from sessionkit.errors import error_from_response

# The suite's service runs with the default SESSIONKIT_REAUTH_MAX_AGE (10 minutes).
DEFAULT_MAX_AGE = 600


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def raw_validate(body: dict) -> tuple:
    """POST /v1/sessions/validate without the client: the service's own status and body."""
    request = urllib.request.Request(_support.URL + "/v1/sessions/validate", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "X-API-Key": _support.API_KEY})
    try:
        with urllib.request.urlopen(request, timeout=5) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


class ReauthTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = _support.client()
        self.user = _support.new_user()
        self.issued = self.client.create(self.user)
        self.token = self.issued["token"]

    def test_a_new_session_is_fresh_and_carries_its_authentication(self) -> None:
        session = self.client.validate(self.token)
        self.assertIs(session["fresh"], True)
        self.assertEqual(session["authMethods"], [])
        self.assertEqual(session["authenticatedAt"], self.issued["session"]["authenticatedAt"])
        self.assertIs(self.client.validate(self.token, recent_auth=RecentAuth(max_age=DEFAULT_MAX_AGE))["fresh"], True)
        self.assertIs(self.client.validate(self.token, recent_auth={"max_age": 60})["fresh"], True)
        self.assertIs(self.client.current(self.token)["fresh"], True)

    def test_a_missing_method_is_refused_with_the_services_requirement(self) -> None:
        with self.assertRaises(ReauthenticationRequired) as caught:
            self.client.validate(self.token, recent_auth=RecentAuth(methods=["totp"]))
        err = caught.exception
        self.assertEqual((err.status, err.code, err.max_age, err.methods), (403, "reauthentication_required", DEFAULT_MAX_AGE, ["totp"]))
        self.assertNotIn(self.token, str(err))
        # What the middlewares answer with is exactly what the service answered.
        status, body = raw_validate({"token": self.token, "recentAuth": {"methods": ["totp"]}})
        self.assertEqual((status, err.to_body()), (403, body))
        with self.assertRaises(ReauthenticationRequired) as caught:
            self.client.validate(self.token, recent_auth={"max_age": 120, "methods": ["totp"]})
        self.assertEqual((caught.exception.max_age, caught.exception.methods), (120, ["totp"]))
        # Refused for freshness only: the session itself is still live.
        self.assertEqual(self.client.validate(self.token)["id"], self.issued["session"]["id"])

    def test_an_old_authentication_is_refused_until_the_user_reauthenticates(self) -> None:
        # recentAuth.maxAge is whole seconds (at least 1) and sessions cannot be created with an
        # earlier authentication, so the session has to grow older than one second.
        time.sleep(1.1)
        with self.assertRaises(ReauthenticationRequired) as caught:
            self.client.validate(self.token, recent_auth=RecentAuth(max_age=1))
        self.assertEqual((caught.exception.max_age, caught.exception.methods), (1, []))
        renewed = self.client.reauthenticate(self.token, ["password"])
        self.assertGreater(parse_time(renewed["session"]["authenticatedAt"]), parse_time(self.issued["session"]["authenticatedAt"]))
        session = self.client.validate(renewed["token"], recent_auth=RecentAuth(max_age=DEFAULT_MAX_AGE, methods=["password"]))
        self.assertIs(session["fresh"], True)

    def test_reauthenticate_rotates_the_token_and_records_the_methods(self) -> None:
        renewed = self.client.reauthenticate(self.token, ["password", "totp"])
        self.assertNotEqual(renewed["token"], self.token)
        self.assertTrue(renewed["token"].startswith("sk_"))
        self.assertEqual(renewed["session"]["id"], self.issued["session"]["id"])
        self.assertEqual(renewed["session"]["authMethods"], ["password", "totp"])
        self.assertTrue(renewed["csrfToken"])
        self.assertTrue(renewed["expiresAt"])
        session = self.client.validate(renewed["token"], recent_auth=RecentAuth(methods=["totp"]))
        self.assertEqual((session["id"], session["fresh"]), (self.issued["session"]["id"], True))
        # The suite's service runs without a renew grace: the old token is dead at once.
        with self.assertRaises(TokenInvalid):
            self.client.validate(self.token)

    def test_reauthenticate_a_jwt_session_issues_a_new_pair(self) -> None:
        jwt = self.client.create(self.user, token_type="jwt")
        renewed = self.client.reauthenticate(jwt["accessToken"], ["webauthn"])
        self.assertEqual(renewed["session"]["id"], jwt["session"]["id"])
        self.assertNotEqual(renewed["accessToken"], jwt["accessToken"])
        self.assertNotEqual(renewed["refreshToken"], jwt["refreshToken"])
        self.assertNotIn("token", renewed)
        self.assertEqual(self.client.validate(renewed["accessToken"], recent_auth=RecentAuth(methods=["webauthn"]))["authMethods"], ["webauthn"])
        self.assertTrue(self.client.refresh(renewed["refreshToken"])["accessToken"])

    def test_reauthenticate_drops_the_cached_answers_of_the_session(self) -> None:
        self.client.validate_cached(self.token)
        self.assertIsNotNone(self.client.cache.get(self.token))
        renewed = self.client.reauthenticate(self.token, ["password"])
        self.assertIsNone(self.client.cache.get(self.token))
        # A freshness check is never answered from (nor written to) the cache.
        self.client.validate(renewed["token"], recent_auth=RecentAuth(methods=["password"]))
        self.assertIsNone(self.client.cache.get(renewed["token"]))

    def test_bad_input_and_dead_sessions_are_refused(self) -> None:
        for methods in ([], "password", None):
            with self.assertRaises(ValueError):
                self.client.reauthenticate(self.token, methods)  # type: ignore[arg-type]
        with self.assertRaises(InvalidRequest):
            self.client.reauthenticate(self.token, ["not a method!"])
        for bad in (0, 31_536_001, 1.5, True):
            with self.assertRaises(ValueError):
                RecentAuth(max_age=bad)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            self.client.validate(self.token, recent_auth={"maxAge": 60})
        self.client.revoke(self.issued["session"]["id"])
        with self.assertRaises(SessionRevoked):
            self.client.reauthenticate(self.token, ["password"])
        with self.assertRaises(TokenError):
            self.client.validate(self.token, recent_auth=RecentAuth(max_age=60))

    def test_the_error_reads_max_age_and_methods_from_the_body_only_when_well_formed(self) -> None:
        err = error_from_response(403, {"error": "reauthentication_required", "message": "m", "maxAge": 300, "methods": ["totp", 7]})
        self.assertIsInstance(err, ReauthenticationRequired)
        self.assertEqual((err.max_age, err.methods), (300, ["totp"]))
        bare = error_from_response(403, {"error": "reauthentication_required", "message": "m", "maxAge": "300"})
        self.assertEqual((bare.max_age, bare.methods), (None, []))
        self.assertEqual(bare.to_body(), {"error": "reauthentication_required", "message": "m", "methods": []})


if __name__ == "__main__":
    unittest.main()
