"""Encrypt and Decrypt with the old SDK: every way of naming the key, the blob's wire form,
raw and base64 plaintexts, and the 6144-byte limit."""

import base64
import os

import pytest

from e2ehelp import UUID_RE, decode_blob, unique_alias


def test_encrypt_response_and_blob_layout(kms, key):
    enc = kms.encrypt(key["KeyId"], "aGVsbG8gd29ybGQ=")
    assert set(enc) >= {"KeyId", "KeyVersionId", "CiphertextBlob", "RequestId"}
    assert enc["KeyId"] == key["KeyId"]
    assert UUID_RE.match(enc["KeyVersionId"])
    assert enc["KeyVersionId"] == key["PrimaryKeyVersion"]
    raw = decode_blob(enc["CiphertextBlob"])
    assert raw[:36] == enc["KeyVersionId"].encode("ascii")
    assert len(raw) > 36 + len("aGVsbG8gd29ybGQ=")  # version id, then nonce + ciphertext + tag


def test_decrypt_response(kms, key):
    enc = kms.encrypt(key["KeyId"], "aGVsbG8gd29ybGQ=")
    dec = kms.decrypt(enc["CiphertextBlob"])
    assert set(dec) >= {"KeyId", "KeyVersionId", "Plaintext", "RequestId"}
    assert dec["KeyId"] == key["KeyId"]
    assert dec["KeyVersionId"] == enc["KeyVersionId"]
    assert dec["Plaintext"] == "aGVsbG8gd29ybGQ="


def test_base64_plaintext_round_trips_the_exact_string(kms, key):
    data = os.urandom(1000)
    b64 = base64.b64encode(data).decode()
    dec = kms.decrypt(kms.encrypt(key["KeyId"], b64)["CiphertextBlob"])
    assert dec["Plaintext"] == b64
    assert base64.b64decode(dec["Plaintext"]) == data


@pytest.mark.parametrize("text", [
    "plaintext",  # not base64 (Terraform's acceptance test)
    "hello wörld +/*~ 你好 &=%?#",
    "-----BEGIN X-----\r\nline two\n\ttabbed\n",
    " leading and trailing spaces ",
])
def test_raw_text_plaintext_round_trips(kms, key, text):
    assert kms.decrypt(kms.encrypt(key["KeyId"], text)["CiphertextBlob"])["Plaintext"] == text


def test_encrypt_by_alias_returns_the_real_key_id(kms, key):
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    enc = kms.encrypt(alias, "by alias")
    assert enc["KeyId"] == key["KeyId"]
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "by alias"


def test_encrypt_by_arn_returns_the_real_key_id(kms, key):
    enc = kms.encrypt(key["Arn"], "by arn")
    assert enc["KeyId"] == key["KeyId"]
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "by arn"


def test_encryptions_are_randomised(kms, key):
    a = kms.encrypt(key["KeyId"], "same")["CiphertextBlob"]
    b = kms.encrypt(key["KeyId"], "same")["CiphertextBlob"]
    assert a != b


def test_blob_of_one_key_decrypts_to_that_key(kms):
    k1, k2 = kms.create_key(), kms.create_key()
    b1 = kms.encrypt(k1["KeyId"], "one")["CiphertextBlob"]
    b2 = kms.encrypt(k2["KeyId"], "two")["CiphertextBlob"]
    assert (kms.decrypt(b1)["KeyId"], kms.decrypt(b1)["Plaintext"]) == (k1["KeyId"], "one")
    assert (kms.decrypt(b2)["KeyId"], kms.decrypt(b2)["Plaintext"]) == (k2["KeyId"], "two")


def test_plaintext_of_6144_bytes_is_accepted(kms, key):
    text = "A" * 6144
    assert kms.decrypt(kms.encrypt(key["KeyId"], text)["CiphertextBlob"])["Plaintext"] == text


def test_plaintext_of_6145_bytes_is_rejected(kms, key):
    err = kms.error(kms.encrypt_request(key["KeyId"], "A" * 6145), 400, "InvalidParameter")
    assert "6144" in err.message, f"message does not state the limit: {err.message!r}"


def test_plaintext_limit_counts_utf8_bytes(kms, key):
    ok = "é" * 3072  # 6144 bytes
    assert kms.decrypt(kms.encrypt(key["KeyId"], ok)["CiphertextBlob"])["Plaintext"] == ok
    kms.error(kms.encrypt_request(key["KeyId"], "é" * 3073), 400, "InvalidParameter")  # 6146 B
