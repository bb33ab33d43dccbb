"""RAM (2015-05-01) at the KMS endpoint, through the official old SDK ``aliyun-python-sdk-ram``
(its own request classes, RPC signature V1, every parameter in the query) and the current Tea
SDK ``alibabacloud-ram20150501`` (signature V3).

Every action's reply is checked field by field (names, types, ``YYYY-MM-DDThh:mm:ssZ`` dates,
RequestId), every documented error by code and HTTP status through the SDK's ServerException.
Tests on the shared server make their own users and policies under fresh names; the paging
tests use a server of their own, so listings are exact.
"""

from __future__ import annotations

import json
import time

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from e2ehelp import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    DATE_RE,
    ERROR_ENVELOPE,
    REGION_ID,
    UUID_RE,
    Kms,
    attach,
    epoch,
    new_ram_user,
    own_kms,
    policy_document,
    ram_request,
    sdk_client,
    sdk_request,
    statement,
    unique_name,
)

R = ram_request
USER_FIELDS = {"UserId", "UserName", "DisplayName", "MobilePhone", "Email", "Comments",
               "CreateDate"}
POLICY_FIELDS = {"PolicyName", "PolicyType", "Description", "DefaultVersion", "CreateDate"}
LISTED_POLICY_FIELDS = POLICY_FIELDS | {"UpdateDate", "AttachmentCount"}
SYSTEM_POLICIES = {"AdministratorAccess", "AliyunKMSFullAccess", "AliyunKMSReadOnlyAccess",
                   "AliyunKMSCryptoUserAccess", "AliyunRAMFullAccess", "AliyunRAMReadOnlyAccess"}
ENCRYPT_ANYWHERE = policy_document(statement("kms:Encrypt", "*"))
TIMEOUT_MS = 30_000


def recent(date: str) -> None:
    """A ``YYYY-MM-DDThh:mm:ssZ`` date within ten minutes of now (the server's clock is ours)."""
    assert DATE_RE.match(date), date
    assert abs(epoch(date) - time.time()) < 600, date


def only_request_id(reply: dict) -> None:
    assert set(reply) == {"RequestId"}, reply
    assert UUID_RE.match(reply["RequestId"]), reply


def new_user(root: Kms, prefix: str = "ram") -> str:
    name = unique_name(prefix)
    root.call(R("CreateUser", UserName=name))
    return name


def new_policy(root: Kms, document: str = ENCRYPT_ANYWHERE, **params) -> str:
    name = unique_name("pol")
    root.call(R("CreatePolicy", PolicyName=name, PolicyDocument=document, **params))
    return name


# -- users --------------------------------------------------------------------------------


def test_create_get_delete_user_with_every_field(kms):
    name = unique_name("alice")
    given = {"UserName": name, "DisplayName": "Alice", "MobilePhone": "86-18600008888",
             "Email": "alice@example.com", "Comments": "seed builder"}
    created = kms.call(R("CreateUser", **given))
    assert set(created) == {"User", "RequestId"}
    assert UUID_RE.match(created["RequestId"]), created
    user = created["User"]
    assert set(user) == USER_FIELDS, user
    assert {k: user[k] for k in given} == given
    assert isinstance(user["UserId"], str) and user["UserId"]
    recent(user["CreateDate"])

    got = kms.call(R("GetUser", UserName=name))
    assert set(got) == {"User", "RequestId"}
    assert got["RequestId"] != created["RequestId"]
    assert set(got["User"]) == USER_FIELDS | {"UpdateDate"}, got["User"]
    assert {k: got["User"][k] for k in USER_FIELDS} == user
    assert DATE_RE.match(got["User"]["UpdateDate"])

    only_request_id(kms.call(R("DeleteUser", UserName=name)))
    kms.error(R("GetUser", UserName=name), 404, "EntityNotExist.User")
    kms.error(R("DeleteUser", UserName=name), 404, "EntityNotExist.User")
    # the name is free again: a new user, a new UserId
    again = kms.call(R("CreateUser", UserName=name))["User"]
    assert again["UserId"] != user["UserId"]
    kms.call(R("DeleteUser", UserName=name))


def test_create_user_with_only_a_name(kms):
    name = unique_name("minimal")
    user = kms.call(R("CreateUser", UserName=name))["User"]
    assert set(user) == USER_FIELDS
    assert user["UserName"] == name
    for field in ("DisplayName", "MobilePhone", "Email", "Comments"):
        assert isinstance(user[field], str), (field, user)


