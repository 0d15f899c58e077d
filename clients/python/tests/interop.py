"""Cross-language checks driven by test/clients/clients.test.ts (not a unittest module).

    python3 interop.py create opaque|jwt FILE   creates a session, writes {token, sessionId, userId} to FILE
    python3 interop.py validate FILE            validates FILE's token through the service

The token travels in a private file, never on a command line or in output.
"""
from __future__ import annotations

import json
import os
import sys

import _support
from sessionkit import SessionkitError


def main(argv: list) -> int:
    client = _support.client(cache_ttl=0)
    if argv[:1] == ["create"] and len(argv) == 3:
        kind, path = argv[1], argv[2]
        issued = client.create(_support.new_user(), roles=["interop"], token_type=kind)
        token = issued["accessToken"] if kind == "jwt" else issued["token"]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"token": token, "sessionId": issued["session"]["id"], "userId": issued["session"]["userId"]}, f)
        return 0
    if argv[:1] == ["validate"] and len(argv) == 2:
        with open(argv[1]) as f:
            expected = json.load(f)
        try:
            session = client.validate(expected["token"])
        except SessionkitError as err:
            print(f"validation failed: {err}", file=sys.stderr)
            return 1
        if (session["id"], session["userId"]) != (expected["sessionId"], expected["userId"]):
            print("validation returned another session", file=sys.stderr)
            return 1
        print(f"validated session of {session['userId']}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
