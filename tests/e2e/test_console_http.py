"""The web console's HTTP surface without a browser (the browser test is
tests/e2e-npm/console.test.js): the harness learns its address from the line after the ready
line; its pages carry the security headers; a POST without a session or without the CSRF token
is refused; sign-in with the root AccessKey sets a Secure, HttpOnly, SameSite=Strict cookie;
``--console off`` serves no console."""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import time

import requests

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCOUNT_ID, REGION_ID, describe,
                     new_ram_user, new_server, policy_document, ram_request, sdk_request,
                     statement, unique_name)
from test_byok import external_key, import_material


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
    assert h["Strict-Transport-Security"] == "max-age=31536000"
    assert "openkms 0." not in page.text and "version" not in page.text.lower(), "no version"
    assert "<script>" not in page.text and "onclick" not in page.text
    # no session: a POST is refused
    assert requests.post(base + "keys", data={"description": "x"}, verify=server.verify,
                         timeout=30, allow_redirects=False).status_code == 403
    s = requests.Session()
    # per call, not `s.verify`: a REQUESTS_CA_BUNDLE in the environment would override that
    s.request = functools.partial(s.request, verify=server.verify)
    root = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": ACCESS_KEY_SECRET}
    # sign-in needs the form's pre-session token, in its field and in its __Host- cookie
    assert s.post(base + "signin", data=root, allow_redirects=False,
                  timeout=30).status_code == 403
    form = s.get(base + "signin", timeout=30)
    assert form.headers["Set-Cookie"].startswith("__Host-openkms_signin="), form.headers
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert s.post(base + "signin", data={**root, "csrf": "wrong"}, allow_redirects=False,
                  timeout=30).status_code == 403
    bare = requests.post(base + "signin", data={**root, "csrf": token}, verify=server.verify,
                         allow_redirects=False, timeout=30)
    assert bare.status_code == 403, "the token without its cookie"
    signed = s.post(base + "signin", data={**root, "csrf": token},
                    allow_redirects=False, timeout=30)
    assert signed.status_code == 303, signed.text
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith("__Host-openkms_console="), cookie
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/;"):
        assert flag in cookie, cookie
    assert "Domain" not in cookie, cookie
    keys = s.get(base + "keys", timeout=30)
    assert keys.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', keys.text).group(1)
    # a signed-in POST without the token, with a wrong one, or cross-site: refused
    assert s.post(base + "keys", data={"description": "x"}, timeout=30).status_code == 403
    assert s.post(base + "keys", data={"description": "x", "csrf": "wrong"},
                  timeout=30).status_code == 403
    cross = s.post(base + "keys", data={"description": "x", "csrf": token},
                   headers={"Origin": "https://evil.example"}, timeout=30)
    # refused unread: the connection is not kept, and the answer says so
    assert cross.status_code == 403 and cross.headers["Connection"] == "close", cross.headers
    made = s.post(base + "keys", data={"description": "from python", "csrf": token,
                                       "spec": "Aliyun_AES_256", "protection": "SOFTWARE"},
                  allow_redirects=False, timeout=30)
    assert made.status_code == 303 and "done=created" in made.headers["Location"], made.text


def test_console_connections_per_source_are_capped(tmp_path_factory):
    """One address holds at most 8 console connections by default (not the API's 256): the
    ninth is closed at once, so a few addresses cannot hold every console slot."""
    srv = new_server(tmp_path_factory, "console-conns").start()
    held = []
    try:
        host, port = srv.console_url.split("//")[1].split("/")[0].rsplit(":", 1)
        for _ in range(8):
            held.append(socket.create_connection((host, int(port)), timeout=5))
        time.sleep(0.3)  # let the server accept them before the ninth arrives
        ninth = socket.create_connection((host, int(port)), timeout=5)
        held.append(ninth)
        ninth.settimeout(3)  # under the console's 5 s handshake timeout
        try:
            got = ninth.recv(1)
        except ConnectionResetError:
            got = b""
        assert got == b"", "the ninth connection was kept open"
    finally:
        for c in held:
            c.close()
        srv.stop()


def test_console_off(tmp_path_factory):
    srv = new_server(tmp_path_factory, "console-off", args=["--console", "off"]).start()
    try:
        assert srv.console_url is None
    finally:
        srv.stop()