def test_create_user_errors(kms):
    name = new_user(kms)
    kms.error(R("CreateUser", UserName=name), 409, "EntityAlreadyExists.User")
    kms.error(R("CreateUser", UserName="root"), 400, "InvalidParameter")
    kms.error(R("CreateUser", UserName="bad name!"), 400, "InvalidParameter")
    kms.error(R("CreateUser", UserName="x" * 65), 400, "InvalidParameter")
    kms.error(R("CreateUser"), 400, "MissingParameter")
    kms.error(R("GetUser", UserName="root"), 404, "EntityNotExist.User")  # root is no RAM user
    kms.error(R("GetUser", UserName=unique_name("nobody")), 404, "EntityNotExist.User")


# -- paging (a server of its own: listings are exact) ---------------------------------------


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> Kms:
    yield from own_kms(tmp_path_factory, "ram-paging")


def pages(kms: Kms, action: str, outer: str, inner: str, **params) -> list[list[dict]]:
    """Every page of a Marker/MaxItems listing, checking IsTruncated and Marker on each."""
    out, marker = [], None
    while True:
        reply = kms.call(R(action, **params, **({"Marker": marker} if marker else {})))
        assert type(reply["IsTruncated"]) is bool, reply
        assert set(reply) == {outer, "IsTruncated", "RequestId"} | (
            {"Marker"} if reply["IsTruncated"] else set()), reply
        items = reply[outer][inner]
        assert isinstance(items, list)
        out.append(items)
        if not reply["IsTruncated"]:
            return out
        marker = reply["Marker"]
        assert isinstance(marker, str) and marker
        assert len(out) < 50, "paging does not end"


def test_list_users_pages_with_max_items_and_marker(own):
    assert pages(own, "ListUsers", "Users", "User") == [[]]
    made = [new_user(own, f"page{i}") for i in range(5)]

    everything = pages(own, "ListUsers", "Users", "User")
    assert len(everything) == 1
    assert sorted(u["UserName"] for u in everything[0]) == sorted(made)
    for u in everything[0]:
        assert set(u) == USER_FIELDS | {"UpdateDate"}, u
        recent(u["CreateDate"])

    by_two = pages(own, "ListUsers", "Users", "User", MaxItems=2)
    assert [len(p) for p in by_two] == [2, 2, 1]
    names = [u["UserName"] for p in by_two for u in p]
    assert names == [u["UserName"] for u in everything[0]], "pages are not one stable order"
    assert [len(p) for p in pages(own, "ListUsers", "Users", "User", MaxItems=5)] == [5]
    assert [len(p) for p in pages(own, "ListUsers", "Users", "User", MaxItems=1000)] == [5]

    for bad in (0, 1001):
        own.error(R("ListUsers", MaxItems=bad), 400, "InvalidParameter")
    own.error(R("ListUsers", Marker="not-a-marker"), 400, "InvalidParameter")


def test_list_policies_pages_and_filters_by_type(own):
    system = pages(own, "ListPolicies", "Policies", "Policy", PolicyType="System")
    assert {p["PolicyName"] for p in system[0]} == SYSTEM_POLICIES and len(system) == 1
    for p in system[0]:
        assert set(p) == LISTED_POLICY_FIELDS, p
        assert p["PolicyType"] == "System" and p["DefaultVersion"] == "v1"
        assert DATE_RE.match(p["CreateDate"]) and type(p["AttachmentCount"]) is int

    made = [new_policy(own, Description=f"policy {i}") for i in range(3)]
    custom = pages(own, "ListPolicies", "Policies", "Policy", PolicyType="Custom")
    assert sorted(p["PolicyName"] for p in custom[0]) == sorted(made)
    assert all(p["PolicyType"] == "Custom" and p["AttachmentCount"] == 0 for p in custom[0])

    by_four = pages(own, "ListPolicies", "Policies", "Policy", MaxItems=4)
    assert [len(p) for p in by_four] == [4, 4, 1]
    names = [p["PolicyName"] for page in by_four for p in page]
    assert len(set(names)) == 9 and set(names) == SYSTEM_POLICIES | set(made)
    own.error(R("ListPolicies", PolicyType="Bogus"), 400, "InvalidParameter")


# -- AccessKeys -----------------------------------------------------------------------------


