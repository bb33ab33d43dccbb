"""Key versions and rotation policy through the old SDK: CreateKeyVersion, ListKeyVersions,
DescribeKeyVersion, UpdateRotationPolicy.

Automatic rotation itself (the interval elapsing) is tested in Rust with a fake clock; here
only the policy and what DescribeKey shows of it.
"""

from __future__ import annotations

import time
import uuid

import pytest

from e2ehelp import DATE_RE, UUID_RE, Kms, decode_blob, describe, epoch, paged, unique_alias
from e2ehelp import sdk_request as make


def new_version(kms: Kms, key_id: str) -> dict:
    reply = kms.call(make("CreateKeyVersion", KeyId=key_id))
    assert set(reply) == {"KeyVersion", "RequestId"}
    return reply["KeyVersion"]


def list_versions(kms: Kms, key_id: str, **paging) -> dict:
    return paged(kms.call(make("ListKeyVersions", KeyId=key_id, **paging)))


def version_ids(reply: dict) -> list:
    return [v["KeyVersionId"] for v in reply["KeyVersions"]["KeyVersion"]]


# ---------------------------------------------------------------------------------------
# CreateKeyVersion


def test_create_key_version_becomes_primary(kms, key):
    kid, first = key["KeyId"], key["PrimaryKeyVersion"]
    before = int(time.time())
    v = new_version(kms, kid)
    assert set(v) == {"KeyId", "KeyVersionId", "CreationDate"}
    assert v["KeyId"] == kid
    assert UUID_RE.match(v["KeyVersionId"]) and v["KeyVersionId"] != first
    assert abs(epoch(v["CreationDate"]) - before) <= 120
    md = describe(kms, kid)
    assert md["PrimaryKeyVersion"] == v["KeyVersionId"]
    assert md["LastRotationDate"] == v["CreationDate"]
    assert md["KeyState"] == "Enabled"


def test_encrypt_uses_the_primary_and_old_blobs_still_decrypt(kms, key):
    kid, first = key["KeyId"], key["PrimaryKeyVersion"]
    old = kms.encrypt(kid, "under v1", '{"ctx":"1"}')  # the key is hot in the cache
    assert old["KeyVersionId"] == first
    v2 = new_version(kms, kid)["KeyVersionId"]
    enc = kms.encrypt(kid, "under v2")
    assert enc["KeyVersionId"] == v2
    assert decode_blob(enc["CiphertextBlob"])[:36] == v2.encode("ascii")
    gdk = kms.call(make("GenerateDataKey", KeyId=kid))
    assert gdk["KeyVersionId"] == v2
    assert decode_blob(gdk["CiphertextBlob"])[:36] == v2.encode("ascii")
    v3 = new_version(kms, kid)["KeyVersionId"]
    assert kms.encrypt(kid, "x")["KeyVersionId"] == v3
    # every version keeps decrypting what it encrypted, and says which version it was
    dec_old = kms.decrypt(old["CiphertextBlob"], '{"ctx":"1"}')
    assert (dec_old["KeyId"], dec_old["KeyVersionId"], dec_old["Plaintext"]) == \
        (kid, first, "under v1")
    dec_v2 = kms.decrypt(enc["CiphertextBlob"])
    assert (dec_v2["KeyVersionId"], dec_v2["Plaintext"]) == (v2, "under v2")
    assert kms.decrypt(gdk["CiphertextBlob"])["Plaintext"] == gdk["Plaintext"]


def test_create_key_version_by_alias(kms, key):
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    v = new_version(kms, alias)
    assert v["KeyId"] == key["KeyId"]
    assert kms.encrypt(alias, "x")["KeyVersionId"] == v["KeyVersionId"]


def test_create_key_version_on_disabled_key(kms, key):
    kid = key["KeyId"]
    kms.call(make("DisableKey", KeyId=kid))
    kms.error(make("CreateKeyVersion", KeyId=kid), 409, "Rejected.Disabled")
    assert list_versions(kms, kid)["TotalCount"] == 1
    kms.call(make("EnableKey", KeyId=kid))
    new_version(kms, kid)
    assert list_versions(kms, kid)["TotalCount"] == 2


