"""EncryptionContext keys that are awkward on the wire (issue 12), through every Python client:

* the old Python SDK (RPC signature V1), with the context as JSON and flattened into
  ``EncryptionContext.<key>=<value>`` parameters, which it signs sorted by raw name (spec 2.2);
* the Tea SDK, over signature V3 and over its V1 path (``signature_algorithm='v2'``).

The keys hold ``/``, ``:``, ``%``, a space, a multi-byte UTF-8 name, a name above U+FFFF and
one in U+E000-U+FFFF (the two orders of the SDKs differ on those two), beside plain ASCII.
Encrypt, Decrypt, GenerateDataKey and ReEncrypt each carry such a context.
"""

from __future__ import annotations

import base64
import json

import pytest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.models import Config

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID, OpenKms, assert_raw_error,
                     sdk_request, signed_request)

AWKWARD = {
    "plain": "v",
    "app.name": "web",
    "app/env": "prod",
    "a:b": "c:d",
    "p%q": "50%",
    "with space": "x y",
    "名前": "値",
    "😀": "smile",
    "Ａ": "fullwidth",
}
JSON_CONTEXT = json.dumps(AWKWARD, ensure_ascii=False)
SHUFFLED_JSON = json.dumps(dict(reversed(list(AWKWARD.items()))))


def flattened(req, name: str, context: dict):
    """Adds ``name.<key>=<value>`` for each entry; the SDK signs them with the rest."""
    for key, value in context.items():
        req.add_query_param(f"{name}.{key}", value)
    return req


def test_old_sdk_json_context_through_every_crypto_action(kms, key):
    kid = key["KeyId"]
    enc = kms.encrypt(kid, "awkward", context=JSON_CONTEXT)
    assert kms.decrypt(enc["CiphertextBlob"], context=SHUFFLED_JSON)["Plaintext"] == "awkward"
    gdk = kms.call(sdk_request("GenerateDataKey", KeyId=kid, EncryptionContext=JSON_CONTEXT))
    other = {**AWKWARD, "😀": "another"}
    re = kms.call(sdk_request("ReEncrypt", CiphertextBlob=gdk["CiphertextBlob"],
                              SourceEncryptionContext=SHUFFLED_JSON, DestinationKeyId=kid,
                              DestinationEncryptionContext=json.dumps(other)))
    dec = kms.decrypt(re["CiphertextBlob"], context=json.dumps(other))
    assert dec["Plaintext"] == gdk["Plaintext"]


def test_old_sdk_flattened_context_is_signed_by_raw_name(kms, key):
    kid = key["KeyId"]
    req = flattened(kms.encrypt_request(kid, "flat"), "EncryptionContext", AWKWARD)
    enc = kms.call(req)
    # the flattened form equals the JSON form, both ways
    assert kms.decrypt(enc["CiphertextBlob"], context=JSON_CONTEXT)["Plaintext"] == "flat"
    req = flattened(kms.decrypt_request(enc["CiphertextBlob"]), "EncryptionContext", AWKWARD)
    assert kms.call(req)["Plaintext"] == "flat"
    gdk = kms.call(flattened(sdk_request("GenerateDataKey", KeyId=kid), "EncryptionContext",
                             AWKWARD))
    req = sdk_request("ReEncrypt", CiphertextBlob=gdk["CiphertextBlob"], DestinationKeyId=kid)
    flattened(req, "SourceEncryptionContext", AWKWARD)
    flattened(req, "DestinationEncryptionContext", {"a/b": "1", "a.c": "2"})
    re = kms.call(req)
    dec = kms.decrypt(re["CiphertextBlob"], context='{"a.c":"2","a/b":"1"}')
    assert dec["Plaintext"] == gdk["Plaintext"]


def numbered(name: str, context: dict, numbers) -> dict:
    """``name.<n>.Key=<key>&name.<n>.Value=<value>``, the n-th entry numbered ``numbers[n]``,
    as aliyungo sends a map (in Go's random map order)."""
    params = {}
    for n, (key, value) in zip(numbers, context.items()):
        params[f"{name}.{n}.Key"] = key
        params[f"{name}.{n}.Value"] = value
    return params