def test_access_key_lifecycle(kms, server):
    name = new_user(kms, "akuser")
    attach(kms, name, new_policy(kms, policy_document(statement("kms:ListKeys", "*"))))

    created = kms.call(R("CreateAccessKey", UserName=name))
    assert set(created) == {"AccessKey", "RequestId"}
    ak = created["AccessKey"]
    assert set(ak) == {"AccessKeyId", "AccessKeySecret", "Status", "CreateDate"}, ak
    assert ak["Status"] == "Active"
    recent(ak["CreateDate"])
    ak_id, secret = ak["AccessKeyId"], ak["AccessKeySecret"]
    assert isinstance(ak_id, str) and ak_id and isinstance(secret, str) and len(secret) >= 16

    listed = kms.call(R("ListAccessKeys", UserName=name))
    assert set(listed) == {"AccessKeys", "RequestId"}
    assert listed["AccessKeys"]["AccessKey"] == [
        {"AccessKeyId": ak_id, "Status": "Active", "CreateDate": ak["CreateDate"]}]
    assert secret not in json.dumps(listed)
    assert secret not in json.dumps(kms.call(R("GetUser", UserName=name)))

    # the new key signs KMS requests, and its user's policy allows ListKeys
    as_user = Kms(server, sdk_client(server, ak_id, secret))
    assert "Keys" in as_user.call(sdk_request("ListKeys"))

    only_request_id(kms.call(R("UpdateAccessKey", UserName=name, UserAccessKeyId=ak_id,
                                 Status="Inactive")))
    assert kms.call(R("ListAccessKeys", UserName=name))["AccessKeys"]["AccessKey"][0]["Status"] \
        == "Inactive"
    as_user.error(sdk_request("ListKeys"), 403, "Forbidden.AccessKeyDisabled")
    as_user.error(R("ListUsers"), 403, "Forbidden.AccessKeyDisabled")

    kms.call(R("UpdateAccessKey", UserName=name, UserAccessKeyId=ak_id, Status="Active"))
    assert "Keys" in as_user.call(sdk_request("ListKeys"))

    only_request_id(kms.call(R("DeleteAccessKey", UserName=name, UserAccessKeyId=ak_id)))
    as_user.error(sdk_request("ListKeys"), 404, "InvalidAccessKeyId.NotFound")
    assert kms.call(R("ListAccessKeys", UserName=name))["AccessKeys"]["AccessKey"] == []
    kms.error(R("DeleteAccessKey", UserName=name, UserAccessKeyId=ak_id), 404,
              "EntityNotExist.User.AccessKey")
    kms.error(R("UpdateAccessKey", UserName=name, UserAccessKeyId=ak_id, Status="Active"), 404,
              "EntityNotExist.User.AccessKey")


def test_access_key_limits_and_errors(kms):
    name = new_user(kms, "aklimit")
    other = new_user(kms, "akother")
    first = kms.call(R("CreateAccessKey", UserName=name))["AccessKey"]
    second = kms.call(R("CreateAccessKey", UserName=name))["AccessKey"]
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["AccessKeySecret"] != second["AccessKeySecret"]
    kms.error(R("CreateAccessKey", UserName=name), 409, "LimitExceeded.User.AccessKey")
    listed = kms.call(R("ListAccessKeys", UserName=name))["AccessKeys"]["AccessKey"]
    assert sorted(k["AccessKeyId"] for k in listed) == \
        sorted([first["AccessKeyId"], second["AccessKeyId"]])

    # another user's key is not this user's
    kms.error(R("UpdateAccessKey", UserName=other, UserAccessKeyId=first["AccessKeyId"],
                Status="Inactive"), 404, "EntityNotExist.User.AccessKey")
    kms.error(R("DeleteAccessKey", UserName=other, UserAccessKeyId=first["AccessKeyId"]), 404,
              "EntityNotExist.User.AccessKey")
    kms.error(R("UpdateAccessKey", UserName=name, UserAccessKeyId=first["AccessKeyId"],
                Status="Sleeping"), 400, "InvalidParameter")

    nobody = unique_name("nobody")
    kms.error(R("CreateAccessKey", UserName=nobody), 404, "EntityNotExist.User")
    kms.error(R("ListAccessKeys", UserName=nobody), 404, "EntityNotExist.User")
    # the root identity has no RAM user: it must name one
    kms.error(R("CreateAccessKey"), 400, "MissingParameter")

    kms.error(R("DeleteUser", UserName=name), 409, "DeleteConflict.User.AccessKey")
    for k in (first, second):
        kms.call(R("DeleteAccessKey", UserName=name, UserAccessKeyId=k["AccessKeyId"]))
    only_request_id(kms.call(R("DeleteUser", UserName=name)))


