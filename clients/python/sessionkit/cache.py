"""A short, bounded, revocation-aware cache of successful validations.

The middlewares validate every request's token through the service; this cache lets a burst of
requests with one token cost one round trip. It is deliberately small in every direction:

- **short**: an entry lives ``ttl`` seconds at most (default 1 s, at most 60 s), and never past
  the session's own idle or absolute expiry, so a revocation made elsewhere (another backend,
  the service's CLI, a logout on another device) is seen within ``ttl``;
- **bounded**: at most ``max_entries`` entries, least recently used evicted first;
- **revocation-aware**: the client drops every entry of a session or user it revokes, so a
  revocation made through this client is seen at once;
- keys are SHA-256 digests of the tokens, so the process never keeps a token it does not need.

Failures are never cached: a token the service refused is asked about again next time.

Example::

    cache = ValidationCache(ttl=1.0, max_entries=10_000)
    cache.put(token, {"session": session, "csrfToken": csrf})
    cache.get(token)            # that answer, for at most ttl seconds
    cache.forget_session(session["id"])
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, Dict, Optional, Tuple

MAX_TTL = 60.0


def _deadline(session: Dict[str, Any]) -> Optional[float]:
    """The session's earliest expiry as a Unix time, or None if it cannot be read."""
    times = []
    for field in ("idleExpiresAt", "absoluteExpiresAt"):
        value = session.get(field)
        if isinstance(value, str):
            try:
                times.append(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
            except ValueError:
                return None
    return min(times) if times else None


class ValidationCache:
    """LRU of ``sha256(token) -> validation answer`` with a per-entry deadline; thread-safe.

    An answer is the service's ``{"session": {...}, "csrfToken": "..."}``.
    """

    def __init__(self, ttl: float = 1.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        if not 0 <= ttl <= MAX_TTL:
            raise ValueError(f"cache ttl must be between 0 and {MAX_TTL:g} seconds")
        if max_entries < 0:
            raise ValueError("cache max_entries must be >= 0")
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: "OrderedDict[bytes, Tuple[float, Dict[str, Any]]]" = OrderedDict()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> Optional[Dict[str, Any]]:
        """The cached answer for ``token``, or None when absent or past its deadline."""
        if not self.enabled:
            return None
        key = self._key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, token: str, answer: Dict[str, Any]) -> None:
        """Remembers a successful validation for ``ttl`` (less if the session expires sooner)."""
        if not self.enabled:
            return
        deadline = self._clock() + self.ttl
        expiry = _deadline(answer["session"])
        if expiry is not None:
            deadline = min(deadline, expiry)
        key = self._key(token)
        with self._lock:
            self._entries[key] = (deadline, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_token(self, token: str) -> None:
        with self._lock:
            self._entries.pop(self._key(token), None)

    def forget_session(self, session_id: str) -> None:
        """Drops every token of one session (revocations are rare: a scan is fine here)."""
        self._forget(lambda s: s.get("id") == session_id)

    def forget_user(self, user_id: str, except_session: Optional[str] = None) -> None:
        """Drops every session of one user but ``except_session``."""
        self._forget(lambda s: s.get("userId") == user_id and s.get("id") != except_session)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _forget(self, match: Callable[[Dict[str, Any]], bool]) -> None:
        with self._lock:
            for key in [k for k, (_, a) in self._entries.items() if match(a["session"])]:
                del self._entries[key]
