"""Tags through the old SDK: TagResource / UntagResource / ListResourceTags (JSON parameters)
and TagResources / UntagResources / ListTagResources (repeat lists).

The SDK's request classes serialise the repeat lists as query parameters
``ResourceId.1``, ``Tag.1.Key``, ``Tag.1.Value``, ``TagKey.1`` (checked below), and the
client adds ``RegionId`` itself.
"""

from __future__ import annotations

import json
import uuid

import pytest

from e2ehelp import REGION_ID, Kms, unique_alias
from e2ehelp import sdk_request as make


def tags_json(pairs: dict) -> str:
    return json.dumps([{"TagKey": k, "TagValue": v} for k, v in pairs.items()])


def tag(kms: Kms, key_id: str, pairs: dict) -> dict:
    return kms.call(make("TagResource", KeyId=key_id, Tags=tags_json(pairs)))


def listed(kms: Kms, key_id: str) -> dict:
    reply = kms.call(make("ListResourceTags", KeyId=key_id))
    rows = reply["Tags"]["Tag"]
    for row in rows:
        assert set(row) == {"KeyId", "TagKey", "TagValue"}, row
    return {row["TagKey"]: row["TagValue"] for row in rows}


# ---------------------------------------------------------------------------------------
# TagResource / UntagResource / ListResourceTags


def test_tag_list_untag(kms, key):
    kid = key["KeyId"]
    assert kms.call(make("ListResourceTags", KeyId=kid))["Tags"] == {"Tag": []}
    reply = tag(kms, kid, {"env": "prod", "team": "core", "empty": ""})
    assert set(reply) == {"RequestId"}
    full = kms.call(make("ListResourceTags", KeyId=kid))
    assert set(full) == {"Tags", "RequestId"}
    assert all(row["KeyId"] == kid for row in full["Tags"]["Tag"])
    assert listed(kms, kid) == {"env": "prod", "team": "core", "empty": ""}
    # adding more and replacing a value
    tag(kms, kid, {"env": "staging", "cost": "c-1"})
    assert listed(kms, kid) == {"env": "staging", "team": "core", "empty": "", "cost": "c-1"}
    reply = kms.call(make("UntagResource", KeyId=kid, TagKeys=json.dumps(["team", "cost"])))
    assert set(reply) == {"RequestId"}
    assert listed(kms, kid) == {"env": "staging", "empty": ""}
    # removing a tag key the key does not have is harmless
    kms.call(make("UntagResource", KeyId=kid, TagKeys=json.dumps(["never-there"])))
    assert listed(kms, kid) == {"env": "staging", "empty": ""}


def test_tags_by_alias_and_arn_and_from_create_key(kms):
    key = kms.create_key(Tags=tags_json({"born": "with-it"}))
    assert listed(kms, key["KeyId"]) == {"born": "with-it"}
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    tag(kms, alias, {"via": "alias"})
    tag(kms, key["Arn"], {"via2": "arn"})
    assert listed(kms, alias) == listed(kms, key["Arn"]) == \
        {"born": "with-it", "via": "alias", "via2": "arn"}


def test_tag_allowed_characters(kms, key):
    pairs = {"a/b\\c_d-e.f+g=h:i@j": "A/b\\c_d-e.f+g=h:i@j", "k" * 128: "v" * 128}
    tag(kms, key["KeyId"], pairs)
    assert listed(kms, key["KeyId"]) == pairs


def test_twenty_tags_at_most(kms, key):
    kid = key["KeyId"]
    kms.error(make("TagResource", KeyId=kid,
                   Tags=tags_json({f"k{i}": "v" for i in range(21)})), 400, "InvalidParameter")
    assert listed(kms, kid) == {}
    tag(kms, kid, {f"k{i}": "v" for i in range(15)})
    # 15 + 6 new = 21
    kms.error(make("TagResource", KeyId=kid,
                   Tags=tags_json({f"n{i}": "v" for i in range(6)})), 400, "InvalidParameter")
    assert len(listed(kms, kid)) == 15
    tag(kms, kid, {f"n{i}": "v" for i in range(5)})  # exactly 20
    assert len(listed(kms, kid)) == 20
    tag(kms, kid, {"k0": "replaced"})  # replacing is not adding
    assert listed(kms, kid)["k0"] == "replaced"


