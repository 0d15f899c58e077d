"""The validation cache: short, bounded, revocation-aware (a fake clock, never a sleep)."""
from __future__ import annotations

import unittest

import _support
from sessionkit import SessionRevoked, ValidationCache


def answer(session_id: str, user: str = "u1", expires: str = "2999-01-01T00:00:00.000Z") -> dict:
    session = {"id": session_id, "userId": user, "idleExpiresAt": expires, "absoluteExpiresAt": expires}
    return {"session": session, "csrfToken": "c"}


class CacheUnitTest(unittest.TestCase):
    def test_an_entry_lives_ttl_seconds(self) -> None:
        clock = _support.FakeClock()
        cache = ValidationCache(ttl=2, clock=clock)
        cache.put("t1", answer("s1"))
        clock.now += 1.99
        self.assertEqual(cache.get("t1")["session"]["id"], "s1")
        clock.now += 0.01
        self.assertIsNone(cache.get("t1"))

    def test_an_entry_never_outlives_its_session(self) -> None:
        clock = _support.FakeClock()
        clock.now = 1_700_000_000.0
        cache = ValidationCache(ttl=30, clock=clock)
        cache.put("t1", answer("s1", expires="2023-11-14T22:13:25.000Z"))  # 5 s after the clock
        clock.now += 4.9
        self.assertIsNotNone(cache.get("t1"))
        clock.now += 0.1
        self.assertIsNone(cache.get("t1"))

    def test_it_holds_at_most_max_entries_and_evicts_the_least_recently_used(self) -> None:
        cache = ValidationCache(ttl=10, max_entries=2, clock=_support.FakeClock())
        cache.put("a", answer("sa"))
        cache.put("b", answer("sb"))
        cache.get("a")
        cache.put("c", answer("sc"))
        self.assertEqual((cache.get("a") is None, cache.get("b") is None, cache.get("c") is None), (False, True, False))
        self.assertEqual(len(cache), 2)

    def test_forgets_by_token_session_and_user(self) -> None:
        cache = ValidationCache(ttl=10, clock=_support.FakeClock())
        cache.put("a1", answer("sa", "alice"))
        cache.put("a2", answer("sa", "alice"))
        cache.put("a3", answer("sa2", "alice"))
        cache.put("b1", answer("sb", "bob"))
        cache.forget_session("sa")
        self.assertIsNone(cache.get("a1"))
        self.assertIsNone(cache.get("a2"))
        cache.forget_user("alice", except_session="sa2")
        self.assertIsNotNone(cache.get("a3"))
        cache.forget_user("alice")
        self.assertIsNone(cache.get("a3"))
        cache.forget_token("b1")
        self.assertEqual(len(cache), 0)

    def test_keys_are_digests_not_tokens(self) -> None:
        cache = ValidationCache(ttl=10)
        cache.put("sk_secret.token", answer("s"))
        self.assertNotIn("sk_secret.token", repr(list(cache._entries.keys())))

    def test_bounds_are_checked(self) -> None:
        for bad in ({"ttl": -1}, {"ttl": 60.5}, {"max_entries": -1}):
            with self.assertRaises(ValueError):
                ValidationCache(**bad)
        off = ValidationCache(ttl=0)
        off.put("t", answer("s"))
        self.assertIsNone(off.get("t"))


class CachedValidationTest(unittest.TestCase):
    """validate_cached against the real service: what a revocation elsewhere and here does."""

    def setUp(self) -> None:
        self.clock = _support.FakeClock()
        self.cached = _support.client(cache_ttl=5, clock=self.clock)
        self.elsewhere = _support.client(cache_ttl=0)
        self.user = _support.new_user()

    def test_a_revocation_elsewhere_is_seen_once_the_ttl_has_passed(self) -> None:
        issued = self.elsewhere.create(self.user)
        self.assertEqual(self.cached.validate_cached(issued["token"])["id"], issued["session"]["id"])
        self.elsewhere.revoke(issued["session"]["id"])
        # Within the ttl the cached answer stands (this is the documented staleness bound) ...
        self.assertEqual(self.cached.validate_cached(issued["token"])["id"], issued["session"]["id"])
        self.clock.now += 5
        # ... and after it the service is asked again.
        with self.assertRaises(SessionRevoked):
            self.cached.validate_cached(issued["token"])
        with self.assertRaises(SessionRevoked):
            self.cached.validate_cached(issued["token"])

    def test_a_revocation_through_the_same_client_is_seen_at_once(self) -> None:
        one = self.elsewhere.create(self.user)
        two = self.elsewhere.create(self.user)
        three = self.elsewhere.create(self.user)
        for issued in (one, two, three):
            self.cached.validate_cached(issued["token"])
        self.cached.revoke(one["session"]["id"])
        with self.assertRaises(SessionRevoked):
            self.cached.validate_cached(one["token"])
        self.cached.revoke_all(self.user, except_session=three["session"]["id"])
        with self.assertRaises(SessionRevoked):
            self.cached.validate_cached(two["token"])
        self.assertEqual(self.cached.validate_cached(three["token"])["id"], three["session"]["id"])
        self.cached.logout(three["token"])
        with self.assertRaises(SessionRevoked):
            self.cached.validate_cached(three["token"])

    def test_validate_always_asks_the_service(self) -> None:
        issued = self.elsewhere.create(self.user)
        self.cached.validate_cached(issued["token"])
        self.elsewhere.revoke(issued["session"]["id"])
        with self.assertRaises(SessionRevoked):
            self.cached.validate(issued["token"])


if __name__ == "__main__":
    unittest.main()