# -- policies and attachments ----------------------------------------------------------------


def test_policy_lifecycle_and_attachments(kms):
    name = unique_name("pol")
    document = policy_document(statement(["kms:Encrypt", "kms:Decrypt"],
                                         "acs:kms:*:*:alias/app"))
    created = kms.call(R("CreatePolicy", PolicyName=name, PolicyDocument=document,
                         Description="encrypt with the app alias"))
    assert set(created) == {"Policy", "RequestId"}
    assert set(created["Policy"]) == POLICY_FIELDS
    assert created["Policy"] == {**created["Policy"], "PolicyName": name, "PolicyType": "Custom",
                                 "Description": "encrypt with the app alias",
                                 "DefaultVersion": "v1"}
    recent(created["Policy"]["CreateDate"])

    got = kms.call(R("GetPolicy", PolicyName=name, PolicyType="Custom"))
    assert set(got) == {"Policy", "DefaultPolicyVersion", "RequestId"}
    assert got["Policy"] == {**created["Policy"], "UpdateDate": got["Policy"]["UpdateDate"],
                             "AttachmentCount": 0}
    assert type(got["Policy"]["AttachmentCount"]) is int
    assert DATE_RE.match(got["Policy"]["UpdateDate"])
    version = got["DefaultPolicyVersion"]
    assert set(version) == {"VersionId", "IsDefaultVersion", "CreateDate", "PolicyDocument"}
    assert version["VersionId"] == "v1" and version["IsDefaultVersion"] is True
    assert DATE_RE.match(version["CreateDate"])
    assert json.loads(version["PolicyDocument"]) == json.loads(document)

    kms.error(R("CreatePolicy", PolicyName=name, PolicyDocument=document), 409,
              "EntityAlreadyExists.Policy")

    user = new_user(kms, "attach")
    only_request_id(kms.call(R("AttachPolicyToUser", PolicyType="Custom", PolicyName=name,
                               UserName=user)))
    attach(kms, user, "AliyunKMSReadOnlyAccess", "System")
    assert kms.call(R("GetPolicy", PolicyName=name, PolicyType="Custom"))["Policy"][
        "AttachmentCount"] == 1

    listed = kms.call(R("ListPoliciesForUser", UserName=user))
    assert set(listed) == {"Policies", "RequestId"}
    by_name = {p["PolicyName"]: p for p in listed["Policies"]["Policy"]}
    assert set(by_name) == {name, "AliyunKMSReadOnlyAccess"}
    for p in by_name.values():
        assert set(p) == {"PolicyName", "PolicyType", "Description", "DefaultVersion",
                          "AttachDate"}, p
        assert p["DefaultVersion"] == "v1"
        recent(p["AttachDate"])
    assert by_name[name]["PolicyType"] == "Custom"
    assert by_name[name]["Description"] == "encrypt with the app alias"
    assert by_name["AliyunKMSReadOnlyAccess"]["PolicyType"] == "System"

    kms.error(R("AttachPolicyToUser", PolicyType="Custom", PolicyName=name, UserName=user),
              409, "EntityAlreadyExists.User.Policy")
    kms.error(R("DeletePolicy", PolicyName=name), 409, "DeleteConflict.Policy.User")
    kms.error(R("DeleteUser", UserName=user), 409, "DeleteConflict.User.Policy")

    only_request_id(kms.call(R("DetachPolicyFromUser", PolicyType="Custom", PolicyName=name,
                               UserName=user)))
    kms.error(R("DetachPolicyFromUser", PolicyType="Custom", PolicyName=name, UserName=user),
              404, "EntityNotExist.User.Policy")
    assert [p["PolicyName"] for p in kms.call(R("ListPoliciesForUser", UserName=user))[
        "Policies"]["Policy"]] == ["AliyunKMSReadOnlyAccess"]
    assert kms.call(R("GetPolicy", PolicyName=name, PolicyType="Custom"))["Policy"][
        "AttachmentCount"] == 0

    only_request_id(kms.call(R("DeletePolicy", PolicyName=name)))
    kms.error(R("GetPolicy", PolicyName=name, PolicyType="Custom"), 404, "EntityNotExist.Policy")
    kms.error(R("DeletePolicy", PolicyName=name), 404, "EntityNotExist.Policy")

    kms.call(R("DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunKMSReadOnlyAccess",
               UserName=user))
    assert kms.call(R("ListPoliciesForUser", UserName=user))["Policies"]["Policy"] == []
    only_request_id(kms.call(R("DeleteUser", UserName=user)))


