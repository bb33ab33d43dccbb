"""ReEncrypt through the old SDK: a ciphertext moves from one key and context to another
without the plaintext leaving the server."""

from __future__ import annotations

import json
import uuid

import pytest

from e2ehelp import Kms, audit_line, decode_blob, encode_blob, unique_alias
from e2ehelp import sdk_request as make


SRC_CTX = json.dumps({"purpose": "source", "tenant": "t1"})
DST_CTX = json.dumps({"purpose": "destination"})


def re_encrypt(kms: Kms, blob: str, dest: str, src_ctx: str | None = None,
               dst_ctx: str | None = None):
    params = {"CiphertextBlob": blob, "DestinationKeyId": dest}
    if src_ctx is not None:
        params["SourceEncryptionContext"] = src_ctx
    if dst_ctx is not None:
        params["DestinationEncryptionContext"] = dst_ctx
    return make("ReEncrypt", **params)


@pytest.fixture
def pair(kms):
    """Key A with a blob under SRC_CTX, key B named by a fresh alias."""
    a, b = kms.create_key(), kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, b["KeyId"])
    blob = kms.encrypt(a["KeyId"], "move me ✓", SRC_CTX)["CiphertextBlob"]
    return a, b, alias, blob


def test_re_encrypt_to_an_alias_with_a_new_context(server, kms, pair):
    a, b, alias, blob = pair
    reply = kms.call(re_encrypt(kms, blob, alias, SRC_CTX, DST_CTX))
    # the audit line names both keys: the destination, and the version that opened the blob
    line = audit_line(server, reply["RequestId"])
    assert (line["action"], line["key_id"], line["key_version_id"]) == \
        ("ReEncrypt", b["KeyId"], b["PrimaryKeyVersion"]), line
    assert (line["source_key_id"], line["source_key_version_id"]) == \
        (a["KeyId"], a["PrimaryKeyVersion"]), line
    assert set(reply) == {"KeyId", "KeyVersionId", "CiphertextBlob", "RequestId"}
    assert reply["KeyId"] == b["KeyId"]  # the real id, not the alias
    assert reply["KeyVersionId"] == b["PrimaryKeyVersion"]
    raw = decode_blob(reply["CiphertextBlob"])
    assert raw[:36] == b["PrimaryKeyVersion"].encode("ascii")
    assert reply["CiphertextBlob"] != blob
    dec = kms.decrypt(reply["CiphertextBlob"], DST_CTX)
    assert (dec["KeyId"], dec["KeyVersionId"], dec["Plaintext"]) == \
        (b["KeyId"], b["PrimaryKeyVersion"], "move me ✓")
    # the context order does not matter (compared as a map)
    assert kms.decrypt(reply["CiphertextBlob"], '{ "purpose" : "destination" }')["Plaintext"] \
        == "move me ✓"
    # the original is untouched
    assert kms.decrypt(blob, SRC_CTX)["Plaintext"] == "move me ✓"


def test_the_result_needs_the_destination_context(kms, pair):
    _a, _b, alias, blob = pair
    moved = kms.call(re_encrypt(kms, blob, alias, SRC_CTX, DST_CTX))["CiphertextBlob"]
    kms.error(kms.decrypt_request(moved), 400, "InvalidParameter")
    kms.error(kms.decrypt_request(moved, SRC_CTX), 400, "InvalidParameter")
    kms.error(kms.decrypt_request(moved, '{"purpose":"Destination"}'), 400, "InvalidParameter")


def test_re_encrypt_without_a_destination_context(kms, pair):
    _a, b, _alias, blob = pair
    moved = kms.call(re_encrypt(kms, blob, b["Arn"], SRC_CTX))["CiphertextBlob"]
    assert kms.decrypt(moved)["Plaintext"] == "move me ✓"
    kms.error(kms.decrypt_request(moved, DST_CTX), 400, "InvalidParameter")


