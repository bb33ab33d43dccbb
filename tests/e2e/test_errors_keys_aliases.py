"""Errors about keys and aliases, each as the SDK's ServerException with the exact code and
HTTP status, a RequestId, and the full JSON error envelope."""

import uuid

import pytest

from e2ehelp import key_arn, unique_alias


def test_unknown_key_id(kms):
    err = kms.error(kms.encrypt_request(str(uuid.uuid4()), "x"), 404, "Forbidden.KeyNotFound")
    assert err.body["RequestId"] == err.exc.get_request_id()


def test_unknown_key_arn(kms):
    arn = key_arn(str(uuid.uuid4()))
    kms.error(kms.encrypt_request(arn, "x"), 404, "Forbidden.KeyNotFound")


def test_unknown_alias(kms):
    kms.error(kms.encrypt_request(unique_alias("alias/missing"), "x"), 404,
              "Forbidden.AliasNotFound")


def test_duplicate_alias(kms):
    alias = unique_alias()
    first, second = kms.create_key(), kms.create_key()
    kms.create_alias(alias, first["KeyId"])
    kms.error(kms.create_alias_request(alias, first["KeyId"]), 400, "AliasAlreadyExists")
    kms.error(kms.create_alias_request(alias, second["KeyId"]), 400, "AliasAlreadyExists")
    # the alias still points at the first key
    assert kms.encrypt(alias, "x")["KeyId"] == first["KeyId"]


def test_a_key_may_have_several_aliases(kms):
    key = kms.create_key()
    a, b = unique_alias(), unique_alias()
    kms.create_alias(a, key["KeyId"])
    kms.create_alias(b, key["KeyId"])
    assert kms.encrypt(a, "x")["KeyId"] == kms.encrypt(b, "x")["KeyId"] == key["KeyId"]


@pytest.mark.parametrize("name", [
    pytest.param("alias/acs/reserved", id="acs-slash"),
    pytest.param("alias/acsreserved", id="acs-prefix"),
    pytest.param("Apollo/WorkKey", id="no-alias-prefix"),
    pytest.param("alias/bad name", id="space"),
    pytest.param("alias/bad*name", id="star"),
    pytest.param("alias/bad.name", id="dot"),
    pytest.param("alias/", id="empty-name"),
    pytest.param("ALIAS/WorkKey", id="uppercase-prefix"),
    pytest.param("alias/" + "a" * 256, id="256-chars"),
])
def test_malformed_alias_is_invalid_parameter(kms, name):
    key = kms.create_key()
    kms.error(kms.create_alias_request(name, key["KeyId"]), 400, "InvalidParameter")


def test_longest_and_widest_valid_alias(kms):
    key = kms.create_key()
    kms.create_alias("alias/" + "a" * 249 + uuid.uuid4().hex[:6], key["KeyId"])  # 255 chars
    kms.create_alias(f"alias/Az09_-/x/{uuid.uuid4().hex}", key["KeyId"])


def test_create_alias_on_unknown_key(kms):
    kms.error(kms.create_alias_request(unique_alias(), str(uuid.uuid4())), 404,
              "Forbidden.KeyNotFound")


def test_create_alias_without_alias_name(kms):
    key = kms.create_key()
    req = kms.create_alias_request(unique_alias(), key["KeyId"])
    del req.get_query_params()["AliasName"]
    err = kms.error(req, 400, "MissingParameter")
    assert "AliasName" in err.message