def test_system_policy_is_readable_and_not_deletable(kms):
    got = kms.call(R("GetPolicy", PolicyName="AliyunKMSFullAccess", PolicyType="System"))
    assert got["Policy"]["PolicyType"] == "System"
    assert set(got["Policy"]) == LISTED_POLICY_FIELDS
    doc = json.loads(got["DefaultPolicyVersion"]["PolicyDocument"])
    assert doc["Version"] == "1" and doc["Statement"]
    # a System policy is not a Custom one
    kms.error(R("GetPolicy", PolicyName="AliyunKMSFullAccess", PolicyType="Custom"), 404,
              "EntityNotExist.Policy")
    kms.error(R("DeletePolicy", PolicyName="AliyunKMSFullAccess"), 404, "EntityNotExist.Policy")
    kms.error(R("CreatePolicy", PolicyName="AliyunKMSFullAccess", PolicyDocument=ENCRYPT_ANYWHERE),
              409, "EntityAlreadyExists.Policy")


@pytest.mark.parametrize("document", [
    "not json",
    "[]",
    json.dumps({"Version": "1"}),
    policy_document({"Effect": "Maybe", "Action": "kms:Encrypt", "Resource": "*"}),
    policy_document({"Effect": "Allow", "Resource": "*"}),
    policy_document({"Effect": "Allow", "Action": "kms:Encrypt"}),
    policy_document(statement("kms:Encrypt", "*", condition={"NoSuchOperator": {"a": "b"}})),
], ids=["not-json", "array", "no-statement", "bad-effect", "no-action",
        "no-resource", "bad-condition"])
def test_malformed_policy_document(kms, document):
    name = unique_name("bad")
    kms.error(R("CreatePolicy", PolicyName=name, PolicyDocument=document), 400,
              "MalformedPolicyDocument")
    kms.error(R("GetPolicy", PolicyName=name, PolicyType="Custom"), 404, "EntityNotExist.Policy")


def test_policy_and_attachment_errors(kms):
    user = new_user(kms, "polerr")
    policy = new_policy(kms)
    nobody, no_policy = unique_name("nobody"), unique_name("nopol")
    kms.error(R("CreatePolicy", PolicyName="under_score", PolicyDocument=ENCRYPT_ANYWHERE), 400,
              "InvalidParameter")
    kms.error(R("CreatePolicy", PolicyName=unique_name("nodoc")), 400, "MissingParameter")
    kms.error(R("GetPolicy", PolicyName=policy, PolicyType="Bogus"), 400, "InvalidParameter")
    kms.error(R("GetPolicy", PolicyName=no_policy, PolicyType="Custom"), 404,
              "EntityNotExist.Policy")
    kms.error(R("AttachPolicyToUser", PolicyType="Custom", PolicyName=policy, UserName=nobody),
              404, "EntityNotExist.User")
    kms.error(R("AttachPolicyToUser", PolicyType="Custom", PolicyName=no_policy, UserName=user),
              404, "EntityNotExist.Policy")
    kms.error(R("AttachPolicyToUser", PolicyType="System", PolicyName=policy, UserName=user),
              404, "EntityNotExist.Policy")
    kms.error(R("DetachPolicyFromUser", PolicyType="Custom", PolicyName=policy, UserName=user),
              404, "EntityNotExist.User.Policy")
    kms.error(R("ListPoliciesForUser", UserName=nobody), 404, "EntityNotExist.User")


# -- RAM permissions of RAM users ----------------------------------------------------------


