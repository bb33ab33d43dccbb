"""Aliases through the old SDK: UpdateAlias, DeleteAlias, ListAliases, ListAliasesByKeyId.

ListAliases is checked on a server of this module's own, so its order and pages are exact.
"""

from __future__ import annotations

import uuid

import pytest

from e2ehelp import Kms, alias_arn, own_kms, paged, unique_alias
from e2ehelp import sdk_request as make


def names(reply: dict) -> list:
    return [a["AliasName"] for a in reply["Aliases"]["Alias"]]


def by_key(kms: Kms, key_id: str, **paging) -> dict:
    return paged(kms.call(make("ListAliasesByKeyId", KeyId=key_id, **paging)))


# ---------------------------------------------------------------------------------------
# UpdateAlias


def test_update_alias_repoints_at_once(kms):
    a, b = kms.create_key(), kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, a["KeyId"])
    old = kms.encrypt(alias, "under a")  # the alias is hot in the cache
    assert old["KeyId"] == a["KeyId"]
    reply = kms.call(make("UpdateAlias", AliasName=alias, KeyId=b["KeyId"]))
    assert set(reply) == {"RequestId"}
    new = kms.encrypt(alias, "under b")
    assert new["KeyId"] == b["KeyId"]
    assert new["KeyVersionId"] == b["PrimaryKeyVersion"]
    assert kms.call(make("DescribeKey", KeyId=alias))["KeyMetadata"]["KeyId"] == b["KeyId"]
    # what was encrypted through the alias before still decrypts (under a)
    dec = kms.decrypt(old["CiphertextBlob"])
    assert (dec["KeyId"], dec["Plaintext"]) == (a["KeyId"], "under a")
    assert names(by_key(kms, a["KeyId"])) == []
    assert names(by_key(kms, b["KeyId"])) == [alias]


def test_update_alias_target_by_arn_and_to_a_disabled_key(kms):
    a, b = kms.create_key(), kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, a["KeyId"])
    kms.call(make("DisableKey", KeyId=b["KeyId"]))
    # UpdateAlias depends only on whether the target is pending deletion (§4.4)
    kms.call(make("UpdateAlias", AliasName=alias, KeyId=b["Arn"]))
    kms.error(kms.encrypt_request(alias, "x"), 409, "Rejected.Disabled")
    # re-pointing at the same key again is fine
    kms.call(make("UpdateAlias", AliasName=alias, KeyId=b["KeyId"]))
    assert names(by_key(kms, b["KeyId"])) == [alias]


def test_update_unknown_alias(kms):
    key = kms.create_key()
    alias = unique_alias("alias/lifecycle/missing")
    kms.error(make("UpdateAlias", AliasName=alias, KeyId=key["KeyId"]), 404,
              "Forbidden.AliasNotFound")
    # UpdateAlias does not create it
    kms.error(kms.encrypt_request(alias, "x"), 404, "Forbidden.AliasNotFound")


def test_update_alias_to_a_key_pending_deletion(kms):
    a, b = kms.create_key(), kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, a["KeyId"])
    kms.call(make("ScheduleKeyDeletion", KeyId=b["KeyId"], PendingWindowInDays=7))
    kms.error(make("UpdateAlias", AliasName=alias, KeyId=b["KeyId"]), 409,
              "Rejected.PendingDeletion")
    assert kms.encrypt(alias, "x")["KeyId"] == a["KeyId"]


def test_update_alias_away_from_a_key_pending_deletion(kms):
    a, b = kms.create_key(), kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, a["KeyId"])
    kms.call(make("ScheduleKeyDeletion", KeyId=a["KeyId"], PendingWindowInDays=7))
    kms.call(make("UpdateAlias", AliasName=alias, KeyId=b["KeyId"]))
    assert kms.encrypt(alias, "x")["KeyId"] == b["KeyId"]


