"""Secrets Manager (alibaba-kms-api-next.md §5) through both official Python SDKs over TLS.

The old SDK (``aliyun-python-sdk-kms`` request classes, V1 signature, every parameter in the
query string, ``SecretData`` too) and the Tea SDK (``alibabacloud-kms20160120``, V3, ``SecretData``
in the form body) drive the same actions on the shared server: the stage movements of §5.2,
the 10-version limit, the deletion window and RestoreSecret, forced deletion, binary data,
a 30,720-byte value in the query string, tags, secret policies, and each refusal with its
code and status. Secret names are fresh per test.
"""

from __future__ import annotations

import json

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
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
    sdk_request,
    unique_name,
)

TIMEOUT_MS = 30_000


def tea_client(server, ak=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET) -> TeaKms:
    config = Config(access_key_id=ak, access_key_secret=secret, region_id=REGION_ID,
                    endpoint=f"127.0.0.1:{server.port}", protocol="https",
                    ca=str(server.ca_path), connect_timeout=TIMEOUT_MS, read_timeout=TIMEOUT_MS)
    return TeaKms(config)


@pytest.fixture
def tea(server) -> TeaKms:
    return tea_client(server)


def secret_name(prefix="db") -> str:
    return f"{prefix}/{unique_name('sec')}+x=y.z@q-1"


def old_error(kms: Kms, req, status: int, code: str) -> str:
    kms.prepare(req)
    with pytest.raises(ServerException) as info:
        kms.client.do_action_with_exception(req)
    exc = info.value
    assert (exc.get_http_status(), exc.get_error_code()) == (status, code), \
        f"expected {status} {code}, got {exc.get_http_status()} {exc.get_error_code()}: " \
        f"{exc.get_error_msg()}"
    assert exc.get_request_id()
    return exc.get_error_msg()


def tea_error(call, status: int, code: str) -> ClientException:
    with pytest.raises(ClientException) as info:
        call()
    exc = info.value
    assert (exc.status_code, exc.code) == (status, code), \
        f"expected {status} {code}, got {exc.status_code} {exc.code}: {exc.message!r}"
    assert exc.request_id
    return exc


def old(kms: Kms, action: str, **params) -> dict:
    return kms.call(sdk_request(action, **params))


def stages_of(tea: TeaKms, name: str) -> dict:
    """Version id -> its labels, every kept version."""
    body = tea.list_secret_version_ids(m.ListSecretVersionIdsRequest(
        secret_name=name, include_deprecated="true", page_size=100)).body
    return {v.version_id: sorted(v.version_stages.version_stage)
            for v in body.version_ids.version_id}


def value(tea: TeaKms, name: str, **sel) -> m.GetSecretValueResponseBody:
    return tea.get_secret_value(m.GetSecretValueRequest(secret_name=name, **sel)).body


# ---------------------------------------------------------------------------------------


def test_stage_movements_through_the_tea_sdk(tea):
    """§5.2 rules 1-6, step by step; every read as the SDK parses it."""
    name = secret_name()
    created = tea.create_secret(m.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_data='{"u":"a","p":"x+y z/é"}',
        description="db creds")).body
    assert created.arn == f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/{name}"
    assert (created.secret_name, created.version_id, created.secret_type) == (name, "v1", "Generic")
    got = value(tea, name)
    assert got.secret_data == '{"u":"a","p":"x+y z/é"}'
    assert (got.version_id, got.secret_data_type, got.secret_type) == ("v1", "text", "Generic")
    assert got.version_stages.version_stage == ["ACSCurrent"]
    assert got.create_time.endswith("Z")

    # rule 2: a new version becomes current, the old one previous
    put = tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v2", secret_data="two")).body
    assert put.version_stages.version_stage == ["ACSCurrent"]
    assert stages_of(tea, name) == {"v1": ["ACSPrevious"], "v2": ["ACSCurrent"]}
    # rule 2 again: v1 loses ACSPrevious and is deprecated
    tea.put_secret_value(m.PutSecretValueRequest(secret_name=name, version_id="v3",
                                                 secret_data="three"))
    assert stages_of(tea, name) == {"v1": [], "v2": ["ACSPrevious"], "v3": ["ACSCurrent"]}
    listed = tea.list_secret_version_ids(m.ListSecretVersionIdsRequest(secret_name=name)).body
    assert [v.version_id for v in listed.version_ids.version_id] == ["v3", "v2"], \
        "deprecated versions are left out unless asked, newest first"
    # rule 3: custom labels only: current and previous untouched
    put = tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v4", secret_data="four",
        version_stages='["ACSPending"]')).body
    assert put.version_stages.version_stage == ["ACSPending"]
    assert stages_of(tea, name)["v3"] == ["ACSCurrent"]
    assert value(tea, name, version_stage="ACSPending").secret_data == "four"
    # rule 5: move ACSCurrent to v4 (no RemoveFromVersion): v3 becomes previous
    tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage="ACSCurrent", move_to_version="v4"))
    assert stages_of(tea, name) == {"v1": [], "v2": [], "v3": ["ACSPrevious"],
                                    "v4": ["ACSCurrent", "ACSPending"]}
    assert value(tea, name).secret_data == "four"
    # rule 6: a custom label removed; a built-in one cannot be
    tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage="ACSPending", remove_from_version="v4"))
    assert stages_of(tea, name)["v4"] == ["ACSCurrent"]
    tea_error(lambda: tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage="ACSCurrent", remove_from_version="v4")),
        400, "Rejected.InvalidRequest")
    tea_error(lambda: tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage="ACSCurrent", remove_from_version="v1",
        move_to_version="v2")), 400, "Rejected.InvalidRequest")
    tea_error(lambda: tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage="X")), 400, "MissingParameter")
    # any kept version reads by id, deprecated or not; a stage it does not carry is 404
    assert value(tea, name, version_id="v1").secret_data == '{"u":"a","p":"x+y z/é"}'
    tea_error(lambda: value(tea, name, version_id="v1", version_stage="ACSCurrent"),
              404, "Forbidden.ResourceNotFound")


