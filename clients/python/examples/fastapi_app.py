"""A FastAPI app that logs users in and out through the sessionkit service.

    SESSIONKIT_URL=http://127.0.0.1:8080 SESSIONKIT_API_KEY=ska_... uvicorn fastapi_app:app

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

from fastapi import FastAPI, Request, Response  # noqa: E402
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse  # noqa: E402

from _users import LOGIN_FORM, check  # noqa: E402
from sessionkit import SessionkitASGIMiddleware, SessionkitClient  # noqa: E402
from sessionkit.fastapi import login, logout  # noqa: E402


def create_app(client: Optional[SessionkitClient] = None, *, insecure_cookies: bool = False) -> FastAPI:
    app = FastAPI()
    if client is None:
        client = SessionkitClient(os.environ["SESSIONKIT_URL"], api_key=os.environ["SESSIONKIT_API_KEY"])
    # Every request needs a live session except the login page and form.
    app.add_middleware(SessionkitASGIMiddleware, client=client, exclude_paths=["/login"], insecure_cookies=insecure_cookies)

    @app.get("/login", response_class=HTMLResponse)
    async def login_form() -> str:
        return LOGIN_FORM

    @app.post("/login")
    async def do_login(request: Request) -> Any:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        form = await request.json() if is_json else await request.form()
        user = check(str(form.get("username", "")), str(form.get("password", ""))) if hasattr(form, "get") else None
        if user is None:
            return JSONResponse({"error": "invalid_credentials", "message": "wrong user name or password"}, status_code=401)
        user_id, roles = user
        response: Response = JSONResponse({"userId": user_id}) if is_json else RedirectResponse("/me", status_code=303)
        await login(request, response, user_id, roles=roles)
        return response

    @app.get("/me")
    async def me(request: Request) -> Any:
        session = request.state.sessionkit_session
        return {"userId": session["userId"], "roles": session["roles"], "sessionId": session["id"]}

    @app.post("/logout")
    async def do_logout(request: Request, response: Response) -> Any:
        await logout(request, response)   # FastAPI copies the injected response's headers
        return {"loggedOut": True}

    return app


if os.environ.get("SESSIONKIT_URL"):
    app = create_app(insecure_cookies=os.environ.get("INSECURE_COOKIES") == "1")
