"""The examples' stand-in for your user store: one user, a salted scrypt hash, a constant-time check.

Replace it with your own users (and a password hash such as argon2 or scrypt); sessionkit only
takes over once you know who the user is.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from typing import List, Optional, Tuple

_SALT = os.urandom(16)


def _hash(password: str) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=_SALT, n=2**14, r=8, p=1)


USERS = {"alice": (_hash("correct horse battery staple"), ["user"])}


def check(username: str, password: str) -> Optional[Tuple[str, List[str]]]:
    """``(user_id, roles)`` when the password is right, else None."""
    stored = USERS.get(username)
    attempt = _hash(password)  # hashed even for unknown users: the time taken says nothing
    if stored is None or not hmac.compare_digest(stored[0], attempt):
        return None
    return username, stored[1]


LOGIN_FORM = """<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>"""