def test_re_put_is_idempotent_and_a_changed_value_is_refused(tea, kms):
    name = secret_name()
    old(kms, "CreateSecret", SecretName=name, VersionId="v1", SecretData="same")
    # Terraform's twin: the same id, the same data, VersionStages=["ACSCurrent"]
    put = old(kms, "PutSecretValue", SecretName=name, VersionId="v1", SecretData="same",
              VersionStages='["ACSCurrent"]')
    assert put["VersionStages"] == {"VersionStage": ["ACSCurrent"]}
    assert stages_of(tea, name) == {"v1": ["ACSCurrent"]}
    old_error(kms, sdk_request("PutSecretValue", SecretName=name, VersionId="v1",
                               SecretData="other"), 409, "Rejected.ResourceExist")
    # the object form of VersionStages is read too
    old(kms, "PutSecretValue", SecretName=name, VersionId="v2", SecretData="2",
        VersionStages='{"VersionStage":["Mine"]}')
    assert stages_of(tea, name) == {"v1": ["ACSCurrent"], "v2": ["Mine"]}


def test_ten_versions_are_kept_oldest_unlabelled_dropped(tea):
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v00", secret_data="0"))
    for i in range(1, 12):
        tea.put_secret_value(m.PutSecretValueRequest(secret_name=name, version_id=f"v{i:02}",
                                                     secret_data=str(i)))
    kept = stages_of(tea, name)
    assert sorted(kept) == [f"v{i:02}" for i in range(2, 12)], kept
    assert kept["v11"] == ["ACSCurrent"] and kept["v10"] == ["ACSPrevious"]
    tea_error(lambda: value(tea, name, version_id="v01"), 404, "Forbidden.ResourceNotFound")
    # every version labelled, v10 too (it would lose ACSPrevious to v11): no room
    for i in range(2, 11):
        tea.update_secret_version_stage(m.UpdateSecretVersionStageRequest(
            secret_name=name, version_stage=f"L{i}", move_to_version=f"v{i:02}"))
    tea_error(lambda: tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v12", secret_data="12")), 400, "Rejected.LimitExceeded")
    assert "v12" not in stages_of(tea, name)


def test_the_cap_drops_in_the_order_versions_were_added(tea):
    """Ids that do not sort in the order they were put (v2 … v12, all within a second or two):
    the cap still drops the oldest, and never keeps more than ten."""
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="1"))
    for i in range(2, 13):
        tea.put_secret_value(m.PutSecretValueRequest(secret_name=name, version_id=f"v{i}",
                                                     secret_data=str(i)))
        assert len(stages_of(tea, name)) == min(i, 10)
    assert sorted(stages_of(tea, name), key=lambda v: int(v[1:])) == \
        [f"v{i}" for i in range(3, 13)]


