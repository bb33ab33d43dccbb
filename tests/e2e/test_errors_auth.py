"""Gateway-layer errors: signatures, AccessKeys, unknown actions, replayed nonces, stale
timestamps. SDK paths where the SDK can make the request, the suite's V1 signer otherwise."""

import datetime as dt
import json
import uuid

import aliyunsdkcore.utils.parameter_helper as parameter_helper
import pytest
from aliyunsdkcore.request import CommonRequest

from e2ehelp import (
    ACCESS_KEY_SECRET,
    API_VERSION,
    Kms,
    assert_error_envelope,
    assert_raw_error,
    common_params,
    expect_sdk_error,
    sdk_client,
    send_raw,
    signed_request,
    utc_timestamp,
    v1_signature,
    v1_string_to_sign,
)

SIGNATURE_MESSAGE_PREFIX = "server string to sign is:"


@pytest.fixture
def key_id(kms):
    return kms.create_key()["KeyId"]


def common_request(server, action: str, params: dict) -> CommonRequest:
    """A CommonRequest aimed at domain 127.0.0.1:<port>, as a generic SDK user would."""
    req = CommonRequest(domain=f"127.0.0.1:{server.port}", version=API_VERSION,
                        action_name=action)
    req.set_method("POST")
    req.set_protocol_type(server.protocol)
    req.set_accept_format("JSON")
    for name, value in params.items():
        req.add_query_param(name, value)
    return req


def domain_client(server):
    """With the port inside the domain the client must keep its default port."""
    return sdk_client(server, port=80)


# -- the signed request itself ---------------------------------------------------------


def test_self_signed_request_is_accepted(server, key_id):
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "raw signer"})
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["KeyId"] == key_id and body["RequestId"]


def test_wrong_secret_becomes_invalid_access_key_secret_in_the_sdk(server, key_id):
    kms = Kms(server, sdk_client(server, secret="not-the-secret"))
    err = kms.error(kms.encrypt_request(key_id, "x"), 400, "InvalidAccessKeySecret")
    assert err.body["Code"] == "SignatureDoesNotMatch"


def test_wrong_secret_message_carries_the_server_string_to_sign(server, key_id):
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "x"},
                           secret="not-the-secret")
    body = assert_raw_error(reply, 400, "SignatureDoesNotMatch")
    assert SIGNATURE_MESSAGE_PREFIX in body["Message"], body["Message"]
    assert body["Message"].split(":")[1] == reply.string_to_sign  # what aliyunsdkcore compares
    assert body["Message"].endswith(SIGNATURE_MESSAGE_PREFIX + reply.string_to_sign)


def test_tampered_parameter_breaks_the_signature(server, key_id):
    query = common_params("Encrypt")
    query.update({"KeyId": key_id, "Plaintext": "original"})
    query["Signature"] = v1_signature(v1_string_to_sign("POST", query), ACCESS_KEY_SECRET)
    query["Plaintext"] = "changed in flight"
    assert_raw_error(send_raw(server, "POST", query), 400, "SignatureDoesNotMatch")


def test_unknown_access_key_id(server, key_id):
    kms = Kms(server, sdk_client(server, ak="LTAI5tNoSuchAccessKey000"))
    kms.error(kms.encrypt_request(key_id, "x"), 404, "InvalidAccessKeyId.NotFound")


def test_unknown_access_key_id_raw(server, key_id):
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "x"},
                           access_key_id="LTAI5tNoSuchAccessKey000")
    assert_raw_error(reply, 404, "InvalidAccessKeyId.NotFound")


# -- action and version ----------------------------------------------------------------


def test_unknown_action_via_common_request(server):
    req = common_request(server, "NoSuchAction", {})
    expect_sdk_error(domain_client(server), req, 404, "InvalidAction.NotFound", server)


def test_unknown_action_raw(server):
    assert_raw_error(signed_request(server, "NoSuchAction"), 404, "InvalidAction.NotFound")


def test_common_request_reaches_a_real_action(server, key_id):
    req = common_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "via common"})
    body = json.loads(domain_client(server).do_action_with_exception(req))
    assert body["KeyId"] == key_id


# -- replay and freshness --------------------------------------------------------------


def test_replayed_nonce_via_common_request(server, key_id, monkeypatch):
    nonce = uuid.uuid4().hex
    monkeypatch.setattr(parameter_helper, "get_uuid", lambda: nonce)
    client = domain_client(server)
    first = common_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "once"})
    client.do_action_with_exception(first)
    replay = common_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "once"})
    expect_sdk_error(client, replay, 400, "SignatureNonceUsed", server)


def test_replayed_nonce_raw(server, key_id):
    nonce = uuid.uuid4().hex
    params = {"KeyId": key_id, "Plaintext": "once"}
    first = signed_request(server, "Encrypt", params, nonce=nonce)
    assert first.status == 200, first.body
    assert_raw_error(signed_request(server, "Encrypt", params, nonce=nonce), 400,
                     "SignatureNonceUsed")


def test_same_nonce_with_other_parameters_is_still_a_replay(server, key_id):
    nonce = uuid.uuid4().hex
    assert signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "a"},
                          nonce=nonce).status == 200
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "b"}, nonce=nonce)
    assert_raw_error(reply, 400, "SignatureNonceUsed")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_timestamp_20_minutes_off(server, key_id, minutes):
    ts = utc_timestamp(dt.timedelta(minutes=minutes))
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "x"}, timestamp=ts)
    assert_raw_error(reply, 400, "InvalidTimeStamp.Expired")


def test_timestamp_a_few_minutes_off_is_accepted(server, key_id):
    ts = utc_timestamp(dt.timedelta(minutes=-5))
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "x"}, timestamp=ts)
    assert reply.status == 200, reply.body


def test_malformed_timestamp_is_a_400(server, key_id):
    reply = signed_request(server, "Encrypt", {"KeyId": key_id, "Plaintext": "x"},
                           timestamp="yesterday")
    assert reply.status == 400, reply.body
    assert_error_envelope(reply.status, reply.body)


# -- junk ------------------------------------------------------------------------------


def test_request_without_any_parameters_is_a_4xx_json_error(server):
    for method in ("GET", "POST"):
        reply = send_raw(server, method, {})
        assert_error_envelope(reply.status, reply.body)


def test_request_without_signature_is_a_4xx_json_error(server, key_id):
    query = common_params("Encrypt")
    query.update({"KeyId": key_id, "Plaintext": "x"})
    reply = send_raw(server, "POST", query)
    assert_error_envelope(reply.status, reply.body)
