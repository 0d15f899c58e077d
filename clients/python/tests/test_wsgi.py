"""SessionkitMiddleware (WSGI) served by wsgiref over real HTTP, against the real service."""
from __future__ import annotations

import contextlib
import http.client
import json
import threading
import unittest
import warnings
from typing import Any, Dict, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from _cases import MiddlewareCases, echo_body, header_dict
from sessionkit import InsecureTransportWarning, SessionkitMiddleware, cookies


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the test output stays readable
        pass


def app(environ: Dict[str, Any], start_response: Any) -> Any:
    checked = "sessionkit.session" in environ
    body = echo_body(environ.get("sessionkit.session"), environ.get("sessionkit.csrf_token"),
                     environ.get("sessionkit.token_source"), checked)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


@contextlib.contextmanager
def serve(client: Any, **options: Any) -> Iterator[Any]:
    server: WSGIServer = make_server("127.0.0.1", 0, SessionkitMiddleware(app, client, **options), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def request(method: str, path: str, headers: Dict[str, str]) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        try:
            conn.request(method, path, headers=headers)
            res = conn.getresponse()
            return res.status, header_dict(res.getheaders()), json.loads(res.read())
        finally:
            conn.close()

    try:
        yield request
    finally:
        server.shutdown()
        server.server_close()


class WsgiMiddlewareTest(MiddlewareCases, unittest.TestCase):
    serve = staticmethod(serve)

    def test_the_wsgi_app_is_left_untouched_on_excluded_paths(self) -> None:
        seen: Dict[str, Any] = {}

        def inner(environ: Dict[str, Any], start_response: Any) -> Any:
            seen.update(environ)
            start_response("204 No Content", [])
            return [b""]

        middleware = SessionkitMiddleware(inner, self.client, exclude_paths=["/health"])
        middleware({"PATH_INFO": "/health", "REQUEST_METHOD": "GET"}, lambda *a: None)
        self.assertNotIn("sessionkit.session", seen)

    def test_cookie_options_are_checked_when_the_middleware_is_built(self) -> None:
        for bad in ({"cookie_name": "bad name"}, {"cookie_name": "__Host-app", "insecure_cookies": True}):
            with self.subTest(options=bad), self.assertRaises(ValueError):
                SessionkitMiddleware(app, self.client, **bad)
        self.assertEqual(SessionkitMiddleware(app, self.client).auth.cookie_name, "__Host-sessionkit")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cookies._warned = False
            self.assertEqual(SessionkitMiddleware(app, self.client, insecure_cookies=True).auth.cookie_name, "sessionkit")
            SessionkitMiddleware(app, self.client, insecure_cookies=True)
        self.assertEqual([(w.category, w.filename) for w in caught], [(InsecureTransportWarning, __file__)])  # once, at the caller

    def test_the_client_must_be_a_sessionkit_client(self) -> None:
        with self.assertRaises(TypeError):
            SessionkitMiddleware(app, "http://127.0.0.1:8080")  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