def test_binary_and_a_30720_byte_value_in_the_old_sdk_query(tea, kms):
    """The old SDK puts SecretData in the query string; the value comes back byte for byte
    through both SDKs, for text and binary alike (never base64-decoded)."""
    name = secret_name()
    big = ("abcDEF0123-_.~" * 3000)[:30720]
    req = sdk_request("CreateSecret", SecretName=name, VersionId="v1", SecretData=big,
                      SecretDataType="binary")
    assert "SecretData" in req.get_query_params()
    old(kms, req.get_action_name(), SecretName=name, VersionId="v1", SecretData=big,
        SecretDataType="binary")
    got = old(kms, "GetSecretValue", SecretName=name)
    assert got["SecretData"] == big and got["SecretDataType"] == "binary"
    assert value(tea, name).secret_data == big
    not_b64 = "tf-testAcc…KmsSecret_1234567 é/+="
    tea.put_secret_value(m.PutSecretValueRequest(secret_name=name, version_id="v2",
                                                 secret_data=not_b64, secret_data_type="binary"))
    assert old(kms, "GetSecretValue", SecretName=name)["SecretData"] == not_b64
    too_big = "x" * 30721
    tea_error(lambda: tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v3", secret_data=too_big)), 400, "InvalidParameter")


def test_a_30720_byte_value_that_percent_encodes_to_90_kb_in_the_tea_body(tea, kms):
    """Tea sends SecretData in the form body: 30,720 bytes of two-byte UTF-8 characters are
    92,160 bytes once percent-encoded, which the body limit must take."""
    name = secret_name()
    value = "é" * 15360
    assert len(value.encode()) == 30720
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data=value))
    got = tea.get_secret_value(m.GetSecretValueRequest(secret_name=name)).body
    assert got.secret_data == value
    assert old(kms, "GetSecretValue", SecretName=name)["SecretData"] == value


def test_a_30720_byte_value_that_percent_encodes_to_90_kb_in_the_old_sdk_query(tea, kms):
    """The old SDK's query string with 92,160 bytes of SecretData (over the 65,534-byte
    target the HTTP stack holds: the transport moves it into the form body, V1 signing the
    parameters wherever they are), Create and Put, then a short request on the same
    connection."""
    name = secret_name()
    value = "é" * 15360
    req = sdk_request("CreateSecret", SecretName=name, VersionId="v1", SecretData=value)
    assert "SecretData" in req.get_query_params()
    old(kms, "CreateSecret", SecretName=name, VersionId="v1", SecretData=value)
    other = "{\"k\":\"" + "~!@#$%^&*()=+[]" * 2047 + "\"}"
    assert len(other.encode()) <= 30720
    old(kms, "PutSecretValue", SecretName=name, VersionId="v2", SecretData=other)
    assert old(kms, "GetSecretValue", SecretName=name, VersionId="v1")["SecretData"] == value
    assert old(kms, "GetSecretValue", SecretName=name)["SecretData"] == other
    assert tea.get_secret_value(m.GetSecretValueRequest(secret_name=name)).body.secret_data \
        == other


def test_delete_window_restore_and_force(tea, kms):
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="s"))
    deleted = old(kms, "DeleteSecret", SecretName=name, RecoveryWindowInDays="7")
    assert deleted["SecretName"] == name and deleted["PlannedDeleteTime"].endswith("Z")
    described = tea.describe_secret(m.DescribeSecretRequest(secret_name=name)).body
    assert described.planned_delete_time == deleted["PlannedDeleteTime"]
    tea_error(lambda: value(tea, name), 409, "Rejected.ResourceInDeleteWindow")
    tea_error(lambda: tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v2", secret_data="x")), 409,
        "Rejected.ResourceInDeleteWindow")
    old_error(kms, sdk_request("DeleteSecret", SecretName=name), 409,
              "Rejected.ResourceInDeleteWindow")
    tea_error(lambda: tea.create_secret(m.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_data="s")), 409, "Rejected.ResourceInDeleteWindow")
    old(kms, "RestoreSecret", SecretName=name)
    assert value(tea, name).secret_data == "s"
    assert tea.describe_secret(m.DescribeSecretRequest(secret_name=name)).body \
        .planned_delete_time is None
    old_error(kms, sdk_request("RestoreSecret", SecretName=name), 409, "Rejected.ResourceInUse")
    # Terraform sends Force with a window: the secret is gone at once
    old(kms, "DeleteSecret", SecretName=name, ForceDeleteWithoutRecovery="true",
        RecoveryWindowInDays="30")
    tea_error(lambda: tea.describe_secret(m.DescribeSecretRequest(secret_name=name)),
              404, "Forbidden.ResourceNotFound")
    old_error(kms, sdk_request("RestoreSecret", SecretName=name), 404, "Forbidden.ResourceNotFound")
    # the name is free again
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="n1", secret_data="new"))
    assert value(tea, name).version_id == "n1"
    old_error(kms, sdk_request("DeleteSecret", SecretName=name, RecoveryWindowInDays="6"),
              400, "InvalidParameter")