def test_create_key_version_on_key_pending_deletion(kms, key):
    kms.call(make("ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7))
    kms.error(make("CreateKeyVersion", KeyId=key["KeyId"]), 409, "Rejected.PendingDeletion")


def test_create_key_version_errors(kms):
    kms.error(make("CreateKeyVersion", KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make("CreateKeyVersion", KeyId="alias/lifecycle/none-" + uuid.uuid4().hex), 404,
              "Forbidden.AliasNotFound")
    kms.error(make("CreateKeyVersion"), 400, "MissingParameter")


def test_disabled_key_refuses_decrypt_of_every_version(kms, key):
    kid = key["KeyId"]
    old = kms.encrypt(kid, "v1")["CiphertextBlob"]
    new_version(kms, kid)
    new = kms.encrypt(kid, "v2")["CiphertextBlob"]
    kms.call(make("DisableKey", KeyId=kid))
    kms.error(kms.decrypt_request(old), 409, "Rejected.Disabled")
    kms.error(kms.decrypt_request(new), 409, "Rejected.Disabled")
    kms.call(make("EnableKey", KeyId=kid))
    assert kms.decrypt(old)["Plaintext"] == "v1"
    assert kms.decrypt(new)["Plaintext"] == "v2"


# ---------------------------------------------------------------------------------------
# ListKeyVersions / DescribeKeyVersion


def test_list_key_versions_oldest_first_with_paging(kms, key):
    kid = key["KeyId"]
    expected = [key["PrimaryKeyVersion"]] + [new_version(kms, kid)["KeyVersionId"]
                                             for _ in range(3)]
    full = list_versions(kms, kid)
    assert (full["PageNumber"], full["PageSize"], full["TotalCount"]) == (1, 10, 4)
    listed = version_ids(full)
    assert sorted(listed) == sorted(expected)
    for v in full["KeyVersions"]["KeyVersion"]:
        assert set(v) == {"KeyId", "KeyVersionId", "CreationDate"}
        assert v["KeyId"] == kid and DATE_RE.match(v["CreationDate"])
    # oldest first; dates have whole seconds, so versions made in the same second are
    # ordered by version id (the store's documented tie-break)
    order = [(epoch(v["CreationDate"]), v["KeyVersionId"])
             for v in full["KeyVersions"]["KeyVersion"]]
    assert order == sorted(order)
    created = {vid: i for i, vid in enumerate(expected)}
    for (d1, a), (d2, b) in zip(order, order[1:]):
        if d1 < d2:
            assert created[a] < created[b]
    pages = [list_versions(kms, kid, PageNumber=n, PageSize=3) for n in (1, 2, 3)]
    assert [version_ids(p) for p in pages] == [listed[:3], listed[3:], []]
    assert all(p["TotalCount"] == 4 and p["PageSize"] == 3 for p in pages)
    assert version_ids(list_versions(kms, kid, PageNumber=2, PageSize=1)) == [listed[1]]


def test_list_key_versions_errors(kms, key):
    kms.error(make("ListKeyVersions", KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make("ListKeyVersions"), 400, "MissingParameter")
    for paging in ({"PageSize": 0}, {"PageSize": 101}, {"PageNumber": 0}):
        kms.error(make("ListKeyVersions", KeyId=key["KeyId"], **paging), 400, "InvalidParameter")


def test_describe_key_version(kms, key):
    kid = key["KeyId"]
    v2 = new_version(kms, kid)
    for v in list_versions(kms, kid)["KeyVersions"]["KeyVersion"]:
        reply = kms.call(make("DescribeKeyVersion", KeyId=kid, KeyVersionId=v["KeyVersionId"]))
        assert set(reply) == {"KeyVersion", "RequestId"}
        assert reply["KeyVersion"] == v
    got = kms.call(make("DescribeKeyVersion", KeyId=key["Arn"], KeyVersionId=v2["KeyVersionId"]))
    assert got["KeyVersion"] == v2


def test_describe_key_version_errors(kms, key):
    kid = key["KeyId"]
    other = kms.create_key()
    kms.error(make("DescribeKeyVersion", KeyId=kid, KeyVersionId=str(uuid.uuid4())),
              404, "Forbidden.KeyVersionNotFound")
    # a version that exists, but of another key
    kms.error(make("DescribeKeyVersion", KeyId=kid, KeyVersionId=other["PrimaryKeyVersion"]),
              404, "Forbidden.KeyVersionNotFound")
    kms.error(make("DescribeKeyVersion", KeyId=kid), 400, "MissingParameter")
    kms.error(make("DescribeKeyVersion", KeyId=str(uuid.uuid4()),
                   KeyVersionId=key["PrimaryKeyVersion"]), 404, "Forbidden.KeyNotFound")


# ---------------------------------------------------------------------------------------
# UpdateRotationPolicy


def rotation(kms: Kms, key_id: str, enable, interval: str | None = None) -> dict:
    params = {"KeyId": key_id, "EnableAutomaticRotation": enable}
    if interval is not None:
        params["RotationInterval"] = interval
    return make("UpdateRotationPolicy", **params)


def test_enable_rotation_every_30_days(kms, key):
    kid = key["KeyId"]
    reply = kms.call(rotation(kms, kid, True, "30d"))
    assert set(reply) == {"RequestId"}
    md = describe(kms, kid)
    assert md["AutomaticRotation"] == "Enabled"
    assert md["RotationInterval"] == "2592000s"
    assert epoch(md["NextRotationDate"]) == epoch(md["LastRotationDate"]) + 30 * 86400
    # a manual rotation restarts the interval
    v = new_version(kms, kid)
    md = describe(kms, kid)
    assert md["LastRotationDate"] == v["CreationDate"]
    assert epoch(md["NextRotationDate"]) == epoch(v["CreationDate"]) + 30 * 86400


@pytest.mark.parametrize("interval, seconds", [
    ("7d", 604800), ("365d", 31536000), ("604800s", 604800), ("168h", 604800),
    ("10080m", 604800),
])
def test_rotation_interval_forms(kms, key, interval, seconds):
    kms.call(rotation(kms, key["KeyId"], True, interval))
    md = describe(kms, key["KeyId"])
    assert md["RotationInterval"] == f"{seconds}s"
    assert epoch(md["NextRotationDate"]) == epoch(md["LastRotationDate"]) + seconds


def test_disable_rotation(kms, key):
    kid = key["KeyId"]
    kms.call(rotation(kms, kid, True, "30d"))
    kms.call(rotation(kms, kid, False))
    md = describe(kms, kid)
    assert md["AutomaticRotation"] == "Disabled"
    assert "NextRotationDate" not in md
    assert "RotationInterval" not in md


def test_rotation_with_lowercase_booleans(kms, key):
    kid = key["KeyId"]
    kms.call(rotation(kms, kid, "true", "30d"))
    assert describe(kms, kid)["AutomaticRotation"] == "Enabled"
    kms.call(rotation(kms, kid, "false"))
    assert describe(kms, kid)["AutomaticRotation"] == "Disabled"


@pytest.mark.parametrize("interval", [
    "6d", "366d", "604799s", "0d", "-30d", "30", "30x", "d", "thirty days", "30 d", "1.5d",
    "30dé", "é", "３０d",
])
def test_bad_rotation_interval(kms, key, interval):
    kms.error(rotation(kms, key["KeyId"], True, interval), 400, "InvalidParameter")
    md = describe(kms, key["KeyId"])
    assert md["AutomaticRotation"] == "Disabled" and "NextRotationDate" not in md


def test_enable_rotation_without_interval(kms, key):
    err = kms.error(rotation(kms, key["KeyId"], True), 400, "MissingParameter")
    assert "RotationInterval" in err.message
    assert describe(kms, key["KeyId"])["AutomaticRotation"] == "Disabled"


def test_rotation_policy_other_errors(kms, key):
    kms.error(make("UpdateRotationPolicy", KeyId=key["KeyId"], RotationInterval="30d"),
              400, "MissingParameter")
    kms.error(rotation(kms, key["KeyId"], "sometimes", "30d"), 400, "InvalidParameter")
    kms.error(rotation(kms, str(uuid.uuid4()), True, "30d"), 404, "Forbidden.KeyNotFound")


@pytest.mark.parametrize("interval", ["30dé", "é"])
def test_create_key_with_non_ascii_rotation_interval(kms, interval):
    kms.error(kms.create_key_request(EnableAutomaticRotation=True, RotationInterval=interval),
              400, "InvalidParameter")
