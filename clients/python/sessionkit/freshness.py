"""Re-authentication requirements ("sudo mode"): how recent, and with which methods, the last
authentication of a session must be for a sensitive action.

The service judges freshness (``POST /v1/sessions/validate`` with ``recentAuth``), so its
per-role rules and clock apply; the client only carries the requirement there. A session that
does not meet it raises ``ReauthenticationRequired`` with the service's ``max_age`` and
``methods``.

Example::

    try:
        client.validate(token, recent_auth=RecentAuth(max_age=300, methods=["totp"]))
    except ReauthenticationRequired as err:
        return redirect(f"/reauth?max_age={err.max_age}&methods={','.join(err.methods)}")
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Union

__all__ = ["RecentAuth", "as_recent_auth", "recent_auth_body"]

MAX_AGE_LIMIT = 31_536_000


@dataclass(frozen=True)
class RecentAuth:
    """``max_age``: whole seconds since the last authentication (1 to 31,536,000; None: the
    service's ``SESSIONKIT_REAUTH_MAX_AGE``). ``methods``: every one must be among the last
    authentication's methods (e.g. ``["totp"]``; empty: any)."""

    max_age: Optional[int] = None
    methods: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Checked here so a typo fails where it is written, not as a 400 on the first request.
        if self.max_age is not None and (isinstance(self.max_age, bool) or not isinstance(self.max_age, int)
                                         or not 1 <= self.max_age <= MAX_AGE_LIMIT):
            raise ValueError(f"max_age must be whole seconds between 1 and {MAX_AGE_LIMIT}")
        if isinstance(self.methods, str) or not all(isinstance(m, str) for m in self.methods):
            raise ValueError('methods must be a list of method names such as ["totp"]')
        object.__setattr__(self, "methods", tuple(self.methods))

    def to_body(self) -> Dict[str, Any]:
        """The service's ``recentAuth`` object."""
        body: Dict[str, Any] = {}
        if self.max_age is not None:
            body["maxAge"] = self.max_age
        if self.methods:
            body["methods"] = list(self.methods)
        return body


RecentAuthLike = Union[RecentAuth, Mapping[str, Any]]


def as_recent_auth(value: RecentAuthLike) -> RecentAuth:
    """A ``RecentAuth`` from itself or a mapping with ``max_age`` / ``methods`` (checked)."""
    if isinstance(value, RecentAuth):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"max_age", "methods"}
        if unknown:
            raise ValueError(f"recent_auth takes max_age and methods, not {', '.join(sorted(unknown))}")
        return RecentAuth(value.get("max_age"), value.get("methods") or ())
    raise TypeError("recent_auth must be a RecentAuth or a dict with max_age and methods")


def recent_auth_body(value: RecentAuthLike) -> Dict[str, Any]:
    """``recentAuth`` for the service from a ``RecentAuth`` or a mapping with ``max_age`` / ``methods``."""
    return as_recent_auth(value).to_body()
