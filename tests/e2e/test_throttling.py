"""Throttling and quotas through the official SDKs (issue 13): failed authentications from one
address end in Throttling while a correctly signed request from it still works, an AccessKey
over its request quota gets Throttling.User, and a full resource quota answers
Rejected.LimitExceeded and creates nothing. Each test runs a server of its own, configured by
the flags the operator would use."""

from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
import pytest

from e2ehelp import (
    ACCESS_KEY_ID,
    REGION_ID,
    Kms,
    ram_request,
    sdk_client,
    sdk_request,
    unique_name,
)

THROTTLING_MESSAGE = "Request was denied due to request throttling."
LIMIT_MESSAGE = "The request was rejected because user create resource limit was exceeded."


def bad_kms(server) -> Kms:
    """The old SDK signing with a wrong secret."""
    return Kms(server, sdk_client(server, secret="not-the-secret"))


def assert_throttled(err, code: str = "Throttling"):
    assert err.status == 400 and err.body["Code"] == code, err.body
    assert err.body["Message"] == THROTTLING_MESSAGE
    assert err.body["RequestId"] and err.exc.get_request_id() == err.body["RequestId"]


def test_failed_authentications_are_throttled_and_a_signed_request_still_passes(start_server):
    server = start_server(args=["--auth-failure-burst", "5", "--auth-failures-per-minute", "1"])
    kms, bad = Kms(server), bad_kms(server)
    key_id = kms.create_key()["KeyId"]
    for _ in range(5):
        err = bad.error(bad.encrypt_request(key_id, "x"), 400, "InvalidAccessKeySecret")
        assert err.body["Code"] == "SignatureDoesNotMatch"
    # The budget is spent: no verdict any more, for this failure or another kind.
    assert_throttled(bad.error(bad.encrypt_request(key_id, "x"), 400, "Throttling"))
    stranger = Kms(server, sdk_client(server, ak="LTAI5tNoSuchAccessKey000"))
    assert_throttled(stranger.error(stranger.encrypt_request(key_id, "x"), 400, "Throttling"))
    # Another client behind the same address signs correctly and is served.
    blob = kms.encrypt(key_id, "still served")["CiphertextBlob"]
    assert kms.decrypt(blob)["Plaintext"] == "still served"


def test_the_tea_sdk_sees_throttling_as_a_client_exception(start_server):
    server = start_server(args=["--auth-failure-burst", "1", "--auth-failures-per-minute", "1"])
    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret="not-the-secret",
                    region_id=REGION_ID, endpoint=f"127.0.0.1:{server.port}", protocol="https",
                    ca=str(server.ca_path))
    tea = Client(config)
    codes = []
    for _ in range(2):
        with pytest.raises(ClientException) as info:
            tea.describe_key(m.DescribeKeyRequest(key_id="any"))
        codes.append((info.value.status_code, info.value.code))
        assert info.value.data["RequestId"]
    assert codes == [(400, "SignatureDoesNotMatch"), (400, "Throttling")]


def test_an_access_key_over_its_request_quota_gets_throttling_user(start_server):
    server = start_server(args=["--access-key-rate", "1", "--access-key-burst", "3"])
    kms = Kms(server)
    replies = []
    for _ in range(8):
        req = kms.prepare(sdk_request("ListKeys"))
        try:
            kms.client.do_action_with_exception(req)
            replies.append("OK")
        except Exception as exc:  # ServerException: the code is checked below
            replies.append(exc.get_error_code())
            assert exc.get_http_status() == 400 and exc.get_request_id()
    assert replies[:3] == ["OK"] * 3, replies
    assert "Throttling.User" in replies, replies


def test_the_key_quota_refuses_creates_and_creates_nothing(start_server):
    server = start_server(args=["--max-keys", "2"])
    kms = Kms(server)
    kms.create_key()
    kms.create_key()
    err = kms.error(kms.create_key_request(), 400, "Rejected.LimitExceeded")
    assert err.body["Message"] == LIMIT_MESSAGE and err.body["RequestId"]
    assert kms.call(sdk_request("ListKeys"))["TotalCount"] == 2


def test_alias_version_and_user_quotas(start_server):
    server = start_server(args=["--max-aliases-per-key", "1", "--max-versions-per-key", "2",
                                "--max-users", "1"])
    kms = Kms(server)
    key_id = kms.create_key()["KeyId"]
    kms.create_alias(f"alias/{unique_name()}", key_id)
    kms.error(kms.create_alias_request(f"alias/{unique_name()}", key_id),
              400, "Rejected.LimitExceeded")
    assert kms.call(sdk_request("ListAliasesByKeyId", KeyId=key_id))["TotalCount"] == 1
    kms.call(sdk_request("CreateKeyVersion", KeyId=key_id))
    kms.error(sdk_request("CreateKeyVersion", KeyId=key_id), 400, "Rejected.LimitExceeded")
    assert kms.call(sdk_request("ListKeyVersions", KeyId=key_id))["TotalCount"] == 2
    kms.call(ram_request("CreateUser", UserName=unique_name()))
    kms.error(ram_request("CreateUser", UserName=unique_name()), 400, "Rejected.LimitExceeded")
    assert len(kms.call(ram_request("ListUsers"))["Users"]["User"]) == 1
