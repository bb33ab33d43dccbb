"""EncryptionContext is compared as a JSON map (spec section 7.5), not as text; any other map,
a missing one or an extra one fails Decrypt with 400 InvalidParameter."""

import json

import pytest

CONTEXT = json.dumps({"a": "1", "b": "2"})  # '{"a": "1", "b": "2"}', as Python SDK users write it


@pytest.fixture
def sealed(kms):
    key = kms.create_key()
    enc = kms.encrypt(key["KeyId"], "context-bound secret", context=CONTEXT)
    return key, enc["CiphertextBlob"]


@pytest.mark.parametrize("equivalent", [
    CONTEXT,
    '{"b":"2","a":"1"}',
    '{ "b" : "2" ,\n  "a" : "1" }',
    json.dumps({"b": "2", "a": "1"}, indent=2),
])
def test_equivalent_context_decrypts(kms, sealed, equivalent):
    key, blob = sealed
    dec = kms.decrypt(blob, context=equivalent)
    assert dec["Plaintext"] == "context-bound secret"
    assert dec["KeyId"] == key["KeyId"]


@pytest.mark.parametrize("wrong", [
    pytest.param(json.dumps({"a": "1", "b": "3"}), id="different-value"),
    pytest.param(json.dumps({"a": "1", "c": "2"}), id="different-key"),
    pytest.param(json.dumps({"a": "1"}), id="missing-key"),
    pytest.param(json.dumps({"a": "1", "b": "2", "c": "3"}), id="extra-key"),
])
def test_different_context_fails(kms, sealed, wrong):
    _, blob = sealed
    kms.error(kms.decrypt_request(blob, context=wrong), 400, "InvalidParameter")


def test_missing_context_fails(kms, sealed):
    _, blob = sealed
    kms.error(kms.decrypt_request(blob), 400, "InvalidParameter")


def test_context_given_only_at_decrypt_fails(kms):
    key = kms.create_key()
    blob = kms.encrypt(key["KeyId"], "no context")["CiphertextBlob"]
    kms.error(kms.decrypt_request(blob, context=CONTEXT), 400, "InvalidParameter")
    assert kms.decrypt(blob)["Plaintext"] == "no context"


def test_context_with_special_characters(kms):
    key = kms.create_key()
    context = json.dumps({"purpose": "test a*b~c", "ünï": "+/= &"})
    blob = kms.encrypt(key["KeyId"], "x", context=context)["CiphertextBlob"]
    reordered = json.dumps({"ünï": "+/= &", "purpose": "test a*b~c"}, ensure_ascii=False,
                           separators=(",", ":"))
    assert kms.decrypt(blob, context=reordered)["Plaintext"] == "x"


def test_context_that_is_not_a_json_object_is_rejected_at_encrypt(kms):
    key = kms.create_key()
    kms.error(kms.encrypt_request(key["KeyId"], "x", context="not json"), 400, "InvalidParameter")
