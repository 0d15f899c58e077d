"""A validation in flight during a revocation never refills the cache (issue 22, finding 4).

A proxy in front of the real service holds the answer of the first validation: the service has
said "live", the revocation goes through the same client, then the held answer arrives. Before
the fix it was cached and the revoked token was accepted for the cache's ttl.
"""
from __future__ import annotations

import threading
import unittest
from typing import Any, Callable, Dict

import _support
from _fakes import HoldingProxy
from sessionkit import SessionkitClient, SessionRevoked, ValidationCache


def answer(session_id: str) -> Dict[str, Any]:
    later = "2999-01-01T00:00:00.000Z"
    return {"session": {"id": session_id, "userId": "u1", "idleExpiresAt": later, "absoluteExpiresAt": later}, "csrfToken": "c"}


class InFlightValidationTest(unittest.TestCase):
    def race(self, revoke: Callable[[SessionkitClient, Dict[str, Any]], Any]) -> None:
        with HoldingProxy(_support.URL, "/v1/sessions/validate") as proxy:
            client = SessionkitClient(proxy.url, _support.API_KEY, cache_ttl=30, clock=_support.FakeClock())
            issued = client.create(_support.new_user())
            seen: Dict[str, Any] = {}
            first = threading.Thread(target=lambda: seen.update(session=client.validate_cached(issued["token"])))
            first.start()
            self.assertTrue(proxy.arrived.wait(10), "the validation never reached the service")
            revoke(client, issued)
            proxy.release.set()
            first.join(10)
            # That answer was the truth when the service gave it ...
            self.assertEqual(seen["session"]["id"], issued["session"]["id"])
            # ... but it is not remembered: the next request asks the service, which says revoked.
            with self.assertRaises(SessionRevoked):
                client.validate_cached(issued["token"])

    def test_revoke_by_id_wins_over_a_validation_in_flight(self) -> None:
        self.race(lambda client, issued: self.assertTrue(client.revoke(issued["session"]["id"])))

    def test_revoke_all_wins_over_a_validation_in_flight(self) -> None:
        self.race(lambda client, issued: self.assertEqual(client.revoke_all(issued["session"]["userId"]), 1))

    def test_logout_wins_over_a_validation_in_flight(self) -> None:
        self.race(lambda client, issued: client.logout(issued["token"]))


class GenerationTest(unittest.TestCase):
    def test_an_answer_read_before_a_forget_is_not_stored(self) -> None:
        cache = ValidationCache(ttl=10, clock=_support.FakeClock())
        before = cache.generation
        cache.forget_session("s-other")
        cache.put("t1", answer("s1"), generation=before)
        self.assertIsNone(cache.get("t1"))
        cache.put("t1", answer("s1"), generation=cache.generation)
        self.assertIsNotNone(cache.get("t1"))

    def test_refused_tokens_do_not_start_a_generation(self) -> None:
        # Otherwise a stream of bad tokens would keep every good answer out of the cache.
        cache = ValidationCache(ttl=10, clock=_support.FakeClock())
        before = cache.generation
        cache.discard("garbage")
        cache.put("t1", answer("s1"), generation=before)
        self.assertIsNotNone(cache.get("t1"))

    def test_an_entry_lives_ttl_from_when_the_question_was_asked(self) -> None:
        clock = _support.FakeClock()
        cache = ValidationCache(ttl=1, clock=clock)
        started = clock.now
        clock.now += 0.75  # a slow answer
        cache.put("t1", answer("s1"), started=started)
        clock.now += 0.24
        self.assertIsNotNone(cache.get("t1"))
        clock.now += 0.01
        self.assertIsNone(cache.get("t1"))


if __name__ == "__main__":
    unittest.main()
