"""The shapes of the service's successful answers (docs/API.md), checked before they are believed.

A 2xx answer is only what the route promises: a validation is ``{session, csrfToken}`` with a
session object carrying at least ``id``, ``userId``, ``roles`` and readable ``idleExpiresAt`` /
``absoluteExpiresAt``, and for an opaque token the session the token names. Anything else (an
empty body, ``null``, ``{}``, ``{"session": {}}``, a 204 where a body is due) raises
``UnexpectedAnswer``: the caller fails closed (503) instead of letting a request through without
a session or caching something that is not one. Extra fields are fine (the API grows additively).

Token fields of an answer come back as ``Secret`` strings, so printing an answer never shows them.

Example::

    answer = check_validation(parsed, token)     # raises UnexpectedAnswer
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

from .errors import UnexpectedAnswer
from .secret import secret

__all__ = ["check_validation", "check_session_answer", "check_issued", "check_sessions", "check_revoked",
           "check_jwks", "check_empty", "redact_answer", "Check"]

Check = Callable[[Any], Any]
_OPAQUE = re.compile(r"^sk_([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$")
_SECRET_FIELDS = ("token", "accessToken", "refreshToken", "csrfToken")


def _fail(what: str) -> UnexpectedAnswer:
    return UnexpectedAnswer(f"the session service's answer is not what the API promises: {what}")


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _time(value: Any) -> bool:
    if not _text(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{what} is not a JSON object")
    return value


def check_session(value: Any, what: str = "session") -> Dict[str, Any]:
    """A session object: ``id``, ``userId``, ``roles`` (strings) and readable expiry times."""
    session = _object(value, what)
    if not _text(session.get("id")) or not _text(session.get("userId")):
        raise _fail(f"{what} has no id or userId")
    roles = session.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _fail(f"{what}.roles is not a list of strings")
    if not _time(session.get("idleExpiresAt")) or not _time(session.get("absoluteExpiresAt")):
        raise _fail(f"{what} has no readable idleExpiresAt / absoluteExpiresAt")
    for field in ("data", "device"):
        if session.get(field) is not None and not isinstance(session[field], dict):
            raise _fail(f"{what}.{field} is not an object")
    return session


def _secrets(answer: Dict[str, Any], required: List[str]) -> Dict[str, Any]:
    for field in required:
        if not _text(answer.get(field)):
            raise _fail(f"{field} is missing")
    return redact_answer(answer)


def redact_answer(value: Any) -> Any:
    """``value`` with the token fields of a top-level object turned into ``Secret``s."""
    if isinstance(value, dict):
        for field in _SECRET_FIELDS:
            if field in value:
                value[field] = secret(value[field])
    return value


def check_validation(value: Any, token: Optional[str] = None) -> Dict[str, Any]:
    """``{session, csrfToken}``; for an opaque ``sk_<id>.<secret>`` token, the session ``<id>``."""
    answer = _object(value, "the answer")
    session = check_session(answer.get("session"))
    match = _OPAQUE.match(token) if isinstance(token, str) else None
    if match is not None and session["id"] != match.group(1):
        raise _fail("the session is not the one the token names")
    return _secrets(answer, ["csrfToken"])


def check_session_answer(value: Any) -> Dict[str, Any]:
    """``{session}`` (``GET /v1/sessions/current``)."""
    answer = _object(value, "the answer")
    check_session(answer.get("session"))
    return _secrets(answer, [])


def check_issued(value: Any) -> Dict[str, Any]:
    """A new or rotated session: ``{session, token, expiresAt}`` or, for JWT sessions,
    ``{session, accessToken, refreshToken, accessTokenExpiresAt}``."""
    answer = _object(value, "the answer")
    check_session(answer.get("session"))
    if "accessToken" in answer:
        if not _time(answer.get("accessTokenExpiresAt")):
            raise _fail("accessTokenExpiresAt is missing")
        return _secrets(answer, ["accessToken", "refreshToken"])
    if not _time(answer.get("expiresAt")):
        raise _fail("expiresAt is missing")
    return _secrets(answer, ["token"])


def check_sessions(value: Any) -> Dict[str, Any]:
    """``{sessions: [session, ...]}``."""
    answer = _object(value, "the answer")
    sessions = answer.get("sessions")
    if not isinstance(sessions, list):
        raise _fail("sessions is not a list")
    for i, session in enumerate(sessions):
        check_session(session, f"sessions[{i}]")
    return answer


def check_revoked(value: Any) -> Dict[str, Any]:
    """``{revoked: n}`` with n a whole number >= 0."""
    answer = _object(value, "the answer")
    revoked = answer.get("revoked")
    if isinstance(revoked, bool) or not isinstance(revoked, int) or revoked < 0:
        raise _fail("revoked is not a count")
    return answer


def check_jwks(value: Any) -> Dict[str, Any]:
    """``{keys: [...]}``."""
    answer = _object(value, "the answer")
    if not isinstance(answer.get("keys"), list):
        raise _fail("keys is not a list")
    return answer


def check_empty(value: Any) -> None:
    """The routes answered with 204 (a body, if any, is ignored)."""
    return None
