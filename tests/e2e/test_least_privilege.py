"""Least privilege: the seed workflow (shared/seeds/000_*) run by RAM users that may do only
their own step, through the official old SDK over TLS; then each piece of the policy language
(explicit Deny, conditions, detaching), key policies (GetKeyPolicy/SetKeyPolicy), the Tea SDK
with V3 signatures as a RAM user, and the audit line of a refused request.

The root AccessKey makes keys, aliases, users and policies; every refusal is checked as the
SDK sees it (ServerException, HTTP 403 ``Forbidden.NoPermission``) and, where it matters, that
the refused request changed nothing. Tests on the shared server use fresh user, policy and
alias names.
"""

from __future__ import annotations

import json

import pytest
from aliyunsdkcore import client
from aliyunsdkkms.request.v20160120 import CreateAliasRequest, CreateKeyRequest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client as TeaKms
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from e2ehelp import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    REGION_ID,
    Kms,
    RamUser,
    alias_arn,
    attach,
    audit_line,
    decode_blob,
    detach,
    key_arn,
    new_ram_user,
    paged,
    policy_document,
    ram_request,
    sdk_request,
    seed_certs,
    seed_script,
    statement,
    unique_alias,
    unique_name,
)

SEED_ALIAS = "alias/Apollo/WorkKey"
NO = (403, "Forbidden.NoPermission")
TIMEOUT_MS = 30_000


def user_principal(name: str) -> dict:
    return {"RAM": [f"acs:ram::{ACCOUNT_ID}:user/{name}"]}


DEFAULT_KEY_POLICY = {
    "Version": "1",
    "Statement": [{"Sid": "kms default key policy", "Effect": "Allow",
                   "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
                   "Action": ["kms:*"], "Resource": ["*"]}],
}


def refused(user: RamUser, req) -> str:
    """``req`` as ``user`` gets 403 Forbidden.NoPermission; its RequestId."""
    return user.kms.error(req, *NO).exc.get_request_id()


def encrypt(kms: Kms, key: str, plaintext: str = "seed", context: dict | None = None):
    return kms.encrypt_request(key, plaintext, json.dumps(context) if context else None)


def total_keys(root: Kms) -> int:
    return paged(root.call(sdk_request("ListKeys", PageSize=100)))["TotalCount"]


# -- the acceptance: the seed workflow, one least-privilege user per step -------------