@pytest.mark.parametrize("src_ctx", [
    pytest.param(None, id="missing"),
    pytest.param('{"purpose":"source"}', id="subset"),
    pytest.param('{"purpose":"source","tenant":"t2"}', id="other-value"),
    pytest.param(DST_CTX, id="destination-context"),
])
def test_wrong_source_context(kms, pair, src_ctx):
    _a, _b, alias, blob = pair
    kms.error(re_encrypt(kms, blob, alias, src_ctx, DST_CTX), 400, "InvalidParameter")


def test_re_encrypt_to_the_same_key_after_rotation(kms):
    key = kms.create_key()
    old = kms.encrypt(key["KeyId"], "rotate me")
    v2 = kms.call(make("CreateKeyVersion", KeyId=key["KeyId"]))["KeyVersion"]["KeyVersionId"]
    reply = kms.call(re_encrypt(kms, old["CiphertextBlob"], key["KeyId"]))
    assert (reply["KeyId"], reply["KeyVersionId"]) == (key["KeyId"], v2)
    assert decode_blob(reply["CiphertextBlob"])[:36] == v2.encode("ascii")
    dec = kms.decrypt(reply["CiphertextBlob"])
    assert (dec["KeyVersionId"], dec["Plaintext"]) == (v2, "rotate me")


def test_re_encrypt_a_data_key(kms, pair):
    a, b, _alias, _blob = pair
    gdk = kms.call(make("GenerateDataKey", KeyId=a["KeyId"], EncryptionContext=SRC_CTX))
    moved = kms.call(re_encrypt(kms, gdk["CiphertextBlob"], b["KeyId"], SRC_CTX))
    assert kms.decrypt(moved["CiphertextBlob"])["Plaintext"] == gdk["Plaintext"]


def test_re_encrypt_source_key_not_usable(kms, pair):
    a, _b, alias, blob = pair
    kms.call(make("DisableKey", KeyId=a["KeyId"]))
    kms.error(re_encrypt(kms, blob, alias, SRC_CTX), 409, "Rejected.Disabled")
    kms.call(make("EnableKey", KeyId=a["KeyId"]))
    kms.call(make("ScheduleKeyDeletion", KeyId=a["KeyId"], PendingWindowInDays=7))
    kms.error(re_encrypt(kms, blob, alias, SRC_CTX), 409, "Rejected.PendingDeletion")


def test_re_encrypt_destination_key_not_usable(kms, pair):
    _a, b, alias, blob = pair
    kms.call(make("DisableKey", KeyId=b["KeyId"]))
    kms.error(re_encrypt(kms, blob, alias, SRC_CTX), 409, "Rejected.Disabled")
    kms.call(make("EnableKey", KeyId=b["KeyId"]))
    kms.call(make("ScheduleKeyDeletion", KeyId=b["KeyId"], PendingWindowInDays=7))
    kms.error(re_encrypt(kms, blob, b["KeyId"], SRC_CTX), 409, "Rejected.PendingDeletion")


def test_re_encrypt_unknown_destination(kms, pair):
    _a, _b, _alias, blob = pair
    kms.error(re_encrypt(kms, blob, str(uuid.uuid4()), SRC_CTX), 404, "Forbidden.KeyNotFound")
    kms.error(re_encrypt(kms, blob, unique_alias("alias/lifecycle/none"), SRC_CTX), 404,
              "Forbidden.AliasNotFound")


def test_re_encrypt_bad_blobs_and_missing_parameters(kms, pair):
    _a, b, _alias, blob = pair
    raw = bytearray(decode_blob(blob))
    raw[-1] ^= 1
    kms.error(re_encrypt(kms, encode_blob(bytes(raw)), b["KeyId"], SRC_CTX), 400,
              "InvalidParameter")
    kms.error(re_encrypt(kms, "not base64 at all!", b["KeyId"], SRC_CTX), 400,
              "InvalidParameter")
    kms.error(make("ReEncrypt", DestinationKeyId=b["KeyId"]), 400, "MissingParameter")
    kms.error(make("ReEncrypt", CiphertextBlob=blob), 400, "MissingParameter")
    kms.error(re_encrypt(kms, blob, b["KeyId"], SRC_CTX, "not json"), 400, "InvalidParameter")
    kms.error(re_encrypt(kms, blob, b["KeyId"], "[1,2]"), 400, "InvalidParameter")
