"""sessionkit.flask's login() and logout() in the example Flask app (clients/python/examples/flask_app.py),
driven by Werkzeug's test client with its cookie jar, against the real service."""
from __future__ import annotations

import importlib.util
import unittest
from typing import Any, Dict, Optional

from _login_cases import Browser, LoginCases, Reply

HAS_FLASK = importlib.util.find_spec("flask") is not None


class FlaskBrowser(Browser):
    def __init__(self, app: Any) -> None:
        self.test_client = app.test_client()

    def request(self, method: str, path: str, *, json: Any = None, form: Optional[Dict[str, str]] = None,
                headers: Optional[Dict[str, str]] = None) -> Reply:
        # https: the jar sends Secure cookies only there, as a browser does.
        res = self.test_client.open(path, method=method, json=json, data=form, headers=headers or {},
                                    base_url="https://localhost")
        return Reply(res.status_code, {k.lower(): v for k, v in res.headers.items()}, res.headers.getlist("Set-Cookie"),
                     res.get_json(silent=True))

    def cookie(self, name: str) -> Optional[str]:
        found = [c.value for c in self.test_client.cookie_jar if c.name == name]
        return found[0] if found else None

    def drop_cookie(self, name: str) -> None:
        for c in [c for c in self.test_client.cookie_jar if c.name == name]:
            self.test_client.cookie_jar.clear(c.domain, c.path, c.name)


@unittest.skipUnless(HAS_FLASK, "Flask is not installed (optional: apt-get install python3-flask)")
class FlaskLoginTest(LoginCases, unittest.TestCase):
    def start(self, **options: Any) -> Browser:
        from flask_app import create_app
        return FlaskBrowser(create_app(self.client, **options))

    def test_login_without_the_middleware_is_a_clear_error(self) -> None:
        from flask import Flask
        from sessionkit.flask import login

        app = Flask(__name__)
        app.testing = True  # the test client raises what the view raised

        @app.post("/login")
        def do_login() -> Any:
            response = app.response_class("")
            login(response, "u1")
            return response

        with self.assertRaisesRegex(RuntimeError, "SessionkitMiddleware"):
            app.test_client().post("/login")


if __name__ == "__main__":
    unittest.main()