def test_user_without_ram_permissions_gets_no_permission(kms):
    plain = new_ram_user(kms, "noram", system=["AliyunKMSFullAccess"])
    err = plain.kms.error(R("CreateUser", UserName=unique_name("made")), 403, "NoPermission")
    assert err.body["Message"]
    plain.kms.error(R("GetUser", UserName=plain.name), 403, "NoPermission")
    plain.kms.error(R("ListUsers"), 403, "NoPermission")
    plain.kms.error(R("CreateAccessKey"), 403, "NoPermission")
    # no way up: it may not attach anything to itself
    plain.kms.error(R("AttachPolicyToUser", PolicyType="System", PolicyName="AdministratorAccess",
                      UserName=plain.name), 403, "NoPermission")
    assert [p["PolicyName"] for p in kms.call(R("ListPoliciesForUser", UserName=plain.name))[
        "Policies"]["Policy"]] == ["AliyunKMSFullAccess"]
    # KMS is what its policy allows
    assert plain.kms.create_key()["KeyId"]


def test_ram_read_only_user_reads_but_does_not_write(kms):
    reader = new_ram_user(kms, "ramro", system=["AliyunRAMReadOnlyAccess"])
    assert reader.kms.call(R("GetUser", UserName=reader.name))["User"]["UserName"] == reader.name
    assert isinstance(reader.kms.call(R("ListUsers", MaxItems=1))["IsTruncated"], bool)
    assert reader.kms.call(R("GetPolicy", PolicyName="AliyunRAMReadOnlyAccess",
                             PolicyType="System"))["Policy"]["AttachmentCount"] >= 1
    mine = reader.kms.call(R("ListAccessKeys"))["AccessKeys"]["AccessKey"]  # its own keys
    assert [k["AccessKeyId"] for k in mine] == [reader.access_key_id]
    made = unique_name("made")
    reader.kms.error(R("CreateUser", UserName=made), 403, "NoPermission")
    kms.error(R("GetUser", UserName=made), 404, "EntityNotExist.User")  # nothing happened
    reader.kms.error(R("CreatePolicy", PolicyName=unique_name("p"),
                       PolicyDocument=ENCRYPT_ANYWHERE), 403, "NoPermission")
    reader.kms.error(R("CreateAccessKey"), 403, "NoPermission")
    # and no KMS at all
    reader.kms.error(sdk_request("ListKeys"), 403, "Forbidden.NoPermission")


def test_ram_policy_on_user_arns(kms):
    """ram:CreateUser on acs:ram:*:<account>:user/app-*: only names under that prefix."""
    doc = policy_document(statement(["ram:CreateUser", "ram:GetUser"],
                                    f"acs:ram:*:{ACCOUNT_ID}:user/app-*"))
    admin = new_ram_user(kms, "userarn", documents=[doc])
    allowed = unique_name("app")
    created = admin.kms.call(R("CreateUser", UserName=allowed))["User"]
    assert created["UserName"] == allowed
    assert admin.kms.call(R("GetUser", UserName=allowed))["User"]["UserId"] == created["UserId"]
    other = unique_name("ops")
    admin.kms.error(R("CreateUser", UserName=other), 403, "NoPermission")
    kms.error(R("GetUser", UserName=other), 404, "EntityNotExist.User")
    admin.kms.error(R("DeleteUser", UserName=allowed), 403, "NoPermission")


def test_ram_full_access_user_manages_its_own_access_keys(kms):
    admin = new_ram_user(kms, "ramfull", system=["AliyunRAMFullAccess"])
    # no UserName: the caller's own keys
    second = admin.kms.call(R("CreateAccessKey"))["AccessKey"]
    mine = kms.call(R("ListAccessKeys", UserName=admin.name))["AccessKeys"]["AccessKey"]
    assert sorted(k["AccessKeyId"] for k in mine) == \
        sorted([admin.access_key_id, second["AccessKeyId"]])
    # and it manages other users
    made = unique_name("made")
    admin.kms.call(R("CreateUser", UserName=made))
    admin.kms.call(R("DeleteUser", UserName=made))
    # disabling its own key locks that key out (the other still works)
    admin.kms.call(R("UpdateAccessKey", UserAccessKeyId=admin.access_key_id, Status="Inactive"))
    admin.kms.error(R("ListUsers"), 403, "Forbidden.AccessKeyDisabled")
    other = Kms(kms.server,
                sdk_client(kms.server, second["AccessKeyId"], second["AccessKeySecret"]))
    other.call(R("UpdateAccessKey", UserAccessKeyId=admin.access_key_id, Status="Active"))
    assert admin.kms.call(R("ListUsers", MaxItems=1))["RequestId"]


# -- the Tea SDK (alibabacloud-ram20150501, signature V3) --------------------------------------


