"""Decrypt failures say nothing about what went wrong: a tampered, truncated or garbage blob
and a wrong EncryptionContext all give 400 InvalidParameter with one and the same message.
Missing required parameters give 400 MissingParameter naming the parameter."""

import json
import os

import pytest

from e2ehelp import decode_blob, encode_blob

CONTEXT = json.dumps({"a": "1", "b": "2"})


@pytest.fixture
def blob(kms):
    key = kms.create_key()
    return kms.encrypt(key["KeyId"], "do not tell", context=CONTEXT)["CiphertextBlob"]


def flip(raw: bytes, index: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1:]


def failing_decrypts(blob: str) -> dict:
    raw = decode_blob(blob)
    return {
        "tampered-after-version": (encode_blob(flip(raw, 36)), CONTEXT),
        "tampered-last-byte": (encode_blob(flip(raw, len(raw) - 1)), CONTEXT),
        "tampered-middle": (encode_blob(flip(raw, 36 + (len(raw) - 36) // 2)), CONTEXT),
        "truncated-by-one": (encode_blob(raw[:-1]), CONTEXT),
        "truncated-to-version": (encode_blob(raw[:36]), CONTEXT),
        "truncated-inside-version": (encode_blob(raw[:20]), CONTEXT),
        "garbage-base64": (encode_blob(os.urandom(80)), CONTEXT),
        "not-base64": ("this is *not* base64!", CONTEXT),
        "wrong-context": (blob, json.dumps({"a": "1", "b": "3"})),
        "no-context": (blob, None),
    }


def test_every_failed_decrypt_looks_the_same(kms, blob):
    messages = {}
    for name, (bad_blob, context) in failing_decrypts(blob).items():
        err = kms.error(kms.decrypt_request(bad_blob, context=context), 400, "InvalidParameter")
        messages[name] = err.message
    assert len(set(messages.values())) == 1, f"messages differ: {messages}"
    # and the untouched blob still decrypts
    assert kms.decrypt(blob, context=CONTEXT)["Plaintext"] == "do not tell"


@pytest.mark.parametrize("case", ["tampered-after-version", "truncated-by-one", "garbage-base64",
                                  "wrong-context"])
def test_each_failed_decrypt_is_invalid_parameter(kms, blob, case):
    bad_blob, context = failing_decrypts(blob)[case]
    kms.error(kms.decrypt_request(bad_blob, context=context), 400, "InvalidParameter")


def test_blob_moved_to_another_key_version_does_not_decrypt(kms, blob):
    """The first 36 bytes swapped for another existing key's version: same opaque failure."""
    raw = decode_blob(blob)
    other = kms.create_key()["PrimaryKeyVersion"].encode("ascii")
    swapped = encode_blob(other + raw[36:])
    kms.error(kms.decrypt_request(swapped, context=CONTEXT), 400, "InvalidParameter")


def test_encrypt_without_plaintext(kms):
    key = kms.create_key()
    err = kms.error(kms.encrypt_request(key["KeyId"], None), 400, "MissingParameter")
    assert "Plaintext" in err.message


def test_encrypt_without_key_id(kms):
    err = kms.error(kms.encrypt_request(None, "x"), 400, "MissingParameter")
    assert "KeyId" in err.message


def test_decrypt_without_ciphertext_blob(kms):
    err = kms.error(kms.decrypt_request(None), 400, "MissingParameter")
    assert "CiphertextBlob" in err.message