def test_update_alias_other_errors(kms):
    key = kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    kms.error(make("UpdateAlias", AliasName=alias, KeyId=str(uuid.uuid4())), 404,
              "Forbidden.KeyNotFound")
    kms.error(make("UpdateAlias", AliasName=alias), 400, "MissingParameter")
    kms.error(make("UpdateAlias", KeyId=key["KeyId"]), 400, "MissingParameter")
    kms.error(make("UpdateAlias", AliasName="no-prefix", KeyId=key["KeyId"]), 400,
              "InvalidParameter")
    assert kms.encrypt(alias, "x")["KeyId"] == key["KeyId"]


# ---------------------------------------------------------------------------------------
# DeleteAlias


def test_delete_alias(kms):
    key = kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    blob = kms.encrypt(alias, "kept")["CiphertextBlob"]  # the alias is hot in the cache
    reply = kms.call(make("DeleteAlias", AliasName=alias))
    assert set(reply) == {"RequestId"}
    kms.error(kms.encrypt_request(alias, "x"), 404, "Forbidden.AliasNotFound")
    kms.error(make("DescribeKey", KeyId=alias), 404, "Forbidden.AliasNotFound")
    kms.error(make("DeleteAlias", AliasName=alias), 404, "Forbidden.AliasNotFound")
    # the key is untouched
    assert kms.decrypt(blob)["Plaintext"] == "kept"
    kms.encrypt(key["KeyId"], "x")
    assert names(by_key(kms, key["KeyId"])) == []
    # and the name is free again
    other = kms.create_key()
    kms.create_alias(alias, other["KeyId"])
    assert kms.encrypt(alias, "x")["KeyId"] == other["KeyId"]


def test_delete_one_of_several_aliases(kms):
    key = kms.create_key()
    a, b = unique_alias(), unique_alias()
    kms.create_alias(a, key["KeyId"])
    kms.create_alias(b, key["KeyId"])
    kms.call(make("DeleteAlias", AliasName=a))
    assert names(by_key(kms, key["KeyId"])) == [b]
    kms.encrypt(b, "x")


