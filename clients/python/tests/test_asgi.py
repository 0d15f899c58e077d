"""SessionkitASGIMiddleware driven by a minimal ASGI harness (the messages a server would send
and receive), against the real service."""
from __future__ import annotations

import asyncio
import contextlib
import json
import unittest
from typing import Any, Dict, Iterator, List

import _support
from _cases import MiddlewareCases, echo_body, header_dict
from sessionkit import SessionkitASGIMiddleware


async def app(scope: Dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    if scope["type"] == "lifespan":
        await send({"type": "lifespan.startup.complete"})
        return
    state = scope.get("state", {})
    checked = "sessionkit.session" in scope
    if checked:
        # The scope and request.state (FastAPI/Starlette) tell the same story.
        assert state["sessionkit_session"] is scope["sessionkit.session"]
        assert state["sessionkit_csrf_token"] == scope["sessionkit.csrf_token"]
        assert state["lifespan"] == "kept"
    body = echo_body(scope.get("sessionkit.session"), scope.get("sessionkit.csrf_token"), scope.get("sessionkit.token_source"), checked)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def scope_of(kind: str, method: str, path: str, headers: Dict[str, str], state: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "type": kind, "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": state,
    }


async def run(middleware: Any, scope: Dict[str, Any]) -> List[Dict[str, Any]]:
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


@contextlib.contextmanager
def serve(client: Any, **options: Any) -> Iterator[Any]:
    middleware = SessionkitASGIMiddleware(app, client, **options)

    def request(method: str, path: str, headers: Dict[str, str]) -> Any:
        shared_state = {"lifespan": "kept"}
        sent = asyncio.run(run(middleware, scope_of("http", method, path, headers, shared_state)))
        # The server's state dict is never written to: the middleware works on a copy.
        assert shared_state == {"lifespan": "kept"}, shared_state
        start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
        assert start["type"] == "http.response.start"
        return start["status"], header_dict((k.decode(), v.decode()) for k, v in start["headers"]), json.loads(body)

    yield request


class AsgiMiddlewareTest(MiddlewareCases, unittest.TestCase):
    serve = staticmethod(serve)

    def test_websocket_handshakes_without_a_session_are_closed_with_1008(self) -> None:
        middleware = SessionkitASGIMiddleware(app, self.client, cookie_name="app-session")
        refused = asyncio.run(run(middleware, scope_of("websocket", "GET", "/ws", {}, {})))
        self.assertEqual(refused, [{"type": "websocket.close", "code": 1008}])
        accepted = asyncio.run(run(middleware, scope_of("websocket", "GET", "/ws", {"Authorization": f"Bearer {self.token}"}, {})))
        self.assertEqual(accepted, [{"type": "websocket.accept"}])

    def test_lifespan_messages_pass_through(self) -> None:
        middleware = SessionkitASGIMiddleware(app, self.client)
        self.assertEqual(asyncio.run(run(middleware, {"type": "lifespan"})), [{"type": "lifespan.startup.complete"}])

    def test_a_cached_session_is_answered_without_the_service(self) -> None:
        # Warm the cache, then point the same cache at nothing: the next request still passes.
        client = _support.client(clock=_support.FakeClock())
        middleware = SessionkitASGIMiddleware(app, client, cookie_name="app-session")
        headers = {"Authorization": f"Bearer {self.token}"}
        first = asyncio.run(run(middleware, scope_of("http", "GET", "/me", headers, {"lifespan": "kept"})))
        self.assertEqual(first[0]["status"], 200)
        client.base_url = _support.closed_port_url()
        second = asyncio.run(run(middleware, scope_of("http", "GET", "/me", headers, {"lifespan": "kept"})))
        self.assertEqual(second[0]["status"], 200)


if __name__ == "__main__":
    unittest.main()