def test_describe_list_tags_and_update(tea, kms):
    prefix = unique_name("lst")
    names = [f"{prefix}/{i}" for i in range(3)]
    for i, n in enumerate(names):
        tags = json.dumps([{"TagKey": "team", "TagValue": f"t{i % 2}"}])
        old(kms, "CreateSecret", SecretName=n, VersionId="v1", SecretData="x", Tags=tags,
            Description=f"d{i}")
    d = old(kms, "DescribeSecret", SecretName=names[0], FetchTags="true")
    assert d["Arn"].endswith(f":secret/{names[0]}") and d["Description"] == "d0"
    assert d["Tags"] == {"Tag": [{"TagKey": "team", "TagValue": "t0"}]}
    assert "EncryptionKeyId" not in d, "the default key is not shown"
    assert "Tags" not in old(kms, "DescribeSecret", SecretName=names[0])
    flt = json.dumps([{"Key": "SecretName", "Values": names}, {"Key": "TagValue", "Values": ["t0"]}])
    page = tea.list_secrets(m.ListSecretsRequest(filters=flt, fetch_tags="true", page_size=1)).body
    assert page.total_count == 2 and page.page_size == 1
    assert [s.secret_name for s in page.secret_list.secret] == [names[0]]
    assert page.secret_list.secret[0].tags.tag[0].tag_key == "team"
    second = tea.list_secrets(m.ListSecretsRequest(filters=flt, page_number=2, page_size=1)).body
    assert [s.secret_name for s in second.secret_list.secret] == [names[2]]
    old(kms, "UpdateSecret", SecretName=names[1], Description="new")
    assert old(kms, "DescribeSecret", SecretName=names[1])["Description"] == "new"
    # Tea flattens ExtendedConfig.CustomData; ignored for a Generic secret
    tea.update_secret(m.UpdateSecretRequest(secret_name=names[1], description="newer",
                                            extended_config=m.UpdateSecretRequestExtendedConfig(
                                                custom_data={"DBName": "app1"})))
    assert old(kms, "DescribeSecret", SecretName=names[1])["Description"] == "newer"


def test_refusals_have_their_codes(tea, kms):
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="s"))
    tea_error(lambda: tea.create_secret(m.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_data="s")), 409, "Rejected.ResourceExist")
    for bad in ["acs/x", "a b", "x" * 193]:
        tea_error(lambda: tea.create_secret(m.CreateSecretRequest(
            secret_name=bad, version_id="v1", secret_data="s")), 400, "InvalidParameter")
    tea_error(lambda: tea.create_secret(m.CreateSecretRequest(
        secret_name=secret_name(), version_id="v1", secret_data="s", secret_type="Rds")),
        400, "UnsupportedOperation")
    tea_error(lambda: value(tea, "no-such-secret"), 404, "Forbidden.ResourceNotFound")
    tea_error(lambda: value(tea, name, version_stage="Nope"), 404, "Forbidden.ResourceNotFound")
    tea_error(lambda: tea.put_secret_value(m.PutSecretValueRequest(
        secret_name=name, version_id="v2", secret_data="x", version_stages="ACSCurrent")),
        400, "InvalidParameter")
    old_error(kms, sdk_request("RotateSecret", SecretName=name, VersionId="r1"), 400,
              "Rejected.UnsupportedOperation")
    old_error(kms, sdk_request("UpdateSecretRotationPolicy", SecretName=name,
                               EnableAutomaticRotation="true", RotationInterval="7d"),
              400, "Rejected.UnsupportedOperation")
    tea_error(lambda: tea.create_secret(m.CreateSecretRequest(
        secret_name=secret_name(), version_id="v1", secret_data="s",
        encryption_key_id="no-such-key")), 404, "Forbidden.KeyNotFound")
    other_account = f"acs:kms:{REGION_ID}:9999:secret/{name}"
    tea_error(lambda: value(tea, other_account), 404, "Forbidden.ResourceNotFound")
    arn = f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:secret/{name}"
    assert value(tea, arn).secret_data == "s"


def test_a_cmk_of_the_caller_encrypts_and_a_disabled_one_makes_secrets_unreadable(tea, kms):
    key = kms.create_key()
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="s",
                                            encryption_key_id=key["KeyId"]))
    d = tea.describe_secret(m.DescribeSecretRequest(secret_name=name)).body
    assert d.encryption_key_id == key["KeyId"]



