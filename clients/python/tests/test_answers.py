"""Every answer of the service is checked before it is believed (issue 22, findings 3 and 8).

A fake service over real HTTP gives the answers the real one never gives: a 2xx without a
session, a session without its fields, a 3xx carrying JSON. The client raises
``UnexpectedAnswer`` (a ``ServiceUnavailable``: 503 ``service_unavailable``), the middlewares
answer 503 (also with ``optional=True``: no request reaches the app without a checked session),
and nothing of it is cached.
"""
from __future__ import annotations

import json
import unittest
import urllib.request
from typing import Any, Dict

import _support  # noqa: F401  (puts the package on sys.path)
from _fakes import FakeService, json_answer
from sessionkit import SessionkitClient, UnexpectedAnswer
from test_asgi import serve as serve_asgi
from test_wsgi import serve as serve_wsgi

SESSION_ID = "A" * 43
TOKEN = f"sk_{SESSION_ID}.{'B' * 43}"
LATER = "2999-01-01T00:00:00.000Z"


def session(**changes: Any) -> Dict[str, Any]:
    base = {"id": SESSION_ID, "userId": "u1", "roles": ["user"], "createdAt": "2020-01-01T00:00:00.000Z",
            "lastSeenAt": "2020-01-01T00:00:00.000Z", "idleExpiresAt": LATER, "absoluteExpiresAt": LATER,
            "device": None, "data": {}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


GOOD = json_answer(200, body({"session": session(), "csrfToken": "csrf"}))

# What the review found, and its neighbours: each must fail closed.
BAD = {
    "200 with an empty body": json_answer(200, None),
    "200 null": json_answer(200, b"null"),
    "200 {}": json_answer(200, b"{}"),
    "200 false": json_answer(200, b"false"),
    "200 0": json_answer(200, b"0"),
    "200 []": json_answer(200, b"[]"),
    '200 {"session": null}': json_answer(200, body({"session": None, "csrfToken": "csrf"})),
    '200 {"session": {}}': json_answer(200, body({"session": {}, "csrfToken": "csrf"})),
    "204": json_answer(204, None),
    "200 that is not JSON": json_answer(200, b"<html>ok</html>"),
    "200 without the csrfToken": json_answer(200, body({"session": session()})),
    "200 with a session without userId": json_answer(200, body({"session": session(userId=...), "csrfToken": "c"})),
    "200 with a session whose userId is not a string": json_answer(200, body({"session": session(userId=7), "csrfToken": "c"})),
    "200 with a session without expiry": json_answer(200, body({"session": session(idleExpiresAt=...), "csrfToken": "c"})),
    "200 with an unreadable expiry": json_answer(200, body({"session": session(absoluteExpiresAt="soon"), "csrfToken": "c"})),
    "200 with roles that are not a list": json_answer(200, body({"session": session(roles="admin"), "csrfToken": "c"})),
    "200 with another session than the token's": json_answer(200, body({"session": session(id="C" * 43), "csrfToken": "c"})),
    "302 with a session as JSON": json_answer(302, body({"session": session(), "csrfToken": "c"}), Location="http://127.0.0.1:9/"),
    "302 with an error body": json_answer(302, body({"error": "session_revoked", "message": "m"}), Location="/"),
    "304 with a session as JSON": json_answer(304, None),
    "401 without an error body": json_answer(401, b"{}"),
}


class ClientAnswersTest(unittest.TestCase):
    def test_a_well_formed_answer_is_believed(self) -> None:
        with FakeService(GOOD) as fake:
            self.assertEqual(SessionkitClient(fake.url, "key").validate(TOKEN)["userId"], "u1")

    def test_every_unexpected_validation_answer_raises_unexpected_answer_with_and_without_the_cache(self) -> None:
        for ttl in (0, 1):
            with FakeService(GOOD) as fake:
                client = SessionkitClient(fake.url, "key", cache_ttl=ttl)
                for name, answer in BAD.items():
                    fake.answer = answer
                    with self.subTest(answer=name, cache_ttl=ttl):
                        with self.assertRaises(UnexpectedAnswer) as caught:
                            client.validate_cached(TOKEN)
                        self.assertEqual((caught.exception.code, caught.exception.status), ("service_unavailable", 503))
                        self.assertEqual(len(client.cache), 0)

    def test_other_calls_check_their_answers_too(self) -> None:
        calls = {
            "create": lambda c: c.create("u1"),
            "renew": lambda c: c.renew(TOKEN),
            "current": lambda c: c.current(TOKEN),
            "list": lambda c: c.list("u1"),
            "revoke_all": lambda c: c.revoke_all("u1"),
            "refresh": lambda c: c.refresh("skr_x.y"),
            "reauthenticate": lambda c: c.reauthenticate(TOKEN, ["pwd"]),
        }
        with FakeService(GOOD) as fake:
            for answer in (json_answer(200, b"{}"), json_answer(200, None), json_answer(200, body({"session": {}}))):
                fake.answer = answer
                for name, call in calls.items():
                    with self.subTest(call=name, answer=answer[2]), self.assertRaises(UnexpectedAnswer):
                        call(SessionkitClient(fake.url, "key"))

    def test_a_redirect_is_an_error_and_is_never_followed(self) -> None:
        with FakeService(GOOD) as target, FakeService(json_answer(307, b"{}", Location=target.url + "/v1/sessions/validate")) as fake:
            with self.assertRaises(UnexpectedAnswer) as caught:
                SessionkitClient(fake.url, "key").validate(TOKEN)
            self.assertIn("HTTP 307", str(caught.exception))
            self.assertEqual(target.seen, [])


    def test_an_answer_reached_through_a_redirect_a_custom_opener_followed_is_refused(self) -> None:
        with FakeService(GOOD) as target, FakeService(json_answer(303, b"{}", Location=target.url + "/v1/sessions/validate")) as fake:
            following = SessionkitClient(fake.url, "key", opener=urllib.request.build_opener(urllib.request.ProxyHandler({})))
            with self.assertRaises(UnexpectedAnswer) as caught:
                following.validate(TOKEN)
            self.assertIn("another URL", str(caught.exception))
            self.assertEqual(target.seen, [("GET", "/v1/sessions/validate")])  # followed: the opener's choice, refused here


class MiddlewareAnswersTest(unittest.TestCase):
    """No request reaches the app on an answer the client cannot trust: 503, never 200 or 500."""

    def test_the_middlewares_fail_closed_with_503_on_every_unexpected_answer(self) -> None:
        for ttl in (0, 1):
            for optional in (False, True):
                for kind, serve in (("wsgi", serve_wsgi), ("asgi", serve_asgi)):
                    with FakeService(GOOD) as fake, serve(SessionkitClient(fake.url, "key", cache_ttl=ttl), optional=optional) as request:
                        for name, answer in BAD.items():
                            fake.answer = answer  # never cached: each request asks the fake again
                            with self.subTest(answer=name, cache_ttl=ttl, optional=optional, middleware=kind):
                                status, headers, sent = request("GET", "/me", {"Authorization": f"Bearer {TOKEN}"})
                                self.assertEqual((status, sent["error"]), (503, "service_unavailable"), sent)
                                self.assertEqual(headers["cache-control"], "no-store")

    def test_a_well_formed_answer_reaches_the_app(self) -> None:
        with FakeService(GOOD) as fake, serve_wsgi(SessionkitClient(fake.url, "key")) as request:
            status, _, sent = request("GET", "/me", {"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual((status, sent["userId"]), (200, "u1"))


if __name__ == "__main__":
    unittest.main()
