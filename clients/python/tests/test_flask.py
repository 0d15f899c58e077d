"""The WSGI middleware in a Flask app, set up as the README shows (runs when Flask is installed,
e.g. Debian's python3-flask; skipped otherwise, as Flask is optional)."""
from __future__ import annotations

import contextlib
import importlib.util
import unittest
from typing import Any, Dict, Iterator

from _cases import MiddlewareCases, echo_body, header_dict
from sessionkit import SessionkitMiddleware

HAS_FLASK = importlib.util.find_spec("flask") is not None


@contextlib.contextmanager
def serve(client: Any, **options: Any) -> Iterator[Any]:
    from flask import Flask, request

    app = Flask(__name__)

    @app.route("/<path:anything>", methods=["GET", "POST", "DELETE"])
    def echo(anything: str) -> Any:
        env = request.environ
        return app.response_class(echo_body(env.get("sessionkit.session"), env.get("sessionkit.csrf_token"),
                                            env.get("sessionkit.token_source"), "sessionkit.session" in env),
                                  mimetype="application/json")

    app.wsgi_app = SessionkitMiddleware(app.wsgi_app, client, **options)  # the README's one line
    # Without its cookie jar, Werkzeug's test client sends our Cookie header as it is.
    test_client = app.test_client(use_cookies=False)

    def call(method: str, path: str, headers: Dict[str, str]) -> Any:
        res = test_client.open(path, method=method, headers=headers)
        return res.status_code, header_dict(res.headers.items()), res.get_json(force=True)

    yield call


@unittest.skipUnless(HAS_FLASK, "Flask is not installed (optional: apt-get install python3-flask)")
class FlaskMiddlewareTest(MiddlewareCases, unittest.TestCase):
    serve = staticmethod(serve)


if __name__ == "__main__":
    unittest.main()