@pytest.mark.parametrize("tags", [
    pytest.param(tags_json({"acs:reserved": "x"}), id="acs-prefix"),
    pytest.param(tags_json({"aliyun-reserved": "x"}), id="aliyun-prefix"),
    pytest.param(tags_json({"": "x"}), id="empty-key"),
    pytest.param(tags_json({"k" * 129: "x"}), id="key-129"),
    pytest.param(tags_json({"k": "v" * 129}), id="value-129"),
    pytest.param(tags_json({"bad key": "x"}), id="space-in-key"),
    pytest.param(tags_json({"k": "bad*value"}), id="star-in-value"),
    pytest.param('[{"TagKey":"dup","TagValue":"1"},{"TagKey":"dup","TagValue":"2"}]',
                 id="duplicate-key"),
    pytest.param("not json", id="not-json"),
    pytest.param('{"TagKey":"k","TagValue":"v"}', id="object-not-array"),
    pytest.param('[{"TagValue":"v"}]', id="no-tag-key"),
])
def test_bad_tags(kms, key, tags):
    kms.error(make("TagResource", KeyId=key["KeyId"], Tags=tags), 400, "InvalidParameter")
    assert listed(kms, key["KeyId"]) == {}


def test_tag_resource_errors(kms, key):
    kms.error(make("TagResource", KeyId=str(uuid.uuid4()), Tags=tags_json({"k": "v"})), 404,
              "Forbidden.KeyNotFound")
    kms.error(make("TagResource", KeyId=key["KeyId"]), 400, "MissingParameter")
    kms.error(make("UntagResource", KeyId=key["KeyId"], TagKeys="not json"), 400,
              "InvalidParameter")
    kms.error(make("UntagResource", KeyId=key["KeyId"]), 400, "MissingParameter")
    kms.error(make("UntagResource", KeyId=str(uuid.uuid4()), TagKeys='["k"]'), 404,
              "Forbidden.KeyNotFound")
    kms.error(make("ListResourceTags", KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make("ListResourceTags"), 400, "MissingParameter")


def test_tags_on_disabled_and_pending_keys(kms, key):
    kid = key["KeyId"]
    kms.call(make("DisableKey", KeyId=kid))
    tag(kms, kid, {"state": "disabled"})
    kms.call(make("EnableKey", KeyId=kid))
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    assert listed(kms, kid) == {"state": "disabled"}


# ---------------------------------------------------------------------------------------
# TagResources / UntagResources / ListTagResources (repeat lists)


def test_sdk_serialises_repeat_lists_as_expected():
    req = make("TagResources", ResourceType="key", ResourceIds=["k1", "k2"],
               Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    q = req.get_query_params()
    assert {k: q[k] for k in q if k != "ResourceType"} == {
        "ResourceId.1": "k1", "ResourceId.2": "k2",
        "Tag.1.Key": "a", "Tag.1.Value": "1", "Tag.2.Key": "b", "Tag.2.Value": "2"}
    q = make("UntagResources", ResourceType="key", ResourceIds=["k1"],
             TagKeys=["a", "b"]).get_query_params()
    assert (q["ResourceId.1"], q["TagKey.1"], q["TagKey.2"]) == ("k1", "a", "b")


def tag_many(kms: Kms, ids: list, pairs: dict, **extra):
    return make("TagResources", ResourceType="key", ResourceIds=ids,
                Tags=[{"Key": k, "Value": v} for k, v in pairs.items()], **extra)


def rows(kms: Kms, ids: list | None = None, tags: list | None = None) -> list:
    params = {"ResourceType": "key"}
    if ids is not None:
        params["ResourceIds"] = ids
    if tags is not None:
        params["Tags"] = tags
    reply = kms.call(make("ListTagResources", **params))
    assert set(reply) >= {"TagResources", "RequestId"}
    out = reply["TagResources"]["TagResource"]
    for row in out:
        assert set(row) == {"ResourceType", "ResourceId", "TagKey", "TagValue"}, row
        assert row["ResourceType"] == "key"
    return sorted((r["ResourceId"], r["TagKey"], r["TagValue"]) for r in out)


def test_tag_resources_list_untag(kms):
    k1, k2 = kms.create_key()["KeyId"], kms.create_key()["KeyId"]
    reply = kms.call(tag_many(kms, [k1, k2], {"project": "apollo", "tier": "gold"}))
    assert set(reply) == {"RequestId"}
    expected = sorted([(k, t, v) for k in (k1, k2)
                       for t, v in (("project", "apollo"), ("tier", "gold"))])
    assert rows(kms, [k1, k2]) == expected
    assert rows(kms, [k1]) == [r for r in expected if r[0] == k1]
    # the JSON-style listing agrees
    assert listed(kms, k2) == {"project": "apollo", "tier": "gold"}
    # filter by tag key (any value) and by key + value
    assert rows(kms, [k1, k2], [{"Key": "tier"}]) == [r for r in expected if r[1] == "tier"]
    assert rows(kms, [k1, k2], [{"Key": "tier", "Value": "silver"}]) == []
    # untag one tag key from one key
    kms.call(make("UntagResources", ResourceType="key", ResourceIds=[k1], TagKeys=["tier"]))
    assert rows(kms, [k1]) == [(k1, "project", "apollo")]
    assert len(rows(kms, [k2])) == 2
    # All=True removes every tag
    kms.call(make("UntagResources", ResourceType="key", ResourceIds=[k1, k2], All=True))
    assert rows(kms, [k1, k2]) == []


def test_list_tag_resources_without_resource_ids_lists_every_key(kms):
    k = kms.create_key()["KeyId"]
    marker = "marker-" + uuid.uuid4().hex[:8]
    kms.call(tag_many(kms, [k], {marker: "yes"}))
    assert rows(kms, tags=[{"Key": marker}]) == [(k, marker, "yes")]


def test_tag_resources_unknown_resource(kms):
    k = kms.create_key()["KeyId"]
    missing = str(uuid.uuid4())
    kms.error(tag_many(kms, [k, missing], {"a": "1"}), 404, "InvalidResourceId.NotFound")
    assert listed(kms, k) == {}  # every key is checked before any is tagged
    kms.error(make("UntagResources", ResourceType="key", ResourceIds=[missing], TagKeys=["a"]),
              404, "InvalidResourceId.NotFound")
    kms.error(make("ListTagResources", ResourceType="key", ResourceIds=[missing]),
              404, "InvalidResourceId.NotFound")


def test_tag_resources_duplicate_tag_key(kms):
    k = kms.create_key()["KeyId"]
    req = make("TagResources", ResourceType="key", ResourceIds=[k],
               Tags=[{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}])
    kms.error(req, 400, "Duplicate.TagKey")
    assert listed(kms, k) == {}
    req = make("ListTagResources", ResourceType="key", ResourceIds=[k],
               Tags=[{"Key": "dup"}, {"Key": "dup"}])
    kms.error(req, 400, "Duplicate.TagKey")


def test_tag_resources_twenty_tags_at_most(kms):
    k = kms.create_key()["KeyId"]
    kms.error(tag_many(kms, [k], {f"k{i}": "v" for i in range(21)}), 400, "InvalidParameter")
    kms.call(tag_many(kms, [k], {f"k{i}": "v" for i in range(20)}))
    assert len(rows(kms, [k])) == 20


# Appendix A documents 400 InvalidParameter.TagKey and InvalidParameter.TagValue for
# TagResources (the JSON-style TagResource documents plain InvalidParameter).
@pytest.mark.parametrize("pairs", [
    pytest.param({"acs:reserved": "x"}, id="acs-prefix"),
    pytest.param({"aliyun-reserved": "x"}, id="aliyun-prefix"),
    pytest.param({"bad key": "x"}, id="space"),
    pytest.param({"k" * 129: "x"}, id="129-chars"),
])
def test_tag_resources_bad_tag_key(kms, pairs):
    k = kms.create_key()["KeyId"]
    kms.error(tag_many(kms, [k], pairs), 400, "InvalidParameter.TagKey")
    assert listed(kms, k) == {}


@pytest.mark.parametrize("value", [
    pytest.param("bad*value", id="star"),
    pytest.param("v" * 129, id="129-chars"),
])
def test_tag_resources_bad_tag_value(kms, value):
    k = kms.create_key()["KeyId"]
    kms.error(tag_many(kms, [k], {"ok": value}), 400, "InvalidParameter.TagValue")
    assert listed(kms, k) == {}


def test_tag_resources_missing_and_bad_parameters(kms):
    k = kms.create_key()["KeyId"]
    kms.error(make("TagResources", ResourceType="key", Tags=[{"Key": "a", "Value": "1"}]),
              400, "MissingParameter")
    kms.error(make("TagResources", ResourceType="key", ResourceIds=[k]), 400, "MissingParameter")
    kms.error(make("TagResources", ResourceIds=[k], Tags=[{"Key": "a", "Value": "1"}]),
              400, "MissingParameter")
    kms.error(make("TagResources", ResourceType="certificate", ResourceIds=[k],
                   Tags=[{"Key": "a", "Value": "1"}]), 400, "InvalidParameter")
    # secrets are tagged by name (test_secrets.py): a key id names no secret
    kms.error(make("TagResources", ResourceType="secret", ResourceIds=[k],
                   Tags=[{"Key": "a", "Value": "1"}]), 404, "Forbidden.ResourceNotFound")
    kms.error(make("UntagResources", ResourceType="key"), 400, "MissingParameter")
    kms.error(make("ListTagResources"), 400, "MissingParameter")


def test_region_id_is_sent_by_the_sdk(kms):
    # TagResources requires RegionId; the SDK adds the client's region on its own
    req = make("TagResources", ResourceType="key", ResourceIds=[kms.create_key()["KeyId"]],
               Tags=[{"Key": "r", "Value": REGION_ID}])
    kms.call(req)
