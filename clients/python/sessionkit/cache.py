"""A short, bounded, revocation-aware cache of successful validations.

The middlewares validate every request's token through the service; this cache lets a burst of
requests with one token cost one round trip. It is deliberately small in every direction:

- **short**: an entry lives ``ttl`` seconds at most (default 1 s, at most 60 s), and never past
  the session's own idle or absolute expiry, so a revocation made elsewhere (another backend,
  the service's CLI, a logout on another device) is seen within ``ttl``;
- **bounded**: at most ``max_entries`` entries, least recently used evicted first;
- **revocation-aware**: the client drops every entry of a session or user it revokes, so a
  revocation made through this client is seen at once. Every such drop also starts a new
  *generation*: a validation that was already in flight when it happened (and may carry the
  service's answer from before the revocation) is not stored (``put(..., generation=g)`` with the
  generation read when the call started);
- keys are SHA-256 digests of the tokens, so the process never keeps a token it does not need.

Failures are never cached: a token the service refused is asked about again next time.

Example::

    cache = ValidationCache(ttl=1.0, max_entries=10_000)
    started, generation = clock(), cache.generation
    answer = ask_the_service(token)
    cache.put(token, answer, generation=generation, started=started)
    cache.get(token)            # that answer, for at most ttl seconds after ``started``
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
        self._generation = 0

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def generation(self) -> int:
        """Bumped by every revocation-driven drop (``forget_*``, ``clear``); read it before asking
        the service and hand it to :meth:`put`."""
        return self._generation

    def now(self) -> float:
        """The cache's clock."""
        return self._clock()

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

    def put(self, token: str, answer: Dict[str, Any], *, generation: Optional[int] = None,
            started: Optional[float] = None) -> None:
        """Remembers a successful validation for ``ttl`` after ``started`` (when the call began;
        default now), less if the session expires sooner. With ``generation``, nothing is stored
        when a revocation happened since that generation was read."""
        if not self.enabled:
            return
        deadline = (self._clock() if started is None else started) + self.ttl
        expiry = _deadline(answer["session"])
        if expiry is not None:
            deadline = min(deadline, expiry)
        key = self._key(token)
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._entries[key] = (deadline, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_token(self, token: str) -> None:
        """Drops one token (its session was ended or rotated): a new generation."""
        with self._lock:
            self._generation += 1
            self._entries.pop(self._key(token), None)

    def discard(self, token: str) -> None:
        """Drops one token the service refused, without a new generation: a flood of bad tokens
        must not stop good answers from being cached."""
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
            self._generation += 1
            self._entries.clear()

    def _forget(self, match: Callable[[Dict[str, Any]], bool]) -> None:
        with self._lock:
            self._generation += 1
            for key in [k for k, (_, a) in self._entries.items() if match(a["session"])]:
                del self._entries[key]