def test_seed_workflow_as_least_privilege_users(start_server, tmp_path, monkeypatch, rsa_pem):
    srv = start_server(args=["--account-id", ACCOUNT_ID])
    assert srv.scheme == "https"
    endpoint = srv.url
    seed_certs(srv, tmp_path, monkeypatch, rsa_pem)
    root = Kms(srv)

    # steps 1 and 2, as the account's root (the seed's client, the seed's requests)
    clt = client.AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, "cn-hangzhou")
    request = CreateKeyRequest.CreateKeyRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    key_id = json.loads(clt.do_action_with_exception(request))["KeyMetadata"]["KeyId"]
    request = CreateAliasRequest.CreateAliasRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    request.set_AliasName(SEED_ALIAS)
    request.set_KeyId(key_id)
    clt.do_action_with_exception(request)
    # another team's key, with its own alias
    other_id = root.create_key()["KeyId"]
    other_alias = "alias/Apollo/OtherKey"
    root.create_alias(other_alias, other_id)

    builder = new_ram_user(root, name="builder", documents=[
        policy_document(statement("kms:Encrypt", alias_arn(SEED_ALIAS)))])
    server_user = new_ram_user(root, name="server", documents=[
        policy_document(statement("kms:Decrypt", key_arn(key_id)))])
    stranger = new_ram_user(root, name="stranger")

    # step 3, the seed's encryption script, signed by the builder
    builder_clt = client.AcsClient(builder.access_key_id, builder.secret, "cn-hangzhou")
    seed = seed_script(builder_clt, endpoint)
    in_content = seed.ReadTextFile('./certs/key.pem')
    ciphertext = seed.KmsEncrypt(builder_clt, in_content, SEED_ALIAS)
    assert ciphertext, "the builder's Encrypt via the alias returned no CiphertextBlob"
    seed.WriteTextFile('./certs/key.pem.cipher', ciphertext)
    decode_blob(ciphertext)

    # ... and nothing beyond it
    keys_before = total_keys(root)
    refused(builder, encrypt(builder.kms, other_id))        # another key, by id
    refused(builder, encrypt(builder.kms, other_alias))     # another alias
    refused(builder, encrypt(builder.kms, key_id))          # its key, by id: no alias ARN then
    refused(builder, builder.kms.decrypt_request(ciphertext))
    refused(builder, sdk_request("CreateKey"))
    refused(builder, sdk_request("CreateAlias", AliasName="alias/Apollo/Mine", KeyId=key_id))
    assert total_keys(root) == keys_before
    root.error(sdk_request("DescribeKey", KeyId="alias/Apollo/Mine"), 404,
               "Forbidden.AliasNotFound")
    # the seed's own decrypt function, as the builder, gets no plaintext
    assert seed.KmsDecrypt(builder_clt, ciphertext) is None

    # step 4, the seed's decryption script, signed by the server
    server_clt = client.AcsClient(server_user.access_key_id, server_user.secret, "cn-hangzhou")
    seed = seed_script(server_clt, endpoint)
    in_content = seed.ReadTextFile('./certs/key.pem.cipher')
    plaintext = seed.KmsDecrypt(server_clt, in_content)
    assert plaintext is not None, "the server's Decrypt returned no Plaintext"
    seed.WriteTextFile('./certs/decrypted_key.pem', plaintext)
    assert (tmp_path / "certs" / "decrypted_key.pem").read_bytes() == \
        (tmp_path / "certs" / "key.pem").read_bytes()

    refused(server_user, encrypt(server_user.kms, SEED_ALIAS))
    refused(server_user, encrypt(server_user.kms, key_id))
    other_blob = root.encrypt(other_id, "the other team's secret")["CiphertextBlob"]
    refused(server_user, server_user.kms.decrypt_request(other_blob))  # Decrypt is for its key only

    # a user with no policy may do nothing
    refused(stranger, stranger.kms.decrypt_request(ciphertext))
    refused(stranger, encrypt(stranger.kms, SEED_ALIAS))
    refused(stranger, sdk_request("ListKeys"))


# -- the policy language -------------------------------------------------------------------


def test_explicit_deny_wins_over_allow(kms, key):
    user = new_ram_user(kms, "deny", system=["AliyunKMSFullAccess"], documents=[
        policy_document(statement("kms:Decrypt", "*", effect="Deny"))])
    blob = user.kms.encrypt(key["KeyId"], "allowed by AliyunKMSFullAccess")["CiphertextBlob"]
    refused(user, user.kms.decrypt_request(blob))
    assert kms.decrypt(blob)["Plaintext"] == "allowed by AliyunKMSFullAccess"
    # the rest of full access is untouched
    assert user.kms.create_key()["KeyState"] == "Enabled"


def test_encryption_context_condition(kms, key):
    key_id = key["KeyId"]
    user = new_ram_user(kms, "ctx", documents=[policy_document(statement(
        ["kms:Encrypt", "kms:Decrypt"], key_arn(key_id),
        condition={"StringEquals": {"kms:EncryptionContext/purpose": "seed"}}))])
    blob = user.kms.encrypt(key_id, "bound", json.dumps({"purpose": "seed", "app": "Apollo"}))[
        "CiphertextBlob"]
    assert user.kms.decrypt(blob, json.dumps({"app": "Apollo", "purpose": "seed"}))[
        "Plaintext"] == "bound"
    refused(user, encrypt(user.kms, key_id, context={"purpose": "other"}))
    refused(user, encrypt(user.kms, key_id, context={"Purpose": "seed"}))
    refused(user, encrypt(user.kms, key_id))
    other = kms.encrypt(key_id, "other", json.dumps({"purpose": "other"}))["CiphertextBlob"]
    refused(user, user.kms.decrypt_request(other, json.dumps({"purpose": "other"})))


