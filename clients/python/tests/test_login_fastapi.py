"""sessionkit.fastapi's login() and logout() in the example FastAPI app (clients/python/examples/fastapi_app.py),
driven by Starlette's TestClient with its cookie jar, against the real service."""
from __future__ import annotations

import asyncio
import importlib.util
import unittest
from typing import Any, Dict, Optional

from _login_cases import Browser, LoginCases, Reply

HAS_FASTAPI = importlib.util.find_spec("fastapi") is not None and importlib.util.find_spec("httpx") is not None


class FastAPIBrowser(Browser):
    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        # https: the jar sends Secure cookies only there, as a browser does.
        self.test_client = TestClient(app, base_url="https://testserver")

    def request(self, method: str, path: str, *, json: Any = None, form: Optional[Dict[str, str]] = None,
                headers: Optional[Dict[str, str]] = None) -> Reply:
        res = self.test_client.request(method, path, json=json, data=form, headers=headers or {}, follow_redirects=False)
        try:
            body = res.json()
        except ValueError:
            body = None
        return Reply(res.status_code, {k.lower(): v for k, v in res.headers.items()}, res.headers.get_list("set-cookie"), body)

    def cookie(self, name: str) -> Optional[str]:
        return self.test_client.cookies.get(name)

    def drop_cookie(self, name: str) -> None:
        self.test_client.cookies.delete(name)


@unittest.skipUnless(HAS_FASTAPI, "FastAPI is not installed (optional: apt-get install python3-fastapi python3-httpx)")
class FastAPILoginTest(LoginCases, unittest.TestCase):
    def start(self, **options: Any) -> Browser:
        from fastapi_app import create_app
        return FastAPIBrowser(create_app(self.client, **options))

    def test_login_without_the_middleware_is_a_clear_error(self) -> None:
        from starlette.requests import Request
        from starlette.responses import Response
        from sessionkit.fastapi import login

        request = Request({"type": "http", "method": "POST", "path": "/login", "headers": [], "query_string": b""})
        with self.assertRaisesRegex(RuntimeError, "SessionkitASGIMiddleware"):
            asyncio.run(login(request, Response(), "u1"))


if __name__ == "__main__":
    unittest.main()
