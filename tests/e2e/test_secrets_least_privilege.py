"""Least privilege for secrets: RAM actions (`kms:GetSecretValue`, …) on secret ARNs
`acs:kms:<region>:<account>:secret/<name>` through the same policy engine as keys, with the
secret's own policy judged beside the caller's, and the CMK check Alibaba makes (reading a
version needs `kms:Decrypt` on the secret's CMK, writing one `kms:GenerateDataKey`). The old SDK
signs for the users, over TLS; root makes everything.
"""

from __future__ import annotations

import json

from aliyunsdkcore.acs_exception.exceptions import ServerException

from e2ehelp import (
    ACCOUNT_ID,
    REGION_ID,
    Kms,
    key_arn,
    new_ram_user,
    policy_document,
    sdk_request,
    statement,
    unique_name,
)

NO = (403, "Forbidden.NoPermission")


def secret_arn(name: str) -> str:
    return f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/{name}"


def refused(kms: Kms, action: str, **params) -> None:
    req = sdk_request(action, **params)
    kms.prepare(req)
    try:
        kms.client.do_action_with_exception(req)
    except ServerException as exc:
        assert (exc.get_http_status(), exc.get_error_code()) == NO, exc.get_error_msg()
        return
    raise AssertionError(f"{action} {params} was allowed")


def make_secret(root: Kms, value: str, key_id: str | None = None) -> str:
    name = f"app/{unique_name('lp')}"
    params = dict(SecretName=name, VersionId="v1", SecretData=value)
    if key_id:
        params["EncryptionKeyId"] = key_id
    root.call(sdk_request("CreateSecret", **params))
    return name


def test_one_user_reads_one_secret_and_nothing_else(kms):
    mine, other = make_secret(kms, "mine"), make_secret(kms, "other")
    user = new_ram_user(kms, "reader", documents=[policy_document(
        statement("kms:GetSecretValue", secret_arn(mine)))])
    got = user.kms.call(sdk_request("GetSecretValue", SecretName=mine))
    assert got["SecretData"] == "mine"
    refused(user.kms, "GetSecretValue", SecretName=other)
    refused(user.kms, "GetSecretValue", SecretName="no-such-secret")
    refused(user.kms, "DescribeSecret", SecretName=mine)
    refused(user.kms, "PutSecretValue", SecretName=mine, VersionId="v2", SecretData="x")
    refused(user.kms, "DeleteSecret", SecretName=mine, ForceDeleteWithoutRecovery="true")
    refused(user.kms, "ListSecrets")
    refused(user.kms, "CreateSecret", SecretName=f"{mine}-2", VersionId="v1", SecretData="x")
    assert kms.call(sdk_request("GetSecretValue", SecretName=mine))["VersionId"] == "v1", \
        "the refused requests changed nothing"


