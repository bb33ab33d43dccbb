"""The web console's HTTP surface without a browser (the browser test is
tests/e2e-npm/console.test.js): the harness learns its address from the line after the ready
line; its pages carry the security headers; a POST without a session or without the CSRF token
is refused; sign-in with the root AccessKey sets a Secure, HttpOnly, SameSite=Strict cookie;
``--console off`` serves no console."""

from __future__ import annotations

import functools
import re

import requests

from e2ehelp import ACCESS_KEY_ID, ACCESS_KEY_SECRET, new_server


def test_console_headers_csrf_and_cookie(server):
    base = server.console_url
    assert base and base.startswith("https://127.0.0.1:"), base
    page = requests.get(base + "signin", verify=server.verify, timeout=30)
    assert page.status_code == 200
    h = page.headers
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cache-Control"] == "no-store"
    assert h["Referrer-Policy"] == "same-origin"
    assert "<script>" not in page.text and "onclick" not in page.text
    # no session: a POST is refused
    assert requests.post(base + "keys", data={"description": "x"}, verify=server.verify,
                         timeout=30, allow_redirects=False).status_code == 403
    s = requests.Session()
    # per call, not `s.verify`: a REQUESTS_CA_BUNDLE in the environment would override that
    s.request = functools.partial(s.request, verify=server.verify)
    signed = s.post(base + "signin", data={"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                                           "access_key_secret": ACCESS_KEY_SECRET},
                    allow_redirects=False, timeout=30)
    assert signed.status_code == 303, signed.text
    cookie = signed.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/console/"):
        assert flag in cookie, cookie
    keys = s.get(base + "keys", timeout=30)
    assert keys.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', keys.text).group(1)
    # a signed-in POST without the token, with a wrong one, or cross-site: refused
    assert s.post(base + "keys", data={"description": "x"}, timeout=30).status_code == 403
    assert s.post(base + "keys", data={"description": "x", "csrf": "wrong"},
                  timeout=30).status_code == 403
    assert s.post(base + "keys", data={"description": "x", "csrf": token},
                  headers={"Origin": "https://evil.example"}, timeout=30).status_code == 403
    made = s.post(base + "keys", data={"description": "from python", "csrf": token,
                                       "spec": "Aliyun_AES_256", "protection": "SOFTWARE"},
                  allow_redirects=False, timeout=30)
    assert made.status_code == 303 and "done=created" in made.headers["Location"], made.text


def test_console_off(tmp_path_factory):
    srv = new_server(tmp_path_factory, "console-off", args=["--console", "off"]).start()
    try:
        assert srv.console_url is None
    finally:
        srv.stop()
