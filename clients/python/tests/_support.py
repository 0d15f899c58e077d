"""Shared set-up of the Python client's tests: the real service named by the environment.

``test/clients/clients.test.ts`` starts the service and runs this suite with ``SESSIONKIT_URL``
and ``SESSIONKIT_API_KEY`` (an admin key) set; the service runs with no renew or refresh grace so
rotations are observable at once, and a high attempt limit so the error cases never trip it.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sessionkit import SessionkitClient  # noqa: E402

URL = os.environ.get("SESSIONKIT_URL", "")
API_KEY = os.environ.get("SESSIONKIT_API_KEY", "")
if not URL or not API_KEY:
    raise RuntimeError("SESSIONKIT_URL and SESSIONKIT_API_KEY must name a running service: "
                       "run this suite through `npx vitest run test/clients` (or npm test)")


def client(**options) -> SessionkitClient:
    return SessionkitClient(URL, API_KEY, **options)


def new_user() -> str:
    """A user id no other test (or earlier run) uses."""
    return f"py-{uuid.uuid4().hex}"


def closed_port_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class SilentServer:
    """A TCP server that accepts connections and never answers (for timeouts)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self._stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


class FakeClock:
    """A clock the test moves by hand (starts at the real time, so session expiries make sense)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now
