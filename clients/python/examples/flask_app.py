"""A Flask app that logs users in and out through the sessionkit service.

    SESSIONKIT_URL=http://127.0.0.1:8080 SESSIONKIT_API_KEY=ska_... python3 flask_app.py

(add ``INSECURE_COOKIES=1`` to try it over plain http:// in a browser that refuses ``Secure``
cookies there). Then: ``POST /login`` with ``username=alice&password=correct horse battery staple``
sets the session and CSRF cookies; ``GET /me`` answers who you are; ``POST /logout`` with the
``X-CSRF-Token`` header (the value of the ``sessionkit-csrf`` cookie) ends the session.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))        # _users
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # sessionkit, when not installed

from flask import Flask, jsonify, redirect, request  # noqa: E402

from _users import LOGIN_FORM, check  # noqa: E402
from sessionkit import SessionkitClient, SessionkitMiddleware  # noqa: E402
from sessionkit.flask import login, logout  # noqa: E402


def create_app(client: Optional[SessionkitClient] = None, *, insecure_cookies: bool = False) -> Flask:
    app = Flask(__name__)
    if client is None:
        client = SessionkitClient(os.environ["SESSIONKIT_URL"], api_key=os.environ["SESSIONKIT_API_KEY"])
    # Every request needs a live session except the login page and form.
    app.wsgi_app = SessionkitMiddleware(app.wsgi_app, client, exclude_paths=["/login"], insecure_cookies=insecure_cookies)

    @app.get("/login")
    def login_form() -> Any:
        return LOGIN_FORM

    @app.post("/login")
    def do_login() -> Any:
        form = request.get_json(silent=True) if request.is_json else request.form
        user = check(str(form.get("username", "")), str(form.get("password", ""))) if form else None
        if user is None:
            return jsonify(error="invalid_credentials", message="wrong user name or password"), 401
        user_id, roles = user
        response = jsonify(userId=user_id) if request.is_json else redirect("/me", 303)
        login(response, user_id, roles=roles)
        return response

    @app.get("/me")
    def me() -> Any:
        session = request.environ["sessionkit.session"]
        return jsonify(userId=session["userId"], roles=session["roles"], sessionId=session["id"])

    @app.post("/logout")
    def do_logout() -> Any:
        response = jsonify(loggedOut=True)
        logout(response)
        return response

    return app


if __name__ == "__main__":
    create_app(insecure_cookies=os.environ.get("INSECURE_COOKIES") == "1").run("127.0.0.1", int(os.environ.get("PORT", "5000")))
