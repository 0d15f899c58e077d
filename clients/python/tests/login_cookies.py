"""What the Python login helpers put on the wire, for test/clients/python-login.test.ts (not a unittest module).

    python3 login_cookies.py secure|insecure

logs ``alice`` in and out of both example apps (Flask, FastAPI) against the service named by
SESSIONKIT_URL / SESSIONKIT_API_KEY and prints, as JSON, each response's Set-Cookie headers parsed
into ``[name, value, {attribute: value}]`` and its Cache-Control / Clear-Site-Data headers. Cookie
values are printed as ``<token>`` (the session token the service issued), ``<csrf>`` (its CSRF
token) or ``""``: never a token itself. The Node test compares this with what the Express adapter
sends for the same login and logout.
"""
from __future__ import annotations

import json
import sys
import warnings
from typing import Any, Dict, List

import _support
from _login_cases import PASSWORD, parse_set_cookie
from test_login_fastapi import FastAPIBrowser
from test_login_flask import FlaskBrowser


def describe(reply: Any, token: str, csrf: str) -> Dict[str, Any]:
    cookies: List[Any] = []
    for header in reply.set_cookies:
        name, value, attributes = parse_set_cookie(header)
        shown = "<token>" if value == token and value else "<csrf>" if value == csrf and value else value
        if shown not in ("<token>", "<csrf>", ""):
            raise SystemExit(f"the {name} cookie carries a value that is neither the token nor the CSRF token")
        cookies.append([name, shown, attributes])
    return {"status": reply.status, "cookies": cookies,
            "cacheControl": reply.headers.get("cache-control"), "clearSiteData": reply.headers.get("clear-site-data")}


def run(browser: Any) -> Dict[str, Any]:
    login = browser.request("POST", "/login", json={"username": "alice", "password": PASSWORD})
    token = browser.cookie("__Host-sessionkit") or browser.cookie("sessionkit") or ""
    csrf = browser.cookie("sessionkit-csrf") or ""
    answer = _support.client(cache_ttl=0).validation(token)
    if (answer["session"]["userId"], answer["csrfToken"]) != ("alice", csrf):
        raise SystemExit("the cookies do not carry the session the service created")
    logout = browser.request("POST", "/logout", headers={"X-CSRF-Token": csrf})
    return {"login": describe(login, token, csrf), "logout": describe(logout, token, csrf)}


def main(argv: List[str]) -> int:
    if argv not in (["secure"], ["insecure"]):
        print(__doc__, file=sys.stderr)
        return 2
    insecure = argv == ["insecure"]
    warnings.simplefilter("ignore")  # insecure_cookies warns, as it should; stdout stays JSON
    from fastapi_app import create_app as fastapi_app
    from flask_app import create_app as flask_app

    client = _support.client()
    out = {"flask": run(FlaskBrowser(flask_app(client, insecure_cookies=insecure))),
           "fastapi": run(FastAPIBrowser(fastapi_app(client, insecure_cookies=insecure)))}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
