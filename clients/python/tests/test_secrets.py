"""What the client shows of its secrets, and where it sends them (issue 22, finding 8).

Tracebacks printed with every frame's locals (``traceback`` with ``capture_locals``, as error
trackers do) show no token, refresh token, CSRF token or API key; URL credentials are refused
without being repeated; plain HTTP to another machine is warned about.
"""
from __future__ import annotations

import json
import traceback
import unittest
import warnings
from typing import Any, Callable, List

import _support
from _fakes import FakeService, json_answer
from sessionkit import (
    InsecureTransportWarning, Secret, SessionkitClient, SessionkitError, UnexpectedAnswer,
)
from sessionkit._auth import extract_token
from sessionkit.wsgi import _headers as wsgi_headers


def everything_printed(err: BaseException) -> str:
    """The exception as a traceback with locals, plus every exception chained to it (even a
    suppressed context, which some error trackers still walk)."""
    parts: List[str] = []
    seen = set()
    current: Any = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.extend(traceback.TracebackException.from_exception(current, capture_locals=True).format(chain=True))
        parts.append(repr(current.args))
        current = current.__cause__ or current.__context__
    return "".join(parts)


def raised_by(call: Callable[[], Any]) -> SessionkitError:
    """The SessionkitError ``call`` raises, with its traceback (``assertRaises`` drops it)."""
    try:
        call()
    except SessionkitError as err:
        return err
    raise AssertionError("no SessionkitError was raised")


class TracebackLocalsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = _support.client(cache_ttl=0)
        self.issued = self.client.create(_support.new_user())
        self.token = self.issued["token"]
        self.secrets = [str(self.token), str(self.token).split(".")[1], _support.API_KEY, str(self.issued["csrfToken"])]

    def assert_hidden(self, call: Callable[[], Any]) -> None:
        printed = everything_printed(raised_by(call))
        self.assertIn("Secret(<redacted>)", printed)  # the locals were printed, redacted
        for value in self.secrets:
            self.assertNotIn(value, printed)

    def test_a_refused_token_leaves_no_secret_in_the_traceback(self) -> None:
        self.client.revoke(self.issued["session"]["id"])
        for call in (self.client.validate, self.client.validate_cached, self.client.current, self.client.renew):
            with self.subTest(call=call.__name__):
                self.assert_hidden(lambda: call(self.token))

    def test_an_unreachable_service_leaves_no_secret_in_the_traceback(self) -> None:
        down = SessionkitClient(_support.closed_port_url(), _support.API_KEY, timeout=2)
        self.assert_hidden(lambda: down.validate(self.token))
        self.assert_hidden(lambda: down.current(self.token))

    def test_an_unexpected_answer_carrying_tokens_leaves_none_in_the_traceback(self) -> None:
        # A create answer with the tokens but a broken session: the parsed answer is a local too.
        leaked = {"token": self.token, "csrfToken": self.issued["csrfToken"], "session": {}}
        with FakeService(json_answer(201, json.dumps(leaked).encode())) as fake:
            client = SessionkitClient(fake.url, _support.API_KEY)
            err = raised_by(lambda: client.create("u1"))
        self.assertIsInstance(err, UnexpectedAnswer)
        for value in self.secrets:
            self.assertNotIn(value, everything_printed(err))

    def test_answers_print_their_tokens_redacted_and_still_work_as_strings(self) -> None:
        printed = repr(self.issued) + str(self.issued) + repr(self.client.validation(self.token))
        for value in self.secrets:
            self.assertNotIn(value, printed)
        self.assertIsInstance(self.issued["token"], Secret)
        self.assertEqual(json.loads(json.dumps({"t": self.issued["token"]}))["t"], str(self.token))
        self.assertEqual(f"{self.issued['token']}", str(self.token))
        self.assertEqual(self.client.validate(str(self.token))["id"], self.issued["session"]["id"])

    def test_the_middlewares_hold_request_tokens_as_secrets(self) -> None:
        token, source = extract_token(f"sessionkit={self.token}", None, "sessionkit")
        self.assertEqual((type(token), token, source), (Secret, self.token, "cookie"))
        self.assertNotIn(str(self.token), repr(wsgi_headers({"HTTP_COOKIE": f"sessionkit={self.token}"})))


class UrlTest(unittest.TestCase):
    def test_credentials_in_the_url_are_refused_without_being_repeated(self) -> None:
        for url in ("https://admin:hunter2@sessions.example.org", "http://hunter2@127.0.0.1:8080"):
            with self.subTest(url=url):
                try:
                    SessionkitClient(url, "key")
                    self.fail("a URL with credentials was accepted")
                except ValueError as err:
                    self.assertIn("credentials", str(err))
                    # The client's own frames, with their locals (this test's frame holds the URL).
                    tb = err.__traceback__
                    while tb is not None and not tb.tb_frame.f_code.co_filename.endswith("client.py"):
                        tb = tb.tb_next
                    frames = traceback.StackSummary.extract(traceback.walk_tb(tb), capture_locals=True)
                    self.assertTrue(frames, "the client's frame is missing")
                    self.assertIn("base_url", "".join(frames.format()))
                    self.assertNotIn("hunter2", "".join(frames.format()) + str(err) + repr(err.args))

    def test_plain_http_to_another_machine_is_warned_about(self) -> None:
        for url in ("http://sessions.example.org", "http://10.0.0.5:8080", "http://[2001:db8::1]:8080"):
            with self.subTest(url=url), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                SessionkitClient(url, "key")
            self.assertEqual([w.category for w in caught], [InsecureTransportWarning])
            self.assertIn("https://", str(caught[0].message))
            self.assertEqual(caught[0].filename, __file__)  # points at the caller's line

    def test_https_and_loopback_are_not_warned_about(self) -> None:
        for url in ("https://sessions.example.org", "http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:8080",
                    "http://[::1]:8080", "http://app.localhost"):
            with self.subTest(url=url), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                SessionkitClient(url, "key")
            self.assertEqual(caught, [])


if __name__ == "__main__":
    unittest.main()