def test_delete_alias_of_a_key_pending_deletion(kms):
    key = kms.create_key()
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    kms.call(make("ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7))
    kms.call(make("DeleteAlias", AliasName=alias))  # ok in every state (§4.4)
    kms.error(kms.encrypt_request(alias, "x"), 404, "Forbidden.AliasNotFound")


def test_delete_alias_errors(kms):
    kms.error(make("DeleteAlias", AliasName=unique_alias("alias/lifecycle/never")), 404,
              "Forbidden.AliasNotFound")
    kms.error(make("DeleteAlias"), 400, "MissingParameter")


# ---------------------------------------------------------------------------------------
# ListAliasesByKeyId (shared server: only the key's own aliases show)


def test_list_aliases_by_key_id(kms):
    key = kms.create_key()
    other = kms.create_key()
    mine = sorted(unique_alias("alias/lifecycle/bykey") for _ in range(3))
    for name in reversed(mine):
        kms.create_alias(name, key["KeyId"])
    kms.create_alias(unique_alias(), other["KeyId"])
    reply = by_key(kms, key["KeyId"])
    assert (reply["PageNumber"], reply["PageSize"], reply["TotalCount"]) == (1, 10, 3)
    assert names(reply) == mine
    for entry in reply["Aliases"]["Alias"]:
        assert entry == {"AliasName": entry["AliasName"], "AliasArn": alias_arn(entry["AliasName"]),
                         "KeyId": key["KeyId"]}
    # the key named by alias or ARN
    assert names(by_key(kms, mine[0])) == mine
    assert names(by_key(kms, key["Arn"])) == mine
    # pages
    p1, p2 = by_key(kms, key["KeyId"], PageSize=2), by_key(kms, key["KeyId"], PageSize=2,
                                                           PageNumber=2)
    assert (names(p1), names(p2)) == (mine[:2], mine[2:])
    assert p1["TotalCount"] == p2["TotalCount"] == 3 and p1["PageSize"] == 2
    assert names(by_key(kms, key["KeyId"], PageNumber=3, PageSize=2)) == []


def test_list_aliases_by_key_id_of_a_key_without_aliases(kms):
    key = kms.create_key()
    reply = by_key(kms, key["KeyId"])
    assert reply["Aliases"] == {"Alias": []} and reply["TotalCount"] == 0


def test_list_aliases_by_key_id_errors(kms):
    key = kms.create_key()
    kms.error(make("ListAliasesByKeyId", KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make("ListAliasesByKeyId", KeyId=unique_alias("alias/lifecycle/none")), 404,
              "Forbidden.AliasNotFound")
    kms.error(make("ListAliasesByKeyId"), 400, "MissingParameter")
    for paging in ({"PageSize": 0}, {"PageSize": 101}, {"PageNumber": 0}, {"PageSize": "x"}):
        kms.error(make("ListAliasesByKeyId", KeyId=key["KeyId"], **paging), 400,
                  "InvalidParameter")


# ---------------------------------------------------------------------------------------
# ListAliases, on a server of this module's own


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    yield from own_kms(tmp_path_factory, "lifecycle-aliases")


@pytest.fixture(scope="module")
def own_aliases(own):
    """Twelve aliases over two keys, created out of name order; returns {name: key id}."""
    a, b = own.create_key()["KeyId"], own.create_key()["KeyId"]
    chosen = {}
    for i, suffix in enumerate(["m", "B", "a", "z/1", "z-0", "Z", "b_2", "b/1", "0", "9x",
                                "m/m", "a-a"]):
        name = f"alias/{suffix}"
        chosen[name] = a if i % 2 else b
        own.create_alias(name, chosen[name])
    return chosen


def list_aliases(kms: Kms, **paging) -> dict:
    return paged(kms.call(make("ListAliases", **paging)))


def test_list_aliases_sorted_with_defaults(own, own_aliases):
    reply = list_aliases(own)
    assert (reply["PageNumber"], reply["PageSize"], reply["TotalCount"]) == (1, 10, 12)
    everything = sorted(own_aliases)  # by name, byte order
    assert names(reply) == everything[:10]
    for entry in reply["Aliases"]["Alias"]:
        assert entry == {"AliasName": entry["AliasName"],
                         "AliasArn": alias_arn(entry["AliasName"]),
                         "KeyId": own_aliases[entry["AliasName"]]}


def test_list_aliases_pages(own, own_aliases):
    everything = sorted(own_aliases)
    seen = []
    for n in (1, 2, 3):
        reply = list_aliases(own, PageNumber=n, PageSize=5)
        assert (reply["PageNumber"], reply["PageSize"], reply["TotalCount"]) == (n, 5, 12)
        seen += names(reply)
    assert seen == everything
    assert names(list_aliases(own, PageNumber=4, PageSize=5)) == []
    assert names(list_aliases(own, PageSize=100)) == everything
    assert names(list_aliases(own, PageSize=1, PageNumber=12)) == everything[-1:]


@pytest.mark.parametrize("paging", [
    pytest.param({"PageSize": 0}, id="size-0"),
    pytest.param({"PageSize": 101}, id="size-101"),
    pytest.param({"PageNumber": 0}, id="number-0"),
    pytest.param({"PageNumber": "one"}, id="number-not-a-number"),
])
def test_list_aliases_bad_paging(own, paging):
    own.error(make("ListAliases", **paging), 400, "InvalidParameter")


def test_list_aliases_follows_updates_and_deletes(own, own_aliases):
    key = own.create_key()["KeyId"]
    name = "alias/zz-transient"
    own.create_alias(name, key)
    listed = {a["AliasName"]: a["KeyId"]
              for a in list_aliases(own, PageSize=100)["Aliases"]["Alias"]}
    assert listed[name] == key
    other = own_aliases["alias/m"]
    own.call(make("UpdateAlias", AliasName=name, KeyId=other))
    listed = {a["AliasName"]: a["KeyId"]
              for a in list_aliases(own, PageSize=100)["Aliases"]["Alias"]}
    assert listed[name] == other
    own.call(make("DeleteAlias", AliasName=name))
    reply = list_aliases(own, PageSize=100)
    assert name not in names(reply) and reply["TotalCount"] == len(own_aliases)