def _signed_in(server, data):
    s = requests.Session()
    s.request = functools.partial(s.request, verify=server.verify)
    # Connection: close: sessions a test throws away must not hold console connections (one
    # address holds at most 8)
    form = s.get(server.console_url + "signin", timeout=30, headers={"Connection": "close"})
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = s.post(server.console_url + "signin", data={**data, "csrf": token},
               allow_redirects=False, timeout=30, headers={"Connection": "close"})
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
    status = s.get(server.console_url + "status", allow_redirects=False, timeout=30)
    assert status.status_code == 200 and user.name in status.text
    # only root sees the server's facts (store, its path, seal state, version)
    assert "Store" not in status.text and "Seal" not in status.text, status.text
    # an administrator's new password ends the session; so does setting PasswordResetRequired
    kms.call(ram_request("UpdateLoginProfile", UserName=user.name, Password="Console-pass-2"))
    ended = s.get(server.console_url + "status", allow_redirects=False, timeout=30)
    assert ended.status_code == 303 and ended.headers["Location"].endswith("/console/signin")
    s, r = _signed_in(server, {"method": "password", "user_name": user.name,
                               "password": "Console-pass-2"})
    assert r.status_code == 303, r.text
    kms.call(ram_request("UpdateLoginProfile", UserName=user.name, PasswordResetRequired=True))
    assert s.get(server.console_url + "status", allow_redirects=False, timeout=30).status_code == 303
    s, r = _signed_in(server, {"method": "password", "user_name": user.name,
                               "password": "Console-pass-2"})
    held = s.get(server.console_url + "keys", allow_redirects=False, timeout=30)
    assert held.status_code == 303 and held.headers["Location"].endswith("/console/password")
    kms.call(ram_request("DeleteLoginProfile", UserName=user.name))
    gone = s.get(server.console_url + "status", allow_redirects=False, timeout=30)
    assert gone.status_code == 303
    ended = [json.loads(line) for line in
             (server.data_dir / "audit" / "audit.log").read_text().splitlines()
             if '"ConsoleSignOut"' in line and f'"user":"{user.name}"' in line]
    assert [e["outcome"] for e in ended].count("Revoked") >= 3, ended


def test_console_sign_in_is_throttled(tmp_path_factory):
    """Failed sign-ins are budgeted per (address, user) and per address; a password's shape
    says nothing about the user (always 401, never 503); a throttled attempt is 429 and
    audited; the right AccessKey pair signs in even from a throttled address. A server of its
    own, so no other test's address is throttled."""
    srv = new_server(tmp_path_factory, "console-throttle").start()
    try:
        def password(user, pw):
            return _signed_in(srv, {"method": "password", "user_name": user, "password": pw})[1]
        # too short, too long, a control character, a plausible one: the same refusal
        for pw in ("x", "y" * 40, "abc\x01defgh", "Plausible-pw-1"):
            r = password("nobody", pw)
            assert r.status_code == 401 and "Sign-in failed" in r.text, (pw, r.status_code)
        for _ in range(6):
            assert password("nobody", "Wrong-pass-1").status_code == 401
        time.sleep(1.1)  # a fresh second of the audit log's budget for unauthenticated lines
        throttled = password("nobody", "Wrong-pass-1")
        assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
        assert password("somebody", "Wrong-pass-1").status_code == 401, "another user's budget"
        wrong = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                 "access_key_secret": "not-the-secret"}
        codes = []
        while len(codes) < 60 and (not codes or codes[-1] == 401):
            codes.append(_signed_in(srv, wrong)[1].status_code)
        assert codes[-1] == 429 and codes.count(401) >= 30, codes
        right = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                 "access_key_secret": ACCESS_KEY_SECRET}
        assert _signed_in(srv, right)[1].status_code == 303, "a right pair passes the throttle"
        outcomes = [json.loads(line).get("outcome")
                    for line in (srv.data_dir / "audit" / "audit.log").read_text().splitlines()
                    if '"ConsoleSignIn"' in line]
        assert "Throttled" in outcomes and outcomes[-1] == "OK", outcomes
    finally:
        srv.stop()


def test_console_actions_take_the_access_key_quota(tmp_path_factory):
    """The console's actions are charged to the API's per-AccessKey quota: past the burst a
    page shows Throttling.User instead of running its action."""
    srv = new_server(tmp_path_factory, "console-quota",
                     args=["--access-key-rate", "1", "--access-key-burst", "3"]).start()
    try:
        s, r = _signed_in(srv, {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                                "access_key_secret": ACCESS_KEY_SECRET})
        assert r.status_code == 303, r.text
        pages = [s.get(srv.console_url + "keys", timeout=30).text for _ in range(8)]
        assert "Throttling.User" not in pages[0]
        assert any("Throttling.User" in p for p in pages), "quota never reached"
    finally:
        srv.stop()


