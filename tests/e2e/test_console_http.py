"""The web console's HTTP surface without a browser (the browser test is
tests/e2e-npm/console.test.js): the harness learns its address from the line after the ready
line; its pages carry the security headers; a POST without a session or without the CSRF token
is refused; sign-in with the root AccessKey sets a Secure, HttpOnly, SameSite=Strict cookie;
``--console off`` serves no console."""

from __future__ import annotations

import functools
import re

import requests

from e2ehelp import ACCESS_KEY_ID, ACCESS_KEY_SECRET, new_ram_user, new_server, ram_request


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


def _signed_in(server, data):
    s = requests.Session()
    s.request = functools.partial(s.request, verify=server.verify)
    r = s.post(server.console_url + "signin", data=data, allow_redirects=False, timeout=30)
    return s, r


def test_console_sign_in_ends_with_its_credential(server, kms):
    user = new_ram_user(kms, "console-ak", system=["AliyunKMSReadOnlyAccess"])
    s, r = _signed_in(server, {"method": "accesskey", "access_key_id": user.access_key_id,
                               "access_key_secret": user.secret})
    assert r.status_code == 303, r.text
    assert s.get(server.console_url + "keys", allow_redirects=False, timeout=30).status_code == 200
    kms.call(ram_request("UpdateAccessKey", UserName=user.name,
                         UserAccessKeyId=user.access_key_id, Status="Inactive"))
    after = s.get(server.console_url + "keys", allow_redirects=False, timeout=30)
    assert after.status_code == 303 and after.headers["Location"].endswith("/console/signin")
    # an inactive key does not sign in; nor does a wrong secret or an unknown user's password
    _, again = _signed_in(server, {"method": "accesskey", "access_key_id": user.access_key_id,
                                   "access_key_secret": user.secret})
    assert again.status_code == 401
    _, wrong = _signed_in(server, {"method": "password", "user_name": user.name,
                                   "password": "No-profile-123"})
    assert wrong.status_code == 401
    # a password session ends when the login profile is deleted
    kms.call(ram_request("CreateLoginProfile", UserName=user.name, Password="Console-pass-1"))
    s, r = _signed_in(server, {"method": "password", "user_name": user.name,
                               "password": "Console-pass-1"})
    assert r.status_code == 303, r.text
    assert s.get(server.console_url + "status", allow_redirects=False, timeout=30).status_code == 200
    kms.call(ram_request("DeleteLoginProfile", UserName=user.name))
    gone = s.get(server.console_url + "status", allow_redirects=False, timeout=30)
    assert gone.status_code == 303


def test_console_sign_in_is_throttled(tmp_path_factory):
    """Ten failed sign-ins from one address, then even the right pair is refused (429) until
    the window ends; a server of its own, so no other test's address is throttled."""
    srv = new_server(tmp_path_factory, "console-throttle").start()
    try:
        wrong = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                 "access_key_secret": "not-the-secret"}
        for _ in range(10):
            assert _signed_in(srv, wrong)[1].status_code == 401
        right = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                 "access_key_secret": ACCESS_KEY_SECRET}
        refused = _signed_in(srv, right)[1]
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    finally:
        srv.stop()


def test_console_password_reset_required_forces_a_change(server, kms):
    user = new_ram_user(kms, "console-reset", system=["AliyunKMSReadOnlyAccess"])
    kms.call(ram_request("CreateLoginProfile", UserName=user.name, Password="Given-pass-1",
                         PasswordResetRequired=True))
    s, r = _signed_in(server, {"method": "password", "user_name": user.name,
                               "password": "Given-pass-1"})
    assert r.status_code == 303, r.text
    held = s.get(server.console_url + "keys", allow_redirects=False, timeout=30)
    assert held.status_code == 303 and held.headers["Location"].endswith("/console/password")
    form = s.get(server.console_url + "password", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    changed = s.post(server.console_url + "password", allow_redirects=False, timeout=30, data={
        "csrf": token, "old_password": "Given-pass-1", "new_password": "Chosen-pass-2",
        "confirm": "Chosen-pass-2"})
    assert changed.status_code == 303, changed.text
    assert s.get(server.console_url + "keys", allow_redirects=False, timeout=30).status_code == 200
    _, old = _signed_in(server, {"method": "password", "user_name": user.name,
                                 "password": "Given-pass-1"})
    assert old.status_code == 401
    _, new = _signed_in(server, {"method": "password", "user_name": user.name,
                                 "password": "Chosen-pass-2"})
    assert new.status_code == 303
