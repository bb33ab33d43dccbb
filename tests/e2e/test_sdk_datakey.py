"""GenerateDataKey and GenerateDataKeyWithoutPlaintext through the official old Python SDK.

A data key's CiphertextBlob decrypts with the ordinary Decrypt to exactly the Plaintext that
GenerateDataKey returned (base64 of the raw key bytes). KeySpec and NumberOfBytes choose the
length (32 bytes by default, AES_128 = 16, NumberOfBytes 1-1024 overriding KeySpec); anything
else is 400 InvalidParameter. The same key-reference and EncryptionContext rules as Encrypt.
"""

import base64
import json

import pytest
from aliyunsdkkms.request.v20160120 import (
    GenerateDataKeyRequest,
    GenerateDataKeyWithoutPlaintextRequest,
)

from e2ehelp import UUID_RE, decode_blob, unique_alias

CONTEXT = json.dumps({"app": "apollo", "purpose": "data key"})


def data_key_request(key_id, without_plaintext=False, **params):
    cls = (GenerateDataKeyWithoutPlaintextRequest.GenerateDataKeyWithoutPlaintextRequest
           if without_plaintext else GenerateDataKeyRequest.GenerateDataKeyRequest)
    req = cls()
    req.set_KeyId(key_id)
    for name, value in params.items():
        getattr(req, f"set_{name}")(value)
    return req


def raw_key(plaintext: str) -> bytes:
    """The data key bytes: Plaintext must be standard, padded base64."""
    assert isinstance(plaintext, str) and plaintext, f"Plaintext is not a string: {plaintext!r}"
    return base64.b64decode(plaintext, validate=True)


def test_generate_data_key_decrypts_to_its_plaintext(kms, key):
    got = kms.call(data_key_request(key["KeyId"]))
    assert set(got) >= {"KeyId", "KeyVersionId", "CiphertextBlob", "Plaintext", "RequestId"}
    assert got["KeyId"] == key["KeyId"]
    assert UUID_RE.match(got["KeyVersionId"])
    assert len(raw_key(got["Plaintext"])) == 32
    decode_blob(got["CiphertextBlob"])

    dec = kms.decrypt(got["CiphertextBlob"])
    assert dec["Plaintext"] == got["Plaintext"]
    assert dec["KeyId"] == key["KeyId"]
    assert dec["KeyVersionId"] == got["KeyVersionId"]


def test_every_data_key_is_fresh(kms, key):
    keys = {kms.call(data_key_request(key["KeyId"]))["Plaintext"] for _ in range(5)}
    assert len(keys) == 5


@pytest.mark.parametrize("params, length", [
    ({}, 32),
    ({"KeySpec": "AES_256"}, 32),
    ({"KeySpec": "AES_128"}, 16),
    ({"NumberOfBytes": 16}, 16),
    ({"NumberOfBytes": 1}, 1),
    ({"NumberOfBytes": 1024}, 1024),
    ({"NumberOfBytes": 64, "KeySpec": "AES_128"}, 64),
])
def test_key_spec_and_number_of_bytes_choose_the_length(kms, key, params, length):
    got = kms.call(data_key_request(key["KeyId"], **params))
    assert len(raw_key(got["Plaintext"])) == length
    assert kms.decrypt(got["CiphertextBlob"])["Plaintext"] == got["Plaintext"]


@pytest.mark.parametrize("params", [
    {"NumberOfBytes": 0},
    {"NumberOfBytes": 1025},
    {"NumberOfBytes": -1},
    {"NumberOfBytes": "sixteen"},
    {"KeySpec": "AES_512"},
    {"KeySpec": "aes_256"},
])
@pytest.mark.parametrize("without_plaintext", [False, True])
def test_bad_lengths_are_invalid_parameter(kms, key, params, without_plaintext):
    kms.error(data_key_request(key["KeyId"], without_plaintext, **params), 400, "InvalidParameter")


def test_without_plaintext_returns_only_the_blob(kms, key):
    got = kms.call(data_key_request(key["KeyId"], without_plaintext=True))
    assert "Plaintext" not in got
    assert set(got) >= {"KeyId", "KeyVersionId", "CiphertextBlob", "RequestId"}
    assert got["KeyId"] == key["KeyId"]
    dec = kms.decrypt(got["CiphertextBlob"])
    assert len(raw_key(dec["Plaintext"])) == 32
    assert dec["KeyVersionId"] == got["KeyVersionId"]

    got = kms.call(data_key_request(key["KeyId"], without_plaintext=True, KeySpec="AES_128"))
    assert len(raw_key(kms.decrypt(got["CiphertextBlob"])["Plaintext"])) == 16


@pytest.mark.parametrize("without_plaintext", [False, True])
def test_alias_and_arn_name_the_key(kms, key, without_plaintext):
    alias = unique_alias("alias/e2e/datakey")
    kms.create_alias(alias, key["KeyId"])
    for ref in (alias, key["Arn"]):
        got = kms.call(data_key_request(ref, without_plaintext))
        assert got["KeyId"] == key["KeyId"]
        assert kms.decrypt(got["CiphertextBlob"])["KeyId"] == key["KeyId"]


@pytest.mark.parametrize("without_plaintext", [False, True])
def test_encryption_context_binds_the_data_key(kms, key, without_plaintext):
    got = kms.call(data_key_request(key["KeyId"], without_plaintext, EncryptionContext=CONTEXT))
    blob = got["CiphertextBlob"]
    dec = kms.decrypt(blob, context=CONTEXT)
    if not without_plaintext:
        assert dec["Plaintext"] == got["Plaintext"]
    kms.error(kms.decrypt_request(blob), 400, "InvalidParameter")
    kms.error(kms.decrypt_request(blob, context=json.dumps({"app": "other"})), 400,
              "InvalidParameter")


@pytest.mark.parametrize("without_plaintext", [False, True])
def test_unknown_key_and_alias(kms, without_plaintext):
    kms.error(data_key_request("00000000-0000-4000-8000-000000000000", without_plaintext),
              404, "Forbidden.KeyNotFound")
    kms.error(data_key_request(unique_alias("alias/e2e/none"), without_plaintext),
              404, "Forbidden.AliasNotFound")


def test_key_id_is_required(kms):
    req = GenerateDataKeyRequest.GenerateDataKeyRequest()
    kms.error(req, 400, "MissingParameter")
