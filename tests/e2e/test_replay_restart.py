"""Replay protection survives restarts (issue 13, finding 5): a captured signed request is
refused with SignatureNonceUsed after a graceful restart and after kill -9, and changes
nothing. Runs on the embedded SQLite store and, with OPENKMS_E2E_DATABASE_URL, on PostgreSQL.

The request is signed by hand (V1, the suite's signer) and sent as captured bytes, as an
eavesdropper would replay it; the restart keeps the data directory (and database)."""

import signal

import pytest

from e2ehelp import (
    ACCESS_KEY_SECRET,
    assert_raw_error,
    common_params,
    send_raw,
    v1_signature,
    v1_string_to_sign,
)


def capture(action: str, params: dict) -> dict:
    """A signed V1 query, ready to be sent (and sent again) as is."""
    query = common_params(action)
    query.update(params)
    query["Signature"] = v1_signature(v1_string_to_sign("POST", query), ACCESS_KEY_SECRET)
    return query


def key_count(server) -> int:
    reply = send_raw(server, "POST", capture("ListKeys", {"PageSize": "100"}))
    assert reply.status == 200, reply.body
    return reply.json()["TotalCount"]


def key_state(server, key_id: str) -> str:
    reply = send_raw(server, "POST", capture("DescribeKey", {"KeyId": key_id}))
    assert reply.status == 200, reply.body
    return reply.json()["KeyMetadata"]["KeyState"]


def restart(start_server, server, how: str):
    """Stops ``server`` as ``how`` says, then starts a new process over its data (a new
    ``OpenKms``, so no output of the old process can be taken for the new one's)."""
    if how == "kill -9":
        server.kill()
    else:
        assert server.stop(signal.SIGTERM) == 0, "a graceful stop exits 0"
    return start_server(data_dir=server.data_dir)


@pytest.mark.parametrize("how", ["graceful", "kill -9"])
def test_a_captured_create_key_is_refused_after_a_restart(start_server, how):
    server = start_server()
    captured = capture("CreateKey", {"Description": "captured"})
    first = send_raw(server, "POST", captured)
    assert first.status == 200, first.body
    assert key_count(server) == 1
    server = restart(start_server, server, how)
    replay = send_raw(server, "POST", captured)
    body = assert_raw_error(replay, 400, "SignatureNonceUsed")
    assert body["RequestId"]
    assert key_count(server) == 1, "the replay created a key"


@pytest.mark.parametrize("how", ["graceful", "kill -9"])
def test_a_captured_disable_key_is_refused_after_a_restart(start_server, how):
    server = start_server()
    created = send_raw(server, "POST", capture("CreateKey", {}))
    key_id = created.json()["KeyMetadata"]["KeyId"]
    captured = capture("DisableKey", {"KeyId": key_id})
    assert send_raw(server, "POST", captured).status == 200
    enabled = send_raw(server, "POST", capture("EnableKey", {"KeyId": key_id}))
    assert enabled.status == 200, enabled.body
    server = restart(start_server, server, how)
    assert_raw_error(send_raw(server, "POST", captured), 400, "SignatureNonceUsed")
    assert key_state(server, key_id) == "Enabled", "the replay disabled the key"
