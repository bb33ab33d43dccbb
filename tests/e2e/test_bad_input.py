"""The bad-input catalogue (docs/bad-input.md), run: every class of malformed or hostile request
sent raw to a server of this module's own, with the answer it must get (status and Code), a
RequestId in it, and no change of state (ListKeys, ListAliases, DescribeKey and the tags of
every key are the same before and after).

Each row builds its request from scratch (V1-signed with the root AccessKey unless the row is
about signing), so a row says exactly what is wrong with it. Rows the HTTP layer answers
itself (a request line that is not HTTP) carry no RequestId: the row says so, and
docs/bad-input.md explains it. Throttling and audit flood control are covered where they are
built (see docs/configuration.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

import pytest
import requests

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, API_VERSION, REGION_ID, own_kms,
                     percent_encode, utc_timestamp, v1_signature)

ACCOUNT = "1234567890123456"


# ---------------------------------------------------------------------------------------
# building and sending raw requests


@dataclass
class Req:
    """One request, described by what is in it (and what is wrong with it)."""

    action: str | None
    query: list = field(default_factory=list)      # business pairs in the query string
    form: list | None = None                       # pairs in a form body
    method: str = "POST"
    path: str = "/"
    drop: tuple = ()                               # common parameters left out
    common: dict = field(default_factory=dict)     # common parameters replaced
    signed: bool = True
    secret: str = ACCESS_KEY_SECRET
    signature: str | None = None                   # sent instead of the computed one
    headers: dict = field(default_factory=dict)
    raw_body: bytes | None = None                  # sent instead of the form


def common_pairs(req: Req) -> list:
    pairs = {"Version": API_VERSION, "Format": "JSON", "AccessKeyId": ACCESS_KEY_ID,
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
             "SignatureNonce": uuid.uuid4().hex, "Timestamp": utc_timestamp(),
             "SignatureType": "", "RegionId": REGION_ID}
    if req.action is not None:
        pairs["Action"] = req.action
    pairs.update(req.common)
    return [(k, v) for k, v in pairs.items() if k not in req.drop]


def sign(method: str, pairs: list, secret: str) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(pairs))
    sts = method.upper() + "&" + percent_encode("/") + "&" + percent_encode(canonical)
    return v1_signature(sts, secret)


def encode(pairs: list) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def send(server, req: Req) -> Reply:
    query = req.query + common_pairs(req)
    signed_pairs = query + (req.form or [])
    if req.signed:
        query = query + [("Signature", req.signature or sign(req.method, signed_pairs, req.secret))]
    headers = {"Accept": "application/json", **req.headers}
    body = req.raw_body
    if body is None and req.form is not None:
        body = encode(req.form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    url = f"{server.url}{req.path}?{encode(query)}"
    resp = requests.request(req.method, url, data=body, headers=headers, verify=server.verify,
                            timeout=60, allow_redirects=False)
    return Reply(resp.status_code, resp.content)


def call(server, action: str, **params) -> dict:
    """A well-formed signed call that must succeed."""
    reply = send(server, Req(action, query=list(params.items())))
    assert reply.status == 200, reply.body
    return reply.json()


def raw_exchange(server, data: bytes, wait: float = 10.0) -> bytes:
    """Sends `data` on a fresh TLS connection, returns what comes back until close or `wait`."""
    ctx = ssl.create_default_context(cafile=str(server.ca_path))
    host, port = server.url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            tls.sendall(data)
            out = b""
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    chunk = tls.recv(65536)
                except (socket.timeout, ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and _complete(out):
                    break
            return out


def _complete(reply: bytes) -> bool:
    head, _, body = reply.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def parse_http(reply: bytes) -> Reply:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return Reply(status, body)


def signed_head_request(server, action: str, extra_headers: str = "", body: bytes = b"",
                        content_length: int | None = None) -> bytes:
    """The bytes of a V1-signed POST with `extra_headers` lines and `body`."""
    req = Req(action)
    query = common_pairs(req)
    query.append(("Signature", sign("POST", query, ACCESS_KEY_SECRET)))
    host = server.url.split("://")[1]
    length = len(body) if content_length is None else content_length
    return (f"POST /?{encode(query)} HTTP/1.1\r\nhost: {host}\r\naccept: application/json\r\n"
            f"{extra_headers}content-length: {length}\r\n\r\n").encode() + body


# ---------------------------------------------------------------------------------------
# the server, its fixtures and its state


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    for kms in own_kms(tmp_path_factory, "badinput"):
        server = kms.server
        enabled = call(server, "CreateKey", Description="bad-input")["KeyMetadata"]["KeyId"]
        call(server, "CreateAlias", KeyId=enabled, AliasName="alias/bad-input")
        disabled = call(server, "CreateKey")["KeyMetadata"]["KeyId"]
        call(server, "DisableKey", KeyId=disabled)
        pending = call(server, "CreateKey")["KeyMetadata"]["KeyId"]
        call(server, "ScheduleKeyDeletion", KeyId=pending, PendingWindowInDays="7")
        blob = call(server, "Encrypt", KeyId=enabled, Plaintext="aGk=",
                    EncryptionContext='{"a":"b"}')["CiphertextBlob"]
        yield {"server": server, "enabled": enabled, "disabled": disabled, "pending": pending,
               "blob": blob}


def snapshot(w) -> str:
    server = w["server"]
    keys = call(server, "ListKeys", PageSize="100")["Keys"]
    aliases = call(server, "ListAliases", PageSize="100")["Aliases"]
    described = [call(server, "DescribeKey", KeyId=k["KeyId"])["KeyMetadata"]
                 for k in keys["Key"]]
    tags = [call(server, "ListResourceTags", KeyId=k["KeyId"])["Tags"] for k in keys["Key"]]
    return json.dumps([keys, aliases, described, tags], sort_keys=True)


# ---------------------------------------------------------------------------------------
# the catalogue: (row id, request builder, status, Code)


def tampered(blob: str) -> str:
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def stale(minutes: int) -> str:
    return utc_timestamp(dt.timedelta(minutes=minutes))


RAM = {"Version": "2015-05-01"}


def b64url(value) -> str:
    """base64url without padding of `value` as JSON: the unsealed cursors earlier builds wrote."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def altered_marker(w) -> str:
    """A real ListPolicies Marker (the built-in policies page by one) with one byte changed."""
    reply = send(w["server"], Req("ListPolicies", [("MaxItems", "1")], common=RAM))
    marker = reply.json()["Marker"]
    raw = bytearray(base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)))
    raw[len(raw) // 2] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def numbered(name: str, suffix: str, n: int, value: str = "k") -> list:
    return [(f"{name}.{i}{suffix}", f"{value}{i}") for i in range(1, n + 1)]


ROWS = [
    # the request envelope
    ("missing-action", lambda w: Req(None), 400, "MissingParameter"),
    ("unknown-action", lambda w: Req("NoSuchAction"), 404, "InvalidAction.NotFound"),
    ("missing-version", lambda w: Req("ListKeys", drop=("Version",)), 400, "MissingParameter"),
    ("bad-version", lambda w: Req("ListKeys", common={"Version": "2099-01-01"}), 400,
     "InvalidVersion"),
    ("ram-action-under-kms-version", lambda w: Req("CreateUser", [("UserName", "u")]), 404,
     "InvalidAction.NotFound"),
    ("wrong-method", lambda w: Req("ListKeys", method="PUT"), 404, "InvalidAction.NotFound"),
    ("wrong-path", lambda w: Req("ListKeys", path="/v1/keys"), 404, "InvalidAction.NotFound"),
    # signatures
    ("unsigned", lambda w: Req("ListKeys", signed=False), 400, "MissingParameter"),
    ("wrong-signature", lambda w: Req("ListKeys", signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA="), 400,
     "SignatureDoesNotMatch"),
    ("wrong-secret", lambda w: Req("ListKeys", secret="not-the-secret-at-all"), 400,
     "SignatureDoesNotMatch"),
    ("unknown-access-key", lambda w: Req("ListKeys", common={"AccessKeyId": "LTAInobody"}), 404,
     "InvalidAccessKeyId.NotFound"),
    ("unsupported-signature-method",
     lambda w: Req("ListKeys", common={"SignatureMethod": "HMAC-SHA256"}), 400,
     "InvalidParameter"),
    ("unsupported-signature-version",
     lambda w: Req("ListKeys", common={"SignatureVersion": "2.0"}), 400, "InvalidParameter"),
    ("signed-as-get-sent-as-post",
     lambda w: Req("ListKeys", signature=sign("GET", common_pairs(Req("ListKeys")),
                                              ACCESS_KEY_SECRET)), 400, "SignatureDoesNotMatch"),
    ("security-token", lambda w: Req("ListKeys", common={"SecurityToken": "t"}), 400,
     "InvalidSecurityToken.Malformed"),
    ("v3-authorization-garbage",
     lambda w: Req("ListKeys", signed=False, headers={"Authorization": "ACS3-HMAC-SHA256 x"}),
     400, "IncompleteSignature"),
    # freshness
    ("expired-timestamp", lambda w: Req("ListKeys", common={"Timestamp": stale(-20)}), 400,
     "InvalidTimeStamp.Expired"),
    ("future-timestamp", lambda w: Req("ListKeys", common={"Timestamp": stale(20)}), 400,
     "InvalidTimeStamp.Expired"),
    ("malformed-timestamp", lambda w: Req("ListKeys", common={"Timestamp": "yesterday"}), 400,
     "InvalidTimeStamp.Format"),
    # sizes and repeats
    ("oversized-body", lambda w: Req("ListKeys", form=[("Pad", "x" * (130 * 1024))]), 413,
     "InvalidParameter"),
    ("overlong-key-id", lambda w: Req("DescribeKey", form=[("KeyId", "k" * 60_000)]), 400,
     "InvalidParameter"),
    ("overlong-alias-name",
     lambda w: Req("CreateAlias", [("KeyId", w["enabled"]), ("AliasName", "alias/" + "a" * 256)]),
     400, "InvalidParameter"),
    ("overlong-description",
     lambda w: Req("UpdateKeyDescription", form=[("KeyId", w["enabled"]),
                                                 ("Description", "d" * 8193)]),
     400, "InvalidParameter"),
    ("overlong-plaintext",
     lambda w: Req("Encrypt", form=[("KeyId", w["enabled"]), ("Plaintext", "p" * 6145)]), 400,
     "InvalidParameter"),
    ("overlong-context-value",
     lambda w: Req("Encrypt", [("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                               ("EncryptionContext", json.dumps({"k": "v" * 4097}))]),
     400, "InvalidParameter"),
    ("duplicate-in-query-and-body",
     lambda w: Req("DisableKey", [("KeyId", w["enabled"])], form=[("KeyId", w["disabled"])]),
     400, "InvalidParameter"),
    ("duplicate-identical-in-query",
     lambda w: Req("DisableKey", [("KeyId", w["enabled"]), ("KeyId", w["enabled"])]), 400,
     "InvalidParameter"),
    ("duplicate-action",
     lambda w: Req("DescribeKey", [("KeyId", w["enabled"]), ("Action", "DisableKey")]), 400,
     "InvalidParameter"),
    # how many parameters and list items (counted before the signature: these are unsigned)
    ("too-many-parameters",
     lambda w: Req("ListKeys", form=[(f"Pad{i}", "x") for i in range(300)], signed=False), 400,
     "InvalidParameter"),
    ("overlong-resource-id-list",
     lambda w: Req("ListTagResources", form=[("ResourceType", "key")]
                   + numbered("ResourceId", "", 51), signed=False), 400, "InvalidParameter"),
    ("overlong-tag-list",
     lambda w: Req("TagResources", form=[("ResourceType", "key"), ("ResourceId.1", w["enabled"])]
                   + numbered("Tag", ".Key", 41), signed=False), 400, "InvalidParameter"),
    ("overlong-tag-key-list",
     lambda w: Req("UntagResources", form=[("ResourceType", "key"),
                                           ("ResourceId.1", w["enabled"])]
                   + numbered("TagKey", "", 21), signed=False), 400, "InvalidParameter"),
    ("twenty-one-tags",
     lambda w: Req("TagResources", form=[("ResourceType", "key"), ("ResourceId.1", w["enabled"])]
                   + numbered("Tag", ".Key", 21)), 400, "InvalidParameter"),
    # ciphertexts
    ("bad-base64", lambda w: Req("Decrypt", [("CiphertextBlob", "!!not base64!!")]), 400,
     "InvalidParameter"),
    ("not-a-ciphertext", lambda w: Req("Decrypt", [("CiphertextBlob", "aGVsbG8=")]), 400,
     "InvalidParameter"),
    ("tampered-ciphertext",
     lambda w: Req("Decrypt", [("CiphertextBlob", tampered(w["blob"])),
                               ("EncryptionContext", '{"a":"b"}')]), 400, "InvalidParameter"),
    ("wrong-context", lambda w: Req("Decrypt", [("CiphertextBlob", w["blob"]),
                                                ("EncryptionContext", '{"a":"c"}')]),
     400, "InvalidParameter"),
    # contexts in their three forms
    ("context-json-not-object",
     lambda w: Req("Encrypt", [("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                               ("EncryptionContext", "[1]")]), 400, "InvalidParameter"),
    ("context-json-non-string",
     lambda w: Req("Encrypt", [("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                               ("EncryptionContext", '{"a":1}')]), 400, "InvalidParameter"),
    ("context-flattened-overlong-key",
     lambda w: Req("Encrypt", form=[("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                                    ("EncryptionContext." + "k" * 1025, "v")]),
     400, "InvalidParameter"),
    ("context-numbered-half-pair",
     lambda w: Req("Encrypt", [("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                               ("EncryptionContext.1.Key", "k")]), 400, "InvalidParameter"),
    # keys, aliases and states
    ("unknown-key", lambda w: Req("DescribeKey", [("KeyId", str(uuid.uuid4()))]), 404,
     "Forbidden.KeyNotFound"),
    ("unknown-alias", lambda w: Req("DescribeKey", [("KeyId", "alias/no-such-alias")]), 404,
     "Forbidden.AliasNotFound"),
    ("arn-of-another-account",
     lambda w: Req("DescribeKey", [("KeyId", f"acs:kms:{REGION_ID}:999:key/{w['enabled']}")]),
     404, "Forbidden.KeyNotFound"),
    ("disabled-key", lambda w: Req("Encrypt", [("KeyId", w["disabled"]), ("Plaintext", "aGk=")]),
     409, "Rejected.Disabled"),
    ("pending-deletion-key",
     lambda w: Req("Encrypt", [("KeyId", w["pending"]), ("Plaintext", "aGk=")]), 409,
     "Rejected.PendingDeletion"),
    ("reserved-alias-prefix",
     lambda w: Req("CreateAlias", [("KeyId", w["enabled"]), ("AliasName", "alias/acs/x")]), 400,
     "InvalidParameter"),
    # characters, numbers, lists and documents
    ("control-character",
     lambda w: Req("UpdateKeyDescription", [("KeyId", w["enabled"]), ("Description", "a\x01b")]),
     400, "InvalidParameter"),
    ("nul-in-alias",
     lambda w: Req("CreateAlias", [("KeyId", w["enabled"]), ("AliasName", "alias/a\x00b")]), 400,
     "InvalidParameter"),
    ("non-canonical-list-index",
     lambda w: Req("TagResources", [("RegionId", REGION_ID), ("ResourceType", "key"),
                                    ("ResourceId.01", w["enabled"]), ("Tag.1.Key", "k"),
                                    ("Tag.1.Value", "v")]), 400, "InvalidParameter"),
    ("page-size-out-of-range", lambda w: Req("ListKeys", [("PageSize", "101")]), 400,
     "InvalidParameter"),
    ("page-number-not-a-number", lambda w: Req("ListKeys", [("PageNumber", "x")]), 400,
     "InvalidParameter"),
    ("number-of-bytes-out-of-range",
     lambda w: Req("GenerateDataKey", [("KeyId", w["enabled"]), ("NumberOfBytes", "2000")]), 400,
     "InvalidParameter"),
    ("pending-window-out-of-range",
     lambda w: Req("ScheduleKeyDeletion", [("KeyId", w["enabled"]),
                                           ("PendingWindowInDays", "3")]), 400,
     "InvalidParameter"),
    ("bad-boolean", lambda w: Req("Encrypt", [("KeyId", w["enabled"]), ("Plaintext", "aGk="),
                                              ("DryRun", "maybe")]), 400, "InvalidParameter"),
    ("bad-json-tags", lambda w: Req("CreateKey", [("Tags", "[{")]), 400, "InvalidParameter"),
    ("bad-json-key-policy",
     lambda w: Req("SetKeyPolicy", [("KeyId", w["enabled"]), ("PolicyName", "default"),
                                    ("Policy", "{")]), 400, "InvalidParameter"),
    ("bad-json-ram-policy",
     lambda w: Req("CreatePolicy", [("PolicyName", "p1"), ("PolicyDocument", "{")],
                   common={"Version": "2015-05-01"}), 400, "MalformedPolicyDocument"),
    # listing cursors: sealed, so neither readable nor made by a client
    ("forged-next-token",
     lambda w: Req("ListTagResources", [("ResourceType", "key"),
                                        ("NextToken", b64url(["tags", w["enabled"], "k"]))]),
     400, "InvalidParameter"),
    ("altered-marker",
     lambda w: Req("ListPolicies", [("MaxItems", "1"), ("Marker", altered_marker(w))],
                   common=RAM), 400, "InvalidParameter"),
    ("forged-marker",
     lambda w: Req("ListUsers", [("Marker", b64url(["user", "x"]))], common=RAM), 400,
     "InvalidParameter"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_refused_and_changes_nothing(world, row):
    _, build, status, code = row
    before = snapshot(world)
    reply = send(world["server"], build(world))
    assert reply.status == status, (reply.status, reply.body[:400])
    body = reply.json()
    assert body.get("Code") == code, body
    assert body.get("RequestId"), body
    assert snapshot(world) == before


def test_a_reused_nonce_is_refused(world):
    server = world["server"]
    nonce = uuid.uuid4().hex
    first = send(server, Req("ListKeys", common={"SignatureNonce": nonce}))
    assert first.status == 200
    before = snapshot(world)
    again = send(server, Req("ListKeys", common={"SignatureNonce": nonce}))
    assert (again.status, again.json()["Code"]) == (400, "SignatureNonceUsed")
    assert again.json()["RequestId"]
    assert snapshot(world) == before


def test_an_oversized_head_is_431_with_a_request_id(world):
    server = world["server"]
    before = snapshot(world)
    padding = "x-padding: " + "p" * (150 * 1024) + "\r\n"
    reply = parse_http(raw_exchange(server, signed_head_request(server, "ListKeys", padding)))
    assert reply.status == 431
    body = reply.json()
    assert body["Code"] == "InvalidParameter" and body["RequestId"]
    assert snapshot(world) == before


def test_a_malformed_request_line_is_400_without_a_request_id(world):
    """Answered by the HTTP layer itself: no RequestId reaches the client (the audit log has
    a line for it, see docs/bad-input.md)."""
    server = world["server"]
    before = snapshot(world)
    reply = parse_http(raw_exchange(server, b"THIS IS NOT HTTP\r\n\r\n"))
    assert reply.status == 400
    assert snapshot(world) == before


def test_a_stalled_body_is_408(start_server):
    server = start_server(args=["--request-timeout-secs", "1"])
    data = signed_head_request(server, "ListKeys", content_length=100)  # announces, never sends
    reply = parse_http(raw_exchange(server, data, wait=20))
    assert reply.status == 408
    body = reply.json()
    assert body["Code"] == "RequestTimeout" and body["RequestId"]
