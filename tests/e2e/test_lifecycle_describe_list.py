"""DescribeKey, ListKeys (paging, Filters) and DescribeRegions through the old SDK.

Listings are checked on a server of this module's own (so counts and pages are exact);
DescribeKey uses the shared server.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from e2ehelp import (ACCOUNT_ID, REGION_ID, UUID_RE, Kms, alias_arn, describe, epoch, key_arn,
                     own_kms, paged, unique_alias)
from e2ehelp import sdk_request as make


# ---------------------------------------------------------------------------------------
# DescribeKey


def test_describe_key_shows_every_field(kms):
    before = int(time.time())
    created = kms.create_key(Description="describe me")
    md = describe(kms, created["KeyId"])
    assert md["KeyId"] == created["KeyId"]
    assert md["KeyState"] == "Enabled"
    assert md["Arn"] == key_arn(created["KeyId"])
    assert md["Creator"] == ACCOUNT_ID
    assert abs(epoch(md["CreationDate"]) - before) <= 120
    assert md["LastRotationDate"] == md["CreationDate"]
    assert UUID_RE.match(md["PrimaryKeyVersion"])
    assert md["PrimaryKeyVersion"] == created["PrimaryKeyVersion"]
    assert md["Description"] == "describe me"
    assert md["KeySpec"] == "Aliyun_AES_256"
    assert md["KeyUsage"] == "ENCRYPT/DECRYPT"
    assert md["Origin"] == "Aliyun_KMS"
    assert md["ProtectionLevel"] == "SOFTWARE"
    assert md["MaterialExpireTime"] == ""
    assert md["AutomaticRotation"] == "Disabled"
    assert "RotationInterval" not in md and "NextRotationDate" not in md
    assert md.get("DeleteDate", "") == ""  # only when PendingDeletion
    assert md["DeletionProtection"] == "Disabled"
    assert md["DeletionProtectionDescription"] == ""
    # DescribeKey = CreateKey's KeyMetadata plus the two deletion-protection fields
    for name, value in created.items():
        assert md[name] == value, name


def test_describe_key_with_rotation_on(kms):
    key = kms.create_key(EnableAutomaticRotation=True, RotationInterval="30d")
    md = describe(kms, key["KeyId"])
    assert md["AutomaticRotation"] == "Enabled"
    assert md["RotationInterval"] == "2592000s"
    assert epoch(md["NextRotationDate"]) == epoch(md["LastRotationDate"]) + 30 * 86400


def test_describe_key_with_deletion_protection(kms):
    key = kms.create_key()
    kms.call(make("SetDeletionProtection", ProtectedResourceArn=key["Arn"],
                  EnableDeletionProtection=True, DeletionProtectionDescription="prod data"))
    md = describe(kms, key["KeyId"])
    assert md["DeletionProtection"] == "Enabled"
    assert md["DeletionProtectionDescription"] == "prod data"


def test_describe_key_by_id_alias_and_arn_agree(kms):
    key = kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    by_id = describe(kms, key["KeyId"])
    assert describe(kms, alias) == by_id
    assert describe(kms, key_arn(key["KeyId"])) == by_id
    assert describe(kms, alias_arn(alias)) == by_id


def test_describe_key_reply_shape(kms):
    key = kms.create_key()
    reply = kms.call(make("DescribeKey", KeyId=key["KeyId"]))
    assert set(reply) == {"KeyMetadata", "RequestId"}


@pytest.mark.parametrize("key_id, code", [
    pytest.param(str(uuid.uuid4()), "Forbidden.KeyNotFound", id="unknown-id"),
    pytest.param(key_arn(str(uuid.uuid4())), "Forbidden.KeyNotFound", id="unknown-arn"),
    pytest.param("alias/lifecycle/missing-" + uuid.uuid4().hex, "Forbidden.AliasNotFound",
                 id="unknown-alias"),
])
def test_describe_unknown_key(kms, key_id, code):
    kms.error(make("DescribeKey", KeyId=key_id), 404, code)


def test_describe_key_without_key_id(kms):
    err = kms.error(make("DescribeKey"), 400, "MissingParameter")
    assert "KeyId" in err.message


# ---------------------------------------------------------------------------------------
# DescribeRegions


def test_describe_regions(kms):
    reply = kms.call(make("DescribeRegions"))
    assert reply["Regions"] == {"Region": [{"RegionId": REGION_ID}]}


# ---------------------------------------------------------------------------------------
# ListKeys, on a server of this module's own


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    yield from own_kms(tmp_path_factory, "lifecycle-listkeys")


@pytest.fixture(scope="module")
def fleet(own):
    """Five keys: AES enabled x2, AES disabled, SM4 enabled, SM4 disabled (creation order)."""
    keys = {
        "aes1": own.create_key(),
        "aes2": own.create_key(),
        "aes_off": own.create_key(),
        "sm4": own.create_key(KeySpec="Aliyun_SM4"),
        "sm4_off": own.create_key(KeySpec="Aliyun_SM4"),
    }
    for name in ("aes_off", "sm4_off"):
        own.call(make("DisableKey", KeyId=keys[name]["KeyId"]))
    return {name: k["KeyId"] for name, k in keys.items()}


def list_keys(kms: Kms, **params) -> dict:
    return paged(kms.call(make("ListKeys", **params)))


def ids(reply: dict) -> list:
    return [k["KeyId"] for k in reply["Keys"]["Key"]]


def test_list_keys_defaults_and_entries(own, fleet):
    reply = list_keys(own)
    assert (reply["PageNumber"], reply["PageSize"], reply["TotalCount"]) == (1, 10, 5)
    assert set(ids(reply)) == set(fleet.values())
    for entry in reply["Keys"]["Key"]:
        assert entry == {"KeyId": entry["KeyId"], "KeyArn": key_arn(entry["KeyId"])}


def test_list_keys_pages(own, fleet):
    seen = []
    for number in (1, 2, 3):
        reply = list_keys(own, PageNumber=number, PageSize=2)
        assert (reply["PageNumber"], reply["PageSize"], reply["TotalCount"]) == (number, 2, 5)
        assert len(ids(reply)) == (2 if number < 3 else 1)
        seen += ids(reply)
    assert sorted(seen) == sorted(fleet.values()) and len(set(seen)) == 5
    beyond = list_keys(own, PageNumber=4, PageSize=2)
    assert ids(beyond) == [] and beyond["TotalCount"] == 5


@pytest.mark.parametrize("size", [1, 100])
def test_list_keys_page_size_bounds_accepted(own, fleet, size):
    reply = list_keys(own, PageSize=size)
    assert reply["PageSize"] == size and len(ids(reply)) == min(size, 5)


@pytest.mark.parametrize("params", [
    pytest.param({"PageSize": 0}, id="size-0"),
    pytest.param({"PageSize": 101}, id="size-101"),
    pytest.param({"PageSize": -1}, id="size-negative"),
    pytest.param({"PageSize": "ten"}, id="size-not-a-number"),
    pytest.param({"PageNumber": 0}, id="number-0"),
    pytest.param({"PageNumber": "x"}, id="number-not-a-number"),
])
def test_list_keys_bad_paging(own, params):
    own.error(make("ListKeys", **params), 400, "InvalidParameter")


def filtered(own, filters) -> set:
    reply = list_keys(own, Filters=json.dumps(filters), PageSize=100)
    assert reply["TotalCount"] == len(ids(reply))
    return set(ids(reply))


def test_list_keys_filter_by_state(own, fleet):
    assert filtered(own, [{"Key": "KeyState", "Values": ["Enabled"]}]) == \
        {fleet["aes1"], fleet["aes2"], fleet["sm4"]}
    assert filtered(own, [{"Key": "KeyState", "Values": ["Disabled"]}]) == \
        {fleet["aes_off"], fleet["sm4_off"]}
    # OR within Values
    assert filtered(own, [{"Key": "KeyState", "Values": ["Enabled", "Disabled"]}]) == \
        set(fleet.values())
    assert filtered(own, [{"Key": "KeyState", "Values": ["PendingDeletion"]}]) == set()


def test_list_keys_filter_by_spec(own, fleet):
    assert filtered(own, [{"Key": "KeySpec", "Values": ["Aliyun_SM4"]}]) == \
        {fleet["sm4"], fleet["sm4_off"]}
    assert filtered(own, [{"Key": "KeySpec", "Values": ["Aliyun_AES_256", "Aliyun_SM4"]}]) == \
        set(fleet.values())


def test_list_keys_filters_and_across_keys(own, fleet):
    assert filtered(own, [{"Key": "KeyState", "Values": ["Disabled"]},
                          {"Key": "KeySpec", "Values": ["Aliyun_AES_256"]}]) == {fleet["aes_off"]}
    assert filtered(own, [{"Key": "KeyState", "Values": ["Enabled", "Disabled"]},
                          {"Key": "KeySpec", "Values": ["Aliyun_SM4"]}]) == \
        {fleet["sm4"], fleet["sm4_off"]}


def test_list_keys_filter_with_paging(own, fleet):
    f = json.dumps([{"Key": "KeyState", "Values": ["Enabled"]}])
    first = list_keys(own, Filters=f, PageSize=2, PageNumber=1)
    second = list_keys(own, Filters=f, PageSize=2, PageNumber=2)
    assert first["TotalCount"] == second["TotalCount"] == 3
    assert set(ids(first)) | set(ids(second)) == {fleet["aes1"], fleet["aes2"], fleet["sm4"]}


@pytest.mark.parametrize("filters", [
    pytest.param("not json", id="not-json"),
    pytest.param('{"Key":"KeyState","Values":["Enabled"]}', id="object-not-array"),
    pytest.param('[{"Key":"KeyState"}]', id="no-values"),
    pytest.param('[{"Values":["Enabled"]}]', id="no-key"),
    pytest.param('[{"Key":"KeyState","Values":"Enabled"}]', id="values-not-array"),
    pytest.param('[{"Key":"KeyState","Values":[1]}]', id="value-not-string"),
    pytest.param(json.dumps([{"Key": "KeyState", "Values": ["Enabled"]}] * 11), id="11-filters"),
])
def test_list_keys_malformed_filters(own, filters):
    own.error(make("ListKeys", Filters=filters), 400, "InvalidParameter")


# ---------------------------------------------------------------------------------------
# A page far past the end: an empty page or InvalidParameter, never a 5xx


@pytest.mark.parametrize("action", ["ListKeys", "ListAliases", "ListKeyVersions",
                                    "ListAliasesByKeyId"])
@pytest.mark.parametrize("number", [10**6, 10**18, 2**64 - 1])
def test_huge_page_number_is_not_a_server_error(kms, action, number):
    params = {"PageNumber": number, "PageSize": 100}
    if action in ("ListKeyVersions", "ListAliasesByKeyId"):
        params["KeyId"] = kms.create_key()["KeyId"]
    req = kms.prepare(make(action, **params))
    status, _headers, body, exc = kms.client._implementation_of_do_action(req)
    if exc is None:
        reply = json.loads(body)
        outer = {"ListKeys": "Keys", "ListKeyVersions": "KeyVersions"}.get(action, "Aliases")
        assert all(v == [] for v in reply[outer].values()), reply
        assert reply["PageNumber"] == number
    else:
        assert (status, exc.get_error_code()) == (400, "InvalidParameter"), \
            f"HTTP {status} {exc.get_error_code()}: {body[:300]!r}"
