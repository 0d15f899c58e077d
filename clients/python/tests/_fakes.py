"""Real HTTP servers that stand in for the service where the test needs it to misbehave.

``FakeService`` answers every request with a canned status, headers and body (answers the real
service never gives: an empty 200, ``{"session": {}}``, a 302 with JSON). ``HoldingProxy``
forwards to the real service but holds the answer of one route until the test releases it, so a
race (a validation in flight while a revocation happens) runs in a fixed order without sleeping.
Both listen on a free loopback port and stop when their ``with`` block ends.
"""
from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

Answer = Tuple[int, Dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays readable
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: Any = self.server
        status, headers, payload = server.owner.respond(self.command, self.path, dict(self.headers), body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204 and status >= 200:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if status != 204:
            self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _serve


class _Server:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.seen: List[Tuple[str, str]] = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def respond(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError


class FakeService(_Server):
    """Answers every request with ``answer`` (or ``answer(method, path)`` when it is callable)."""

    def __init__(self, answer: Any) -> None:
        super().__init__()
        self.answer = answer

    def respond(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Answer:
        self.seen.append((method, path))
        answer = self.answer(method, path) if callable(self.answer) else self.answer
        status, extra, payload = answer
        return status, {"Content-Type": "application/json", **extra}, payload


class HoldingProxy(_Server):
    """Forwards every request to ``target``; the first answer to ``hold_path`` waits for
    ``release`` after ``arrived`` is set (the service has already answered it by then)."""

    def __init__(self, target: str, hold_path: str) -> None:
        super().__init__()
        self.target = urllib.parse.urlsplit(target)
        self.hold_path = hold_path
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._held = False
        self._lock = threading.Lock()

    def respond(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Answer:
        self.seen.append((method, path))
        conn = http.client.HTTPConnection(self.target.hostname or "127.0.0.1", self.target.port, timeout=10)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")}
            conn.request(method, path, body=body or None, headers=forwarded)
            res = conn.getresponse()
            answer = (res.status, {k: v for k, v in res.getheaders()
                                   if k.lower() not in ("content-length", "connection", "transfer-encoding", "date")}, res.read())
        finally:
            conn.close()
        with self._lock:
            hold = path == self.hold_path and not self._held
            self._held = self._held or hold
        if hold:
            self.arrived.set()
            self.release.wait(10)
        return answer


def json_answer(status: int, body: Optional[bytes], **headers: str) -> Answer:
    """``(status, headers, body)`` for FakeService; ``body`` None means no body at all."""
    return status, dict(headers), body if body is not None else b""


Responder = Callable[[str, str], Answer]