def test_numbered_pairs_equal_the_json_form_whatever_the_numbering(server, kms, key):
    count = len(AWKWARD)
    first = numbered("EncryptionContext", AWKWARD, range(1, count + 1))
    enc = signed_request(server, "Encrypt", {"KeyId": key["KeyId"], "Plaintext": "pairs", **first})
    assert enc.status == 200, enc.body
    blob = enc.json()["CiphertextBlob"]
    again = numbered("EncryptionContext", AWKWARD, reversed(range(1, count + 1)))
    assert list(again) != list(first)
    dec = signed_request(server, "Decrypt", {"CiphertextBlob": blob, **again})
    assert dec.status == 200, dec.body
    assert dec.json()["Plaintext"] == "pairs"
    assert kms.decrypt(blob, context=SHUFFLED_JSON)["Plaintext"] == "pairs"
    # and the other way round: sealed with JSON, opened with pairs numbered from 0
    sealed = kms.encrypt(key["KeyId"], "json first", context=JSON_CONTEXT)["CiphertextBlob"]
    zero = numbered("EncryptionContext", AWKWARD, [0, 7, 3, 10, 2, 5, 4, 6, 1])
    dec = signed_request(server, "Decrypt", {"CiphertextBlob": sealed, **zero})
    assert dec.status == 200, dec.body
    assert dec.json()["Plaintext"] == "json first"


@pytest.mark.parametrize("pairs", [
    pytest.param({"EncryptionContext.1.Key": "k"}, id="key-without-value"),
    pytest.param({"EncryptionContext.1.Value": "v"}, id="value-without-key"),
    pytest.param({"EncryptionContext.1.Key": "k", "EncryptionContext.1.Value": "v",
                  "EncryptionContext.2.Key": "k", "EncryptionContext.2.Value": "w"},
                 id="duplicate-key"),
])
def test_malformed_numbered_pairs_are_invalid_parameter(server, key, pairs):
    reply = signed_request(server, "Encrypt", {"KeyId": key["KeyId"], "Plaintext": "x", **pairs})
    assert_raw_error(reply, 400, "InvalidParameter")


@pytest.fixture(params=["v3", "v2"])
def tea(request, server: OpenKms) -> Client:
    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET,
                    region_id=REGION_ID, endpoint=f"127.0.0.1:{server.port}", protocol="https",
                    ca=str(server.ca_path), connect_timeout=30_000, read_timeout=30_000)
    if request.param == "v2":
        config.signature_algorithm = "v2"
    return Client(config)


def test_tea_sdk_awkward_context_through_every_crypto_action(tea, key):
    kid = key["KeyId"]
    plaintext = base64.b64encode(b"tea awkward").decode()
    enc = tea.encrypt(m.EncryptRequest(key_id=kid, plaintext=plaintext,
                                       encryption_context=dict(AWKWARD))).body
    reordered = dict(reversed(list(AWKWARD.items())))
    dec = tea.decrypt(m.DecryptRequest(ciphertext_blob=enc.ciphertext_blob,
                                       encryption_context=reordered)).body
    assert dec.plaintext == plaintext
    gdk = tea.generate_data_key(m.GenerateDataKeyRequest(
        key_id=kid, number_of_bytes=16, encryption_context=dict(AWKWARD))).body
    other = {"😀": "x", "Ａ": "y", "a/b": "z"}
    re = tea.re_encrypt(m.ReEncryptRequest(
        ciphertext_blob=gdk.ciphertext_blob, source_encryption_context=reordered,
        destination_key_id=kid, destination_encryption_context=other)).body
    dec = tea.decrypt(m.DecryptRequest(ciphertext_blob=re.ciphertext_blob,
                                       encryption_context=other)).body
    assert dec.plaintext == gdk.plaintext