def tea_ram(server, ak: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET) -> RamClient:
    return RamClient(Config(access_key_id=ak, access_key_secret=secret, region_id=REGION_ID,
                            endpoint=f"127.0.0.1:{server.port}", protocol="https",
                            ca=str(server.ca_path), connect_timeout=TIMEOUT_MS,
                            read_timeout=TIMEOUT_MS))


def tea_error(call, status: int, code: str) -> ClientException:
    with pytest.raises(ClientException) as info:
        call()
    exc = info.value
    assert (exc.status_code, exc.code) == (status, code), \
        f"expected HTTP {status} {code}, got HTTP {exc.status_code} {exc.code}: {exc.message!r}"
    data = exc.data or {}
    assert not [k for k in ERROR_ENVELOPE if k not in data], data
    assert exc.request_id == data["RequestId"]
    return exc


def test_tea_sdk_users_access_keys_and_policies(server, kms):
    tea = tea_ram(server)
    name = unique_name("tea")
    user = tea.create_user(ram_models.CreateUserRequest(
        user_name=name, display_name="Tea", email="tea@example.com", comments="via Tea")).body
    assert user.request_id and user.user.user_name == name and user.user.display_name == "Tea"
    recent(user.user.create_date)
    got = tea.get_user(ram_models.GetUserRequest(user_name=name)).body.user
    assert (got.user_id, got.email, got.comments) == (user.user.user_id, "tea@example.com",
                                                      "via Tea")

    policy = unique_name("teapol")
    doc = policy_document(statement("ram:GetUser", f"acs:ram:*:{ACCOUNT_ID}:user/{name}"))
    made = tea.create_policy(ram_models.CreatePolicyRequest(
        policy_name=policy, policy_document=doc, description="get itself")).body.policy
    assert (made.policy_type, made.default_version) == ("Custom", "v1")
    fetched = tea.get_policy(ram_models.GetPolicyRequest(policy_name=policy,
                                                         policy_type="Custom")).body
    assert json.loads(fetched.default_policy_version.policy_document) == json.loads(doc)
    assert fetched.default_policy_version.is_default_version is True
    tea.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name=policy, user_name=name))
    attached = tea.list_policies_for_user(ram_models.ListPoliciesForUserRequest(user_name=name))
    assert [p.policy_name for p in attached.body.policies.policy] == [policy]

    ak = tea.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name)).body.access_key
    assert ak.status == "Active" and ak.access_key_secret
    keys = tea.list_access_keys(ram_models.ListAccessKeysRequest(user_name=name)).body
    assert [(k.access_key_id, k.status) for k in keys.access_keys.access_key] == \
        [(ak.access_key_id, "Active")]

    listed = tea.list_users(ram_models.ListUsersRequest(max_items=1000)).body
    assert name in [u.user_name for u in listed.users.user]

    tea_error(lambda: tea.get_user(ram_models.GetUserRequest(user_name=unique_name("no"))),
              404, "EntityNotExist.User")
    tea_error(lambda: tea.create_user(ram_models.CreateUserRequest(user_name=name)),
              409, "EntityAlreadyExists.User")

    # the new user, through the Tea SDK: what its policy allows, and nothing else
    as_user = tea_ram(server, ak.access_key_id, ak.access_key_secret)
    assert as_user.get_user(ram_models.GetUserRequest(user_name=name)).body.user.user_name == name
    tea_error(lambda: as_user.create_user(ram_models.CreateUserRequest(user_name=unique_name("x"))),
              403, "NoPermission")
    tea_error(lambda: as_user.list_users(ram_models.ListUsersRequest()), 403, "NoPermission")

    tea.update_access_key(ram_models.UpdateAccessKeyRequest(
        user_name=name, user_access_key_id=ak.access_key_id, status="Inactive"))
    tea_error(lambda: as_user.get_user(ram_models.GetUserRequest(user_name=name)),
              403, "Forbidden.AccessKeyDisabled")
    tea.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=name, user_access_key_id=ak.access_key_id))
    tea.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
        policy_type="Custom", policy_name=policy, user_name=name))
    tea.delete_policy(ram_models.DeletePolicyRequest(policy_name=policy))
    assert tea.delete_user(ram_models.DeleteUserRequest(user_name=name)).body.request_id
    kms.error(R("GetUser", UserName=name), 404, "EntityNotExist.User")