def test_reading_needs_decrypt_on_the_secrets_cmk(kms):
    key = kms.create_key()["KeyId"]
    name = make_secret(kms, "cmk-bound", key)
    blind = new_ram_user(kms, "blind", documents=[policy_document(
        statement("kms:GetSecretValue", secret_arn(name)))])
    refused(blind.kms, "GetSecretValue", SecretName=name)
    sighted = new_ram_user(kms, "sighted", documents=[policy_document(
        statement("kms:GetSecretValue", secret_arn(name)),
        statement("kms:Decrypt", key_arn(key)))])
    assert sighted.kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] \
        == "cmk-bound"
    # writing a version needs GenerateDataKey on the CMK too
    writer = new_ram_user(kms, "writer", documents=[policy_document(
        statement("kms:PutSecretValue", secret_arn(name)))])
    refused(writer.kms, "PutSecretValue", SecretName=name, VersionId="v2", SecretData="x")
    creator = new_ram_user(kms, "creator", documents=[policy_document(
        statement("kms:CreateSecret", f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/*"))])
    refused(creator.kms, "CreateSecret", SecretName=f"{name}-c", VersionId="v1",
            SecretData="x", EncryptionKeyId=key)


def test_a_secret_policy_is_judged_with_the_users_policies(kms):
    name = make_secret(kms, "guarded")
    user = new_ram_user(kms, "guarded", documents=[policy_document(
        statement("kms:GetSecretValue", "*"))])
    assert user.kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == "guarded"
    deny = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
         "Action": ["kms:*"], "Resource": ["*"]},
        {"Effect": "Deny", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:user/{user.name}"]},
         "Action": ["kms:GetSecretValue"], "Resource": ["*"]}]}
    kms.call(sdk_request("SetSecretPolicy", SecretName=name, Policy=json.dumps(deny)))
    refused(user.kms, "GetSecretValue", SecretName=name)
    assert kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == "guarded"


def default_secrets_key(root: Kms) -> str:
    """The id of the server's default secrets key (made by the first secret without a CMK)."""
    make_secret(root, "on the default key")
    page = 1
    while True:
        got = root.call(sdk_request("ListKeys", PageSize="100", PageNumber=str(page)))
        for key in got["Keys"]["Key"]:
            meta = root.call(sdk_request("DescribeKey", KeyId=key["KeyId"]))["KeyMetadata"]
            if meta["Description"] == "openkms Secrets Manager default key":
                return key["KeyId"]
        if page * 100 >= got["TotalCount"]:
            raise AssertionError("no default secrets key listed")
        page += 1


def test_a_key_admin_cannot_touch_the_default_secrets_key(kms):
    key = default_secrets_key(kms)
    meta = kms.call(sdk_request("DescribeKey", KeyId=key))["KeyMetadata"]
    assert meta["DeletionProtection"] == "Enabled"
    name = make_secret(kms, "kept")
    admin = new_ram_user(kms, "keyadmin", documents=[policy_document(
        statement("kms:*", f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:key/*"),
        statement("kms:CreateKey", "*"))])
    own = admin.kms.call(sdk_request("CreateKey"))["KeyMetadata"]["KeyId"]
    admin.kms.call(sdk_request("UpdateKeyDescription", KeyId=own, Description="mine"))
    refused(admin.kms, "DisableKey", KeyId=key)
    refused(admin.kms, "ScheduleKeyDeletion", KeyId=key, PendingWindowInDays="7")
    refused(admin.kms, "SetDeletionProtection", ProtectedResourceArn=key_arn(key),
            EnableDeletionProtection="false")
    refused(admin.kms, "UpdateKeyDescription", KeyId=key, Description="x")
    refused(admin.kms, "SetKeyPolicy", KeyId=key, PolicyName="default",
            Policy=json.dumps({"Version": "1", "Statement": [
                {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
                 "Action": ["kms:*"], "Resource": ["*"]}]}))
    meta = kms.call(sdk_request("DescribeKey", KeyId=key))["KeyMetadata"]
    assert (meta["KeyState"], meta["DeletionProtection"]) == ("Enabled", "Enabled")
    assert kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == "kept"


def refused_with(kms: Kms, expected: tuple, action: str, **params) -> None:
    req = sdk_request(action, **params)
    kms.prepare(req)
    try:
        kms.client.do_action_with_exception(req)
    except ServerException as exc:
        assert (exc.get_http_status(), exc.get_error_code()) == expected, exc.get_error_msg()
        return
    raise AssertionError(f"{action} {params} was allowed")


SECRETS = f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/*"


def test_a_re_put_is_no_oracle_for_a_writer_who_cannot_read(kms):
    key = kms.create_key()["KeyId"]
    name = make_secret(kms, "first", key)
    kms.call(sdk_request("PutSecretValue", SecretName=name, VersionId="v2", SecretData="1234"))
    writer = new_ram_user(kms, "putonly", documents=[policy_document(
        statement("kms:PutSecretValue", secret_arn(name)),
        statement("kms:GenerateDataKey", key_arn(key)))])
    for guess in ("1233", "1234"):
        refused_with(writer.kms, (409, "Rejected.ResourceExist"), "PutSecretValue",
                     SecretName=name, VersionId="v2", SecretData=guess)
    reader = new_ram_user(kms, "putread", documents=[policy_document(
        statement(["kms:PutSecretValue", "kms:GetSecretValue"], secret_arn(name)),
        statement(["kms:GenerateDataKey", "kms:Decrypt"], key_arn(key)))])
    reader.kms.call(sdk_request("PutSecretValue", SecretName=name, VersionId="v2",
                                SecretData="1234"))
    refused_with(reader.kms, (409, "Rejected.ResourceExist"), "PutSecretValue",
                 SecretName=name, VersionId="v2", SecretData="1233")


def test_the_cmk_check_judges_the_alias_and_the_encryption_context(kms):
    key = kms.create_key()["KeyId"]
    alias = f"alias/{unique_name('sec')}"
    kms.create_alias(alias, key)
    alias_arn = f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:{alias}"
    user = new_ram_user(kms, "aliasdeny", documents=[policy_document(
        statement(["kms:CreateSecret", "kms:GetSecretValue"], SECRETS),
        statement(["kms:GenerateDataKey", "kms:Decrypt"], "*"),
        statement("kms:*", alias_arn, effect="Deny"))])
    refused(user.kms, "CreateSecret", SecretName=f"app/{unique_name('a')}", VersionId="v1",
            SecretData="x", EncryptionKeyId=alias)
    name = f"app/{unique_name('ctx')}"
    user.kms.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1",
                              SecretData="x", EncryptionKeyId=key))
    assert user.kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == "x"
    denied = new_ram_user(kms, "ctxdeny", documents=[policy_document(
        statement("kms:GetSecretValue", SECRETS),
        statement("kms:Decrypt", "*"),
        statement("kms:Decrypt", "*", effect="Deny",
                  condition={"StringEquals": {"kms:EncryptionContext/SecretName": name}}))])
    refused(denied.kms, "GetSecretValue", SecretName=name)


def test_create_secret_authorizes_before_resolving_an_alias(kms):
    user = new_ram_user(kms, "noalias", documents=[policy_document(
        statement("kms:CreateSecret", SECRETS))])
    for alias in ("alias/nope-" + unique_name("n"), "alias/" + unique_name("n")):
        refused(user.kms, "CreateSecret", SecretName=f"app/{unique_name('n')}",
                VersionId="v1", SecretData="x", EncryptionKeyId=alias)
    key = kms.create_key()["KeyId"]
    existing = f"alias/{unique_name('real')}"
    kms.create_alias(existing, key)
    refused(user.kms, "CreateSecret", SecretName=f"app/{unique_name('n')}",
            VersionId="v1", SecretData="x", EncryptionKeyId=existing)


def test_a_policy_at_create_secret_needs_set_secret_policy(kms):
    policy = json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
         "Action": ["kms:*"], "Resource": ["*"]}]})
    creator = new_ram_user(kms, "nopolicy", documents=[policy_document(
        statement("kms:CreateSecret", SECRETS))])
    refused(creator.kms, "CreateSecret", SecretName=f"app/{unique_name('p')}",
            VersionId="v1", SecretData="x", Policy=policy)
    creator.kms.call(sdk_request("CreateSecret", SecretName=f"app/{unique_name('p')}",
                                 VersionId="v1", SecretData="x"))
    setter = new_ram_user(kms, "withpolicy", documents=[policy_document(
        statement(["kms:CreateSecret", "kms:SetSecretPolicy"], SECRETS))])
    name = f"app/{unique_name('p')}"
    setter.kms.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1",
                                SecretData="x", Policy=policy))
    assert json.loads(kms.call(sdk_request("GetSecretPolicy", SecretName=name))["Policy"]) \
        == json.loads(policy)


def test_list_secrets_shows_only_the_secrets_the_caller_may_see(kms):
    prefix = unique_name("vis")
    names = [f"{prefix}/{i}" for i in range(3)]
    for n in names:
        kms.call(sdk_request("CreateSecret", SecretName=n, VersionId="v1", SecretData="x",
                             Tags=json.dumps([{"TagKey": "team", "TagValue": n}])))
    flt = json.dumps([{"Key": "SecretName", "Values": names}])
    container = f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret"
    blind = new_ram_user(kms, "listonly", documents=[policy_document(
        statement("kms:ListSecrets", container))])
    got = blind.kms.call(sdk_request("ListSecrets", Filters=flt, FetchTags="true"))
    assert got["TotalCount"] == 0 and not got.get("SecretList", {}).get("Secret"), got
    one = new_ram_user(kms, "listone", documents=[policy_document(
        statement("kms:ListSecrets", container),
        statement("kms:DescribeSecret", secret_arn(names[1])))])
    got = one.kms.call(sdk_request("ListSecrets", Filters=flt, FetchTags="true"))
    assert got["TotalCount"] == 1, got
    assert [s["SecretName"] for s in got["SecretList"]["Secret"]] == [names[1]]
    tag_probe = json.dumps([{"Key": "TagValue", "Values": [names[0]]}])
    assert one.kms.call(sdk_request("ListSecrets", Filters=tag_probe))["TotalCount"] == 0
    assert kms.call(sdk_request("ListSecrets", Filters=flt))["TotalCount"] == 3