@pytest.mark.parametrize("condition,allowed", [
    ({"IpAddress": {"acs:SourceIp": "127.0.0.1/32"}}, True),
    ({"IpAddress": {"acs:SourceIp": ["192.168.0.0/16", "127.0.0.0/8"]}}, True),
    ({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}, False),
    ({"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}, True),
    ({"NotIpAddress": {"acs:SourceIp": "127.0.0.1"}}, False),
    ({"DateLessThan": {"acs:CurrentTime": "2999-01-01T00:00:00Z"}}, True),
    ({"DateGreaterThan": {"acs:CurrentTime": "2999-01-01T00:00:00Z"}}, False),
    ({"Bool": {"acs:SecureTransport": "true"}}, True),
    ({"Bool": {"acs:SecureTransport": "false"}}, False),
], ids=["ip-127.0.0.1/32", "ip-any-of", "ip-10/8", "not-ip-10/8", "not-ip-127.0.0.1",
        "before-2999", "after-2999", "tls-true", "tls-false"])
def test_request_conditions(kms, key, condition, allowed):
    user = new_ram_user(kms, "cond", documents=[policy_document(
        statement("kms:Encrypt", key_arn(key["KeyId"]), condition=condition))])
    if allowed:
        assert user.kms.encrypt(key["KeyId"], "x")["KeyId"] == key["KeyId"]
    else:
        refused(user, encrypt(user.kms, key["KeyId"]))


def test_alias_arn_wildcards(kms):
    prefix = unique_alias("alias/team")
    mine, theirs = kms.create_key()["KeyId"], kms.create_key()["KeyId"]
    kms.create_alias(f"{prefix}/app", mine)
    kms.create_alias(f"{prefix}-other/app", theirs)
    user = new_ram_user(kms, "wild", documents=[policy_document(
        statement("kms:Encrypt", f"acs:kms:*:*:{prefix}/*"))])
    assert user.kms.encrypt(f"{prefix}/app", "x")["KeyId"] == mine
    refused(user, encrypt(user.kms, f"{prefix}-other/app"))
    refused(user, encrypt(user.kms, mine))
    # a key ARN policy suffices for Encrypt via any of the key's aliases
    by_key = new_ram_user(kms, "bykey", documents=[policy_document(
        statement("kms:Encrypt", key_arn(mine)))])
    assert by_key.kms.encrypt(f"{prefix}/app", "x")["KeyId"] == mine
    assert by_key.kms.encrypt(mine, "x")["KeyId"] == mine
    refused(by_key, encrypt(by_key.kms, theirs))
    # ... and a Deny on either refuses, whatever allows the other
    split = new_ram_user(kms, "split", documents=[policy_document(
        statement("kms:Encrypt", f"acs:kms:*:*:{prefix}/*"),
        statement("kms:Encrypt", key_arn(mine), effect="Deny"))])
    refused(split, encrypt(split.kms, f"{prefix}/app"))


def test_detaching_a_policy_takes_effect_on_the_next_request(kms, key):
    key_id = key["KeyId"]
    user = new_ram_user(kms, "detach", documents=[policy_document(
        statement("kms:Encrypt", key_arn(key_id)))])
    (policy,) = user.policies
    assert user.kms.encrypt(key_id, "x")["KeyId"] == key_id
    detach(kms, user.name, policy)
    refused(user, encrypt(user.kms, key_id))
    attach(kms, user.name, policy)
    assert user.kms.encrypt(key_id, "x")["KeyId"] == key_id
    # a System policy likewise
    attach(kms, user.name, "AliyunKMSFullAccess", "System")
    assert user.kms.create_key()["KeyId"]
    detach(kms, user.name, "AliyunKMSFullAccess", "System")
    refused(user, sdk_request("CreateKey"))


def test_system_policies_for_kms(kms, key):
    blob = kms.encrypt(key["KeyId"], "x")["CiphertextBlob"]
    reader = new_ram_user(kms, "kmsro", system=["AliyunKMSReadOnlyAccess"])
    assert reader.kms.call(sdk_request("DescribeKey", KeyId=key["KeyId"]))["KeyMetadata"]
    assert reader.kms.call(sdk_request("ListKeys"))["Keys"]
    refused(reader, encrypt(reader.kms, key["KeyId"]))
    refused(reader, reader.kms.decrypt_request(blob))
    refused(reader, sdk_request("CreateKey"))

    crypto = new_ram_user(kms, "kmscrypto", system=["AliyunKMSCryptoUserAccess"])
    assert crypto.kms.decrypt(blob)["Plaintext"] == "x"
    assert crypto.kms.encrypt(key["KeyId"], "y")["KeyId"] == key["KeyId"]
    refused(crypto, sdk_request("CreateKey"))
    refused(crypto, sdk_request("ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7))
    assert kms.call(sdk_request("DescribeKey", KeyId=key["KeyId"]))["KeyMetadata"][
        "KeyState"] == "Enabled"


# -- key policies ---------------------------------------------------------------------------


def get_key_policy(kms: Kms, key_id: str, **params) -> dict:
    reply = kms.call(sdk_request("GetKeyPolicy", KeyId=key_id, **params))
    assert set(reply) == {"Policy", "RequestId"}, reply
    assert isinstance(reply["Policy"], str)
    return json.loads(reply["Policy"])


def set_key_policy(kms: Kms, key_id: str, *statements: dict) -> None:
    doc = json.dumps({"Version": "1", "Statement": list(statements)})
    reply = kms.call(sdk_request("SetKeyPolicy", KeyId=key_id, PolicyName="default", Policy=doc))
    assert set(reply) == {"RequestId"}, reply


def test_get_key_policy_default_document(kms, key):
    assert get_key_policy(kms, key["KeyId"], PolicyName="default") == DEFAULT_KEY_POLICY
    assert get_key_policy(kms, key["KeyId"]) == DEFAULT_KEY_POLICY
    assert get_key_policy(kms, key["Arn"]) == DEFAULT_KEY_POLICY
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    assert get_key_policy(kms, alias) == DEFAULT_KEY_POLICY
    kms.error(sdk_request("GetKeyPolicy", KeyId=key["KeyId"], PolicyName="other"), 400,
              "InvalidParameter")
    kms.error(sdk_request("GetKeyPolicy", KeyId="7d0a1c2e-0000-4000-8000-000000000000"), 404,
              "Forbidden.KeyNotFound")


def test_key_policy_grants_a_user_by_name(kms, key):
    key_id, other_id = key["KeyId"], kms.create_key()["KeyId"]
    user = new_ram_user(kms, "keypol")  # no user policy at all
    refused(user, encrypt(user.kms, key_id))

    granted = {"Sid": "seed builder", "Effect": "Allow", "Principal": user_principal(user.name),
               "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": ["*"]}
    set_key_policy(kms, key_id, DEFAULT_KEY_POLICY["Statement"][0], granted)
    assert get_key_policy(kms, key_id) == {"Version": "1",
                                           "Statement": [DEFAULT_KEY_POLICY["Statement"][0],
                                                         granted]}
    blob = user.kms.encrypt(key_id, "by key policy")["CiphertextBlob"]
    assert user.kms.decrypt(blob)["Plaintext"] == "by key policy"
    # only this key, only these actions
    refused(user, encrypt(user.kms, other_id))
    refused(user, sdk_request("DescribeKey", KeyId=key_id))
    refused(user, sdk_request("GetKeyPolicy", KeyId=key_id))
    refused(user, sdk_request("CreateKey"))
    # another user of the account is not named
    other = new_ram_user(kms, "notnamed")
    refused(other, encrypt(other.kms, key_id))


def test_key_policy_without_the_account_statement_overrides_user_policies(kms, key):
    key_id, other_id = key["KeyId"], kms.create_key()["KeyId"]
    admin = new_ram_user(kms, "kmsadmin", system=["AliyunKMSFullAccess"])
    named = new_ram_user(kms, "named")
    set_key_policy(kms, key_id, {"Effect": "Allow", "Principal": user_principal(named.name),
                                 "Action": ["kms:Encrypt"], "Resource": ["*"]})
    refused(admin, encrypt(admin.kms, key_id))
    assert admin.kms.encrypt(other_id, "x")["KeyId"] == other_id
    assert named.kms.encrypt(key_id, "x")["KeyId"] == key_id
    # root is not bound by key policies; it puts the default back
    set_key_policy(kms, key_id, *DEFAULT_KEY_POLICY["Statement"])
    assert admin.kms.encrypt(key_id, "x")["KeyId"] == key_id


def test_key_policy_deny_refuses_a_full_access_user(kms, key):
    key_id, other_id = key["KeyId"], kms.create_key()["KeyId"]
    denied = new_ram_user(kms, "kpdeny", system=["AliyunKMSFullAccess"])
    bystander = new_ram_user(kms, "kpbystander", system=["AliyunKMSFullAccess"])
    set_key_policy(kms, key_id, DEFAULT_KEY_POLICY["Statement"][0],
                   {"Effect": "Deny", "Principal": user_principal(denied.name),
                    "Action": ["kms:Decrypt"], "Resource": ["*"]})
    blob = denied.kms.encrypt(key_id, "x")["CiphertextBlob"]
    refused(denied, denied.kms.decrypt_request(blob))
    assert bystander.kms.decrypt(blob)["Plaintext"] == "x"
    other_blob = denied.kms.encrypt(other_id, "y")["CiphertextBlob"]
    assert denied.kms.decrypt(other_blob)["Plaintext"] == "y"
    assert kms.decrypt(blob)["Plaintext"] == "x"  # root is not bound by key policies


# -- the Tea SDK (signature V3) as a RAM user ------------------------------------------------


def tea_kms(server, user: RamUser) -> TeaKms:
    return TeaKms(Config(access_key_id=user.access_key_id, access_key_secret=user.secret,
                         region_id=REGION_ID, endpoint=f"127.0.0.1:{server.port}",
                         protocol="https", ca=str(server.ca_path),
                         connect_timeout=TIMEOUT_MS, read_timeout=TIMEOUT_MS))


def test_tea_sdk_as_a_least_privilege_user(server, kms, key):
    alias = unique_alias("alias/tea/lp")
    kms.create_alias(alias, key["KeyId"])
    user = new_ram_user(kms, "tea", documents=[policy_document(
        statement("kms:Encrypt", alias_arn(alias)))])
    tea = tea_kms(server, user)
    enc = tea.encrypt(m.EncryptRequest(key_id=alias, plaintext="tea",
                                       encryption_context={"app": "Apollo"})).body
    assert enc.key_id == key["KeyId"]
    with pytest.raises(ClientException) as info:
        tea.decrypt(m.DecryptRequest(ciphertext_blob=enc.ciphertext_blob,
                                     encryption_context={"app": "Apollo"}))
    exc = info.value
    assert (exc.status_code, exc.code) == NO, (exc.status_code, exc.code, exc.message)
    assert exc.request_id and exc.data["RequestId"] == exc.request_id
    assert kms.decrypt(enc.ciphertext_blob, json.dumps({"app": "Apollo"}))["Plaintext"] == "tea"


# -- the audit log ----------------------------------------------------------------------------


def test_audit_log_records_refused_requests_with_the_users_access_key(server, kms, key):
    alias = unique_alias("alias/audit")
    kms.create_alias(alias, key["KeyId"])
    user = new_ram_user(kms, "audited", documents=[policy_document(
        statement("kms:Encrypt", alias_arn(alias)))])
    enc = user.kms.encrypt(alias, "audited")

    decrypt_refused = refused(user, user.kms.decrypt_request(enc["CiphertextBlob"]))
    line = audit_line(server, decrypt_refused)
    assert (line["action"], line["outcome"], line["status"]) == \
        ("Decrypt", "Forbidden.NoPermission", 403), line
    assert (line["access_key_id"], line["user"]) == (user.access_key_id, user.name), line
    assert line["key_version_id"] is None

    encrypt_refused = refused(user, encrypt(user.kms, key["KeyId"]))
    line = audit_line(server, encrypt_refused)
    assert (line["action"], line["outcome"], line["status"], line["key_id"]) == \
        ("Encrypt", "Forbidden.NoPermission", 403, key["KeyId"]), line
    assert line["access_key_id"] == user.access_key_id

    ram_refused = user.kms.error(ram_request("CreateUser", UserName=unique_name("esc")), 403,
                                 "NoPermission").exc.get_request_id()
    line = audit_line(server, ram_refused)
    assert (line["action"], line["outcome"], line["status"], line["user"]) == \
        ("CreateUser", "NoPermission", 403, user.name), line

    line = audit_line(server, enc["RequestId"])
    assert (line["action"], line["outcome"], line["access_key_id"], line["key_id"]) == \
        ("Encrypt", "OK", user.access_key_id, key["KeyId"]), line
    text = (server.data_dir / "audit" / "audit.log").read_text()
    assert user.secret not in text and enc["CiphertextBlob"] not in text


# -- resources as Alibaba documents them (https://www.alibabacloud.com/help/doc-detail/28953.htm)
# A policy written from Alibaba's documentation must work as documented.


def documented(user: RamUser, req, why: str) -> dict:
    try:
        return user.kms.call(req)
    except AssertionError as exc:
        failure = str(exc)
    pytest.fail(f"{why}: {failure}")


def test_describe_regions_needs_no_permission(kms):
    """"The DescribeRegions operation does not require access control. It can be called by
    Alibaba Cloud accounts, RAM users, or RAM roles after they pass RAM authentication." """
    user = new_ram_user(kms, "regions")
    body = documented(user, sdk_request("DescribeRegions"),
                      "DescribeRegions needs no authorization, yet a RAM user without policies "
                      "was refused")
    assert body["Regions"]["Region"]


@pytest.mark.parametrize("action,resource", [
    ("ListKeys", "acs:kms:*:*:key"),
    ("CreateKey", "acs:kms:*:*:key"),
    ("ListKeys", f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:key"),
    ("CreateKey", "acs:kms:*:*:key*"),  # as the system policy AliyunKMSCryptoAdminAccess has it
    ("ListAliases", "acs:kms:*:*:alias"),
])
def test_account_actions_on_the_documented_container_resources(kms, action, resource):
    """ListKeys and CreateKey act on the key container acs:kms:${region}:${account}:key,
    ListAliases on the alias container acs:kms:${region}:${account}:alias."""
    user = new_ram_user(kms, "container",
                        documents=[policy_document(statement(f"kms:{action}", resource))])
    documented(user, sdk_request(action),
               f"a policy allowing kms:{action} on {resource} (the documented container "
               "resource) was not enough")


@pytest.mark.parametrize("bad_statement", [
    {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
     "Action": ["ram:CreateUser"], "Resource": ["*"]},
    {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
     "Action": ["kms:Encrypt"], "Resource": ["acs:kms:*:*:key/other"]},
], ids=["non-kms-action", "resource-not-star"])
def test_set_key_policy_rejects_statements_alibaba_rejects(kms, key, bad_statement):
    """SetKeyPolicy: every Action must start with kms:, every Resource must be "*"."""
    doc = json.dumps({"Version": "1", "Statement": [DEFAULT_KEY_POLICY["Statement"][0],
                                                    bad_statement]})
    req = kms.prepare(sdk_request("SetKeyPolicy", KeyId=key["KeyId"], PolicyName="default",
                                  Policy=doc))
    status, _headers, body, _exc = kms.client._implementation_of_do_action(req)
    assert status == 400, (f"SetKeyPolicy accepted a statement key policies do not allow "
                           f"(HTTP {status}): {bad_statement}")
    assert json.loads(body)["Code"] == "InvalidParameter", body
