"""``Secret``: a ``str`` whose ``repr`` never shows it.

Tokens, refresh tokens, CSRF tokens and the API key travel through the client as ``Secret``s.
They behave as the plain strings they are (compare, format, encode, ``json.dumps``, set as a
cookie), but ``repr()`` (what a debugger, ``print(dict)``, a logging call with ``%r``, or a
traceback formatter that shows each frame's locals prints) says ``Secret(<redacted>)``.

Example::

    token = Secret("sk_abc.def")
    token == "sk_abc.def"      # True
    repr({"token": token})     # "{'token': Secret(<redacted>)}"
"""
from __future__ import annotations

from typing import Any

__all__ = ["Secret", "secret"]


class Secret(str):
    """A string that is printed as ``Secret(<redacted>)`` by ``repr``; ``str()`` gives the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret(<redacted>)"


def secret(value: Any) -> Any:
    """``value`` as a ``Secret`` when it is a string (anything else is returned as it is)."""
    if isinstance(value, str) and not isinstance(value, Secret):
        return Secret(value)
    return value
