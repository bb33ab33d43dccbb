"""Durability: what was acknowledged survives SIGKILL and SIGTERM; the data dir is sealed by
its root.key (a missing or different root.key refuses to start, without harming the data)."""

import base64
import json
import os
import re
import shutil
import signal

from e2ehelp import (
    ACCOUNT_ID,
    Kms,
    openkms_binary,
    run_expecting_failure,
    sdk_client,
    server_env,
    unique_alias,
)

ROOT_KEY_MENTION = re.compile(r"root[\s._-]*key", re.IGNORECASE)
CONTEXT = json.dumps({"app": "apollo"})


def seal_some_state(kms: Kms) -> dict:
    key = kms.create_key()
    alias = unique_alias("alias/durable")
    kms.create_alias(alias, key["KeyId"])
    blob = kms.encrypt(alias, "survives crashes", context=CONTEXT)["CiphertextBlob"]
    return {"key": key, "alias": alias, "blob": blob}


def assert_state_intact(kms: Kms, state: dict) -> None:
    key = state["key"]
    dec = kms.decrypt(state["blob"], context=CONTEXT)
    assert (dec["Plaintext"], dec["KeyId"]) == ("survives crashes", key["KeyId"])
    enc = kms.encrypt(state["alias"], "after restart")
    assert enc["KeyId"] == key["KeyId"]
    assert enc["KeyVersionId"] == key["PrimaryKeyVersion"]
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "after restart"
    assert kms.encrypt(key["KeyId"], "by id")["KeyId"] == key["KeyId"]
    assert kms.encrypt(key["Arn"], "by arn")["KeyId"] == key["KeyId"]
    # the alias is still taken
    kms.error(kms.create_alias_request(state["alias"], key["KeyId"]), 400, "AliasAlreadyExists")


def test_acknowledged_writes_survive_sigkill(start_server):
    first = start_server(args=["--account-id", ACCOUNT_ID])
    kms = Kms(first)
    state = seal_some_state(kms)
    # a burst of acknowledged writes right before the crash
    burst = [(k["KeyId"], kms.encrypt(k["KeyId"], f"burst {i}")["CiphertextBlob"])
             for i, k in enumerate(kms.create_key() for _ in range(10))]
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=20)

    second = start_server(args=["--account-id", ACCOUNT_ID], data_dir=first.data_dir)
    kms = Kms(second)
    assert_state_intact(kms, state)
    for i, (key_id, blob) in enumerate(burst):
        dec = kms.decrypt(blob)
        assert (dec["KeyId"], dec["Plaintext"]) == (key_id, f"burst {i}")


def test_graceful_restart_keeps_keys_credentials_and_ca(start_server, tmp_path):
    first = start_server(args=["--account-id", ACCOUNT_ID])
    state = seal_some_state(Kms(first))
    saved_ca = tmp_path / "ca-from-first-start.pem"
    shutil.copy(first.ca_path, saved_ca)
    assert first.stop(signal.SIGTERM) == 0, "SIGTERM should end openkms with exit code 0"

    # restart WITHOUT the credential env vars: the root AccessKey from the first start stays
    second = start_server(args=["--account-id", ACCOUNT_ID], env=server_env(credentials=False),
                          data_dir=first.data_dir)
    # a client that trusted the CA before the restart still trusts the server
    kms = Kms(second, sdk_client(second, verify=str(saved_ca)))
    assert_state_intact(kms, state)


def test_sigint_is_graceful_too(start_server):
    server = start_server()
    Kms(server).create_key()
    assert server.stop(signal.SIGINT) == 0, "SIGINT should end openkms with exit code 0"


def test_missing_or_different_root_key_refuses_to_start(start_server):
    first = start_server(args=["--account-id", ACCOUNT_ID])
    state = seal_some_state(Kms(first))
    assert first.stop(signal.SIGTERM) == 0
    data_dir = first.data_dir
    root_key = data_dir / "root.key"
    assert root_key.is_file(), f"no root.key in {sorted(p.name for p in data_dir.iterdir())}"
    original = root_key.read_bytes()
    binary = openkms_binary()

    root_key.unlink()
    code, out, err = run_expecting_failure(binary, data_dir, server_env())
    assert code != 0, f"started without root.key: stdout={out!r}"
    assert ROOT_KEY_MENTION.search(err), f"stderr does not mention the root key: {err!r}"
    assert "ready" not in out

    other = base64.b64encode(os.urandom(32)) + b"\n"
    assert other != original
    root_key.write_bytes(other)
    os.chmod(root_key, 0o600)
    code, out, err = run_expecting_failure(binary, data_dir, server_env())
    assert code != 0, f"started with a different root.key: stdout={out!r}"
    assert ROOT_KEY_MENTION.search(err), f"stderr does not mention the root key: {err!r}"

    # the refused starts did no harm: the right root.key opens everything again
    root_key.write_bytes(original)
    os.chmod(root_key, 0o600)
    again = start_server(args=["--account-id", ACCOUNT_ID], data_dir=data_dir)
    assert_state_intact(Kms(again), state)