def test_console_password_reset_required_forces_a_change(server, kms):
    user = new_ram_user(kms, "console-reset", system=["AliyunKMSReadOnlyAccess"])
    kms.call(ram_request("CreateLoginProfile", UserName=user.name, Password="Given-pass-1",
                         PasswordResetRequired=True))
    s, r = _signed_in(server, {"method": "password", "user_name": user.name,
                               "password": "Given-pass-1"})
    assert r.status_code == 303, r.text
    other, _ = _signed_in(server, {"method": "password", "user_name": user.name,
                                   "password": "Given-pass-1"})
    held = s.get(server.console_url + "keys", allow_redirects=False, timeout=30)
    assert held.status_code == 303 and held.headers["Location"].endswith("/console/password")
    form = s.get(server.console_url + "password", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    changed = s.post(server.console_url + "password", allow_redirects=False, timeout=30, data={
        "csrf": token, "old_password": "Given-pass-1", "new_password": "Chosen-pass-2",
        "confirm": "Chosen-pass-2"})
    assert changed.status_code == 303, changed.text
    assert s.get(server.console_url + "keys", allow_redirects=False, timeout=30).status_code == 200
    # the user's other session (signed in with the old password) has ended
    gone = other.get(server.console_url + "password", allow_redirects=False, timeout=30)
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/console/signin")
    _, old = _signed_in(server, {"method": "password", "user_name": user.name,
                                 "password": "Given-pass-1"})
    assert old.status_code == 401
    _, new = _signed_in(server, {"method": "password", "user_name": user.name,
                                 "password": "Chosen-pass-2"})
    assert new.status_code == 303


def test_console_reads_only_urlencoded_forms(server):
    """A POST whose body is not application/x-www-form-urlencoded is answered 415 with the
    console's error page, and runs nothing; a charset parameter is fine."""
    s, r = _signed_in(server, {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
                               "access_key_secret": ACCESS_KEY_SECRET})
    assert r.status_code == 303, r.text
    keys = s.get(server.console_url + "keys", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', keys.text).group(1)
    body = f"description=not-a-form&spec=Aliyun_AES_256&protection=SOFTWARE&csrf={token}"
    for content_type in ("text/plain", "application/json", "multipart/form-data; boundary=x"):
        # Connection: close: the body is refused unread, so the server does not keep the
        # connection for another request
        refused = s.post(server.console_url + "keys", data=body, allow_redirects=False,
                         headers={"Content-Type": content_type, "Connection": "close"},
                         timeout=30)
        assert refused.status_code == 415, (content_type, refused.status_code)
        assert "application&#x2f;x-www-form-urlencoded" in refused.text, refused.text
        assert refused.headers["Content-Type"].startswith("text/html"), refused.headers
        assert refused.headers["Cache-Control"] == "no-store"
    assert "not-a-form" not in s.get(server.console_url + "keys", timeout=30).text
    made = s.post(server.console_url + "keys", data=body.replace("not-a-form", "a-form"),
                  allow_redirects=False, timeout=30,
                  headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert made.status_code == 303 and "done=created" in made.headers["Location"], made.text


ROOT = {"method": "accesskey", "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET}


def _token(s, server, path="keys"):
    page = s.get(server.console_url + path, timeout=30)
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _audit(server, user, action):
    """The audit lines of ``user``'s ``action`` (anyone's when ``user`` is empty)."""
    lines = (server.data_dir / "audit" / "audit.log").read_text().splitlines()
    return [json.loads(line) for line in lines
            if f'"action":"{action}"' in line and f'"user":"{user}' in line]


def _shown_request_id(html):
    """The RequestId of the error the page shows in its banner."""
    banner = re.search(r'id="api-error">(.*?)</div>\s*</div>', html, re.S)
    assert banner, html
    return re.search(r"RequestId <code>([^<]+)</code>", banner.group(1)).group(1)


def test_console_reveal_needs_only_get_secret_value(server, kms):
    """A user allowed GetSecretValue on one secret and nothing else: the revealed value is shown
    (the audit line's OK is what the user saw), with DescribeSecret's refusal in the metadata
    card; an action it may not run shows that action's own error, not DescribeSecret's."""
    name = f"app/{unique_name('reveal')}"
    kms.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1",
                         SecretData="seen <b>only</b> here"))
    arn = f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/{name}"
    user = new_ram_user(kms, "console-reveal", documents=[policy_document(
        statement("kms:GetSecretValue", arn))])
    s, r = _signed_in(server, {"method": "accesskey", "access_key_id": user.access_key_id,
                               "access_key_secret": user.secret})
    assert r.status_code == 303, r.text
    token = _token(s, server)
    shown = s.post(server.console_url + "secrets/secret/reveal", timeout=30,
                   data={"csrf": token, "name": name})
    assert shown.status_code == 200
    assert '<pre id="revealed-value" tabindex="0">seen &lt;b&gt;only&lt;&#x2f;b&gt; here</pre>' \
        in shown.text, shown.text
    assert 'id="secret-error">DescribeSecret: <strong>Forbidden.NoPermission' in shown.text
    assert 'id="versions-error">ListSecretVersionIds:' in shown.text
    assert 'id="api-error"' not in shown.text, "the reveal itself did not fail"
    assert [line["outcome"] for line in _audit(server, user.name, "GetSecretValue")] == ["OK"]
    # a refused action: its own error is the page's
    put = s.post(server.console_url + "secrets/secret/put", timeout=30, data={
        "csrf": token, "name": name, "value": "x", "version": "v2", "data_type": "text"})
    assert put.status_code == 200
    refused = _audit(server, user.name, "PutSecretValue")
    assert [line["outcome"] for line in refused] == ["Forbidden.NoPermission"], refused
    assert _shown_request_id(put.text) == refused[0]["request_id"], put.text
    assert 'id="secret-name">' + name.replace("/", "&#x2f;") in put.text
    assert kms.call(sdk_request("GetSecretValue", SecretName=name))["VersionId"] == "v1"


def test_console_irreversible_deletes_need_the_typed_name(server, kms):
    """Deleting a secret at once needs its name typed in `confirm`, deleting key material the
    key's id; the server checks it: without it, or with another, nothing runs."""
    s, r = _signed_in(server, ROOT)
    assert r.status_code == 303, r.text
    token = _token(s, server)
    name = f"app/{unique_name('confirm')}"
    kms.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1", SecretData="keep"))
    delete = {"csrf": token, "name": name, "days": "30", "force": "on"}
    ran = len(_audit(server, "", "DeleteSecret"))
    for confirm in ({}, {"confirm": ""}, {"confirm": name + "x"}, {"confirm": "app/other"}):
        kept = s.post(server.console_url + "secrets/secret/delete", data={**delete, **confirm},
                      allow_redirects=False, timeout=30)
        assert kept.status_code == 200, (confirm, kept.status_code)
        assert "ConfirmationRequired" in kept.text and "Nothing was deleted" in kept.text
        assert kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == "keep"
    assert len(_audit(server, "", "DeleteSecret")) == ran, "no DeleteSecret ran"
    gone = s.post(server.console_url + "secrets/secret/delete",
                  data={**delete, "confirm": f" {name} "}, allow_redirects=False, timeout=30)
    assert gone.status_code == 303 and gone.headers["Location"].endswith("secrets?done=deleted")
    listed = kms.call(sdk_request("ListSecrets", Filters=json.dumps(
        [{"Key": "SecretName", "Values": [name]}])))
    assert listed["TotalCount"] == 0, listed
    # key material
    key_id = external_key(kms)["KeyId"]
    import_material(kms, key_id, os.urandom(32))
    path = f"keys/{key_id}/delete-material"
    for confirm in ({}, {"confirm": key_id[:-1]}, {"confirm": "alias/x"}):
        kept = s.post(server.console_url + path, data={"csrf": token, **confirm},
                      allow_redirects=False, timeout=30)
        assert kept.status_code == 200 and "ConfirmationRequired" in kept.text, kept.text
        assert describe(kms, key_id)["KeyState"] == "Enabled"
    done = s.post(server.console_url + path, data={"csrf": token, "confirm": key_id},
                  allow_redirects=False, timeout=30)
    assert done.status_code == 303 and "done=material-deleted" in done.headers["Location"]
    assert describe(kms, key_id)["KeyState"] == "PendingImport"