def test_secret_policy_round_trip(tea, kms):
    name = secret_name()
    tea.create_secret(m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="s"))
    default = json.loads(old(kms, "GetSecretPolicy", SecretName=name)["Policy"])
    assert default["Statement"][0]["Principal"] == {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]}
    doc = {"Version": "1", "Statement": [{"Effect": "Allow",
                                          "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:*"]},
                                          "Action": ["kms:*"], "Resource": ["*"]}]}
    old(kms, "SetSecretPolicy", SecretName=name, Policy=json.dumps(doc))
    assert json.loads(old(kms, "GetSecretPolicy", SecretName=name)["Policy"]) == doc
    old_error(kms, sdk_request("SetSecretPolicy", SecretName=name, Policy="{not json"),
              400, "InvalidParameter")


def test_tags_on_secrets_through_the_tag_actions(tea, kms):
    """TagResources, ListTagResources and UntagResources with ResourceType=secret: Tea with
    ResourceId.N and Tag.N.Key/Value lists, the old SDK the same way."""
    names = [secret_name("tag"), secret_name("tag")]
    for n in names:
        tea.create_secret(m.CreateSecretRequest(secret_name=n, version_id="v1", secret_data="s"))
    tea.tag_resources(m.TagResourcesRequest(
        region_id=REGION_ID, resource_type="secret", resource_id=names,
        tag=[m.TagResourcesRequestTag(key="env", value="prod"),
             m.TagResourcesRequestTag(key="team", value="db")]))
    listed = tea.list_tag_resources(m.ListTagResourcesRequest(
        region_id=REGION_ID, resource_type="secret", resource_id=names)).body
    rows = sorted((r.resource_type, r.resource_id, r.tag_key, r.tag_value)
                  for r in listed.tag_resources.tag_resource)
    assert rows == sorted(("secret", n, k, v) for n in names
                          for k, v in [("env", "prod"), ("team", "db")])
    req = sdk_request("UntagResources", ResourceType="secret",
                      ResourceIds=[names[0]], TagKeys=["env"])
    kms.call(req)
    d = old(kms, "DescribeSecret", SecretName=names[0], FetchTags="true")
    assert d["Tags"] == {"Tag": [{"TagKey": "team", "TagValue": "db"}]}
    tea_error(lambda: tea.tag_resources(m.TagResourcesRequest(
        region_id=REGION_ID, resource_type="secret", resource_id=[names[0], "no-such-secret"],
        tag=[m.TagResourcesRequestTag(key="x", value="y")])), 404, "Forbidden.ResourceNotFound")
    assert "x" not in [t["TagKey"] for t in old(kms, "DescribeSecret", SecretName=names[0],
                                                 FetchTags="true")["Tags"]["Tag"]], \
        "a refused TagResources tagged nothing"
    tea_error(lambda: tea.tag_resources(m.TagResourcesRequest(
        region_id=REGION_ID, resource_type="secret", resource_id=[names[0]],
        tag=[m.TagResourcesRequestTag(key="acs:x", value="y")])), 400, "InvalidParameter.TagKey")


def test_the_audit_log_names_the_secret_and_version_never_the_value(server, kms):
    """Each request's audit line (docs/audit.md) names the secret (``secret/<name>``) and the
    version read or written, with the outcome; no secret value is in the log or the server's
    output."""
    name = secret_name()
    marker = f"never-logged-{unique_name('v')}"
    old(kms, "CreateSecret", SecretName=name, VersionId="v1", SecretData=marker + "-1")
    put = old(kms, "PutSecretValue", SecretName=name, VersionId="v2", SecretData=marker + "-2")
    got = old(kms, "GetSecretValue", SecretName=name, VersionStage="ACSPrevious")
    missing = old_error(kms, sdk_request("GetSecretValue", SecretName=name, VersionId="v9"),
                        404, "Forbidden.ResourceNotFound")
    assert marker not in missing
    log = server.data_dir / "audit" / "audit.log"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    by_id = {line.get("request_id"): line for line in lines}
    for reply, version in [(put, "v2"), (got, "v1")]:
        line = by_id[reply["RequestId"]]
        assert (line["key_id"], line["key_version_id"]) == (f"secret/{name}", version), line
        assert line["outcome"] == "success" or line["status"] == 200, line
    text = log.read_text() + server.log_path.read_text()
    assert marker not in text, "a secret value reached the audit log or the server's output"
