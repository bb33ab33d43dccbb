"""``openkms server --seal shamir``: a server that starts sealed and is unsealed with a
threshold of Shamir shares, driven by the ``openkms operator`` CLI and the official SDK.

What is checked: the sealed server answers ``/healthz`` 200, ``/readyz`` 503 and every API
request the retryable 503 ``ServiceUnavailableTemporary``, which the old SDK raises as a
``ServerException``; the sealed start over an empty store writes a one-time init token to
``<data-dir>/init-token`` (mode 0600, only its path logged), without which (or with another)
``POST /openkms/operator/init`` is refused 403 ``InvalidInitToken``; ``operator init --shares 5
--threshold 3 --init-token-file <data-dir>/init-token`` prints five shares and the root
AccessKey, removes the token file, and leaves the server sealed; three shares unseal it (a wrong share in between is
refused without losing progress; one share goes in on stdin); the seed workflow then passes
with the printed AccessKey; after a restart the server is sealed again and another three of
the five unseal it, and the old ciphertext decrypts; ``operator seal`` seals it again. The
shares are recombined here by an independent GF(256) implementation, and the key they give
opens the root-key check value the store holds (AES-256-GCM through ``cryptography``). No share
nor the init token reaches the server's log or the audit log. A flood of status requests
cannot keep init and unseal lines out of the audit log, and a source throttled for refused
requests still initialises with the right token and unseals with valid shares. On PostgreSQL, two nodes on one
database each write their own init token, either may initialise the store, and each is
unsealed on its own with the same shares.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import requests
from aliyunsdkcore import client
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkkms.request.v20160120 import CreateAliasRequest, CreateKeyRequest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from e2ehelp import (Kms, database_url_for, decode_blob, on_postgres, openkms_binary, psql,
                     sdk_client, seed_certs, seed_script, server_env, with_database_url)

KEY_ALIAS = "alias/Apollo/WorkKey"
CLI_TIMEOUT = 60.0
SEALED = ["--seal", "shamir"]


# ---------------------------------------------------------------------------------------
# the operator CLI


def cli_env(server, config_home, credentials: tuple[str, str] | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENKMS_", "ALIBABA_CLOUD_"))}
    env.update({
        "OPENKMS_ENDPOINT": server.url,
        "ALIBABA_CLOUD_CA_BUNDLE": str(server.ca_path),
        "XDG_CONFIG_HOME": str(config_home),
    })
    if credentials:
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = credentials
    return env


def operator(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(openkms_binary()), "operator", *args], env=env,
                          input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=CLI_TIMEOUT)


def operator_ok(env, *args, stdin: str | None = None) -> dict:
    done = operator(env, *args, stdin=stdin)
    assert done.returncode == 0, f"operator {args[0]} exited {done.returncode}:\n{done.stderr}"
    return json.loads(done.stdout)


def unseal_refused(env, share: str, code: str) -> None:
    done = operator(env, "unseal", share)
    assert done.returncode == 1, f"expected an API error, got {done.returncode}: {done.stdout}"
    assert f"ERROR: {code} (HTTP 400)" in done.stderr, done.stderr
    assert share not in done.stderr, "a share must never be echoed"


def token_file(srv) -> Path:
    return srv.data_dir / "init-token"


def init_ok(env, srv, *args) -> dict:
    return operator_ok(env, "init", *args, "--init-token-file", str(token_file(srv)))


def read_token(srv) -> str:
    path = token_file(srv)
    assert path.stat().st_mode & 0o777 == 0o600
    token = path.read_text()
    assert len(token) == 64 and int(token, 16) >= 0, "256 random bits, in hex"
    return token


def raw_init(srv, body: dict) -> requests.Response:
    return requests.post(f"{srv.url}/openkms/operator/init", json=body, verify=srv.verify,
                         timeout=20)


def sealed_server(start_server, data_dir=None, args=()):
    # No root AccessKey from the environment: with the Shamir seal it is made at init.
    return start_server(args=[*SEALED, *args], env=server_env(credentials=False),
                        data_dir=data_dir)


# ---------------------------------------------------------------------------------------
# an independent Shamir combination over GF(2^8) (x^8 + x^4 + x^3 + x^2 + 1)


def gf_mul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return r


def gf_inv(a: int) -> int:
    return next(b for b in range(1, 256) if gf_mul(a, b) == 1)


def share_bytes(text: str) -> tuple[bytes, int, bytes]:
    """okms1-<base64url of format 1, 8-byte split id, x, 32-byte y>."""
    assert text.startswith("okms1-"), text[:6]
    raw = base64.urlsafe_b64decode(text[6:] + "=" * (-len(text[6:]) % 4))
    assert len(raw) == 42 and raw[0] == 1
    return raw[1:9], raw[9], raw[10:]


def combine(shares: list[str]) -> bytes:
    points = [share_bytes(s)[1:] for s in shares]
    secret = bytearray(32)
    for i, (xi, yi) in enumerate(points):
        basis = 1  # Lagrange basis at 0: prod xj / (xj - xi); minus is xor in GF(2^8)
        for j, (xj, _) in enumerate(points):
            if j != i:
                basis = gf_mul(basis, gf_mul(xj, gf_inv(xj ^ xi)))
        for k in range(32):
            secret[k] ^= gf_mul(basis, yi[k])
    return bytes(secret)


def stored_check_value(srv) -> bytes:
    if on_postgres():
        url = database_url_for(srv.data_dir)
        out = psql(url, "SELECT encode(value, 'hex') FROM meta WHERE name = 'root_key_check'")
        assert out.returncode == 0, out.stderr
        return bytes.fromhex(out.stdout.strip())
    with sqlite3.connect(srv.data_dir / "openkms.db") as db:
        return db.execute("SELECT value FROM meta WHERE name = 'root_key_check'").fetchone()[0]


def opens_check_value(root_key: bytes, check: bytes) -> bool:
    """The check value is a format byte, a 96-bit nonce and AES-256-GCM of a known text with
    the record's label bound as associated data."""
    aad = b"openkms/v1/wrap/" + b"root-key-check" + b"\0"
    try:
        return AESGCM(root_key).decrypt(check[1:13], check[13:], aad) == b"openkms root key check"
    except Exception:  # noqa: BLE001 - InvalidTag: not this key
        return False


# ---------------------------------------------------------------------------------------
# the official SDK against a sealed server


def expect_sealed(clt, endpoint: str) -> None:
    request = CreateKeyRequest.CreateKeyRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    with pytest.raises(ServerException) as raised:
        clt.do_action_with_exception(request)
    exc = raised.value
    assert (exc.get_http_status(), exc.get_error_code()) == (503, "ServiceUnavailableTemporary")
    assert "sealed" in exc.get_error_msg()
    assert exc.get_request_id()


def probe(srv, path: str) -> int:
    return requests.get(f"{srv.url}{path}", verify=srv.verify, timeout=20).status_code


def altered(share: str) -> str:
    at = len(share) - 3
    return share[:at] + ("B" if share[at] == "A" else "A") + share[at + 1:]


def no_share_in_logs(srv, shares: list[str], token: str) -> None:
    logs = [srv.log_path, *sorted((srv.data_dir / "audit").glob("*"))]
    assert len(logs) > 1, "the audit log exists"
    for path in logs:
        text = Path(path).read_text(errors="replace")
        for share in shares:
            assert share not in text and share[6:] not in text, f"a share is in {path}"
        assert token not in text, f"the init token is in {path}"
    audit = (srv.data_dir / "audit" / "audit.log").read_text()
    assert '"action":"OperatorUnseal"' in audit and '"action":"OperatorInit"' in audit


# ---------------------------------------------------------------------------------------
# the tests


def test_sealed_start_unseal_seed_workflow_restart_and_seal(start_server, tmp_path, monkeypatch,
                                                           rsa_pem):
    srv = sealed_server(start_server)
    env = cli_env(srv, tmp_path / "config")
    status = operator_ok(env, "status")
    assert (status["Initialized"], status["Sealed"]) == (False, True)
    assert (probe(srv, "/healthz"), probe(srv, "/readyz")) == (200, 503)

    # Whoever reaches the fresh server first cannot initialise it: init needs the token the
    # server wrote to its data directory (only the path is logged).
    token = read_token(srv)
    assert str(token_file(srv)) in srv.log_path.read_text()
    for body in ({"Shares": 5, "Threshold": 3},
                 {"Shares": 5, "Threshold": 3, "InitToken": "0" * 64}):
        refused = raw_init(srv, body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["Code"] == "InvalidInitToken" and refused.json()["RequestId"]
    assert operator_ok(env, "status")["Initialized"] is False
    wrong = tmp_path / "wrong-token"
    wrong.write_text("f" * 64)
    done = operator(env, "init", "--shares", "5", "--threshold", "3", "--init-token-file",
                    str(wrong))
    assert done.returncode == 1 and "InvalidInitToken" in done.stderr, done.stderr

    made = init_ok(env, srv, "--shares", "5", "--threshold", "3")
    shares, ak, secret = made["Shares"], made["AccessKeyId"], made["AccessKeySecret"]
    assert not token_file(srv).exists(), "the token file is removed at init"
    again = raw_init(srv, {"Shares": 5, "Threshold": 3, "InitToken": token})
    assert again.json()["Code"] == "OperatorAlreadyInitialized", "a token serves once"
    assert len(shares) == 5 and len(set(shares)) == 5 and made["Threshold"] == 3
    assert not (srv.data_dir / "root-credentials.json").exists()
    assert not (srv.data_dir / "root.key").exists()

    # The shares recombine (independently) into the key that opens the stored check value,
    # from any three of them; two give something else.
    check = stored_check_value(srv)
    keys = {combine(list(three)) for three in itertools.combinations(shares, 3)}
    assert len(keys) == 1 and opens_check_value(keys.pop(), check)
    assert not opens_check_value(combine(shares[:2]), check)

    # Sealed after init: the official SDK surfaces the retryable 503.
    endpoint = srv.url
    seed_certs(srv, tmp_path, monkeypatch, rsa_pem)
    clt = client.AcsClient(ak, secret, "cn-hangzhou")
    expect_sealed(clt, endpoint)

    # Unseal with 3 of 5; a wrong share in between is refused and loses nothing.
    assert operator_ok(env, "unseal", stdin=shares[0] + "\n")["Progress"] == 1
    unseal_refused(env, altered(shares[1]), "InvalidShare.Mismatch")
    unseal_refused(env, shares[0], "InvalidShare.Repeated")
    unseal_refused(env, "okms1-nonsense", "InvalidShare.Malformed")
    assert operator_ok(env, "status")["Progress"] == 1
    assert operator_ok(env, "unseal", shares[2])["Progress"] == 2
    unsealed = operator_ok(env, "unseal", "-", stdin=shares[4])
    assert (unsealed["Sealed"], unsealed["Progress"]) == (False, 0)
    assert probe(srv, "/readyz") == 200

    # The seed workflow with the printed root AccessKey.
    request = CreateKeyRequest.CreateKeyRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    key_id = json.loads(clt.do_action_with_exception(request))["KeyMetadata"]["KeyId"]
    request = CreateAliasRequest.CreateAliasRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    request.set_AliasName(KEY_ALIAS)
    request.set_KeyId(key_id)
    assert json.loads(clt.do_action_with_exception(request))["RequestId"]
    seed = seed_script(clt, endpoint)
    pem = seed.ReadTextFile('./certs/key.pem')
    ciphertext = seed.KmsEncrypt(clt, pem, KEY_ALIAS)
    decode_blob(ciphertext)
    seed.WriteTextFile('./certs/key.pem.cipher', ciphertext)
    assert seed.KmsDecrypt(clt, seed.ReadTextFile('./certs/key.pem.cipher')) == pem

    # Restart: sealed again; another three of the five unseal it; the old ciphertext decrypts.
    srv.stop()
    srv.start()
    endpoint = srv.url
    env = cli_env(srv, tmp_path / "config")
    assert operator_ok(env, "status")["Sealed"] is True
    assert not token_file(srv).exists(), "no init token over an initialised store"
    expect_sealed(clt, endpoint)
    for share in (shares[1], shares[3]):
        assert operator_ok(env, "unseal", share)["Sealed"] is True
    assert operator_ok(env, "unseal", shares[2])["Sealed"] is False
    seed = seed_script(clt, endpoint)
    assert seed.KmsDecrypt(clt, seed.ReadTextFile('./certs/key.pem.cipher')) == pem

    # operator seal (root credentials) seals the running server.
    sealed = operator_ok(cli_env(srv, tmp_path / "config", (ak, secret)), "seal")
    assert sealed["Sealed"] is True
    expect_sealed(clt, endpoint)
    assert probe(srv, "/readyz") == 503

    srv.stop()
    no_share_in_logs(srv, shares, token)


def test_a_sealed_start_is_refused_on_the_store_of_a_root_key_file(start_server, tmp_path):
    plain = start_server(env=server_env(credentials=True))
    plain.stop()
    done = subprocess.run(
        [str(openkms_binary()), "server", "--data-dir", str(plain.data_dir), "--listen",
         "127.0.0.1:0", *with_database_url(SEALED, plain.data_dir)],
        env=server_env(credentials=False), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=CLI_TIMEOUT)
    assert done.returncode != 0
    assert "seal = file" in done.stderr, done.stderr


def raw_unseal(srv, share: str) -> requests.Response:
    return requests.post(f"{srv.url}/openkms/operator/unseal", json={"Share": share},
                         verify=srv.verify, timeout=20)


def test_a_flood_neither_hides_a_ceremony_nor_locks_out_its_holders(start_server):
    srv = sealed_server(start_server, args=["--audit-unauthenticated-per-second", "1"])
    token = read_token(srv)
    # A flood of status requests takes the unauthenticated audit budget (1 a second)...
    for _ in range(100):
        assert probe(srv, "/openkms/operator/status") == 200
    # ...and this source spends its budget of refused init and unseal requests.
    refused = 0
    while (reply := raw_unseal(srv, "okms1-guess")).json()["Code"] != "Throttling":
        assert reply.json()["Code"] == "OperatorNotInitialized"
        refused += 1
        assert refused <= 40, "refused requests are throttled"
    wrong = raw_init(srv, {"Shares": 2, "Threshold": 2, "InitToken": "0" * 64})
    assert wrong.json()["Code"] == "Throttling"
    # The holders of the token and the shares are never throttled.
    made = raw_init(srv, {"Shares": 2, "Threshold": 2, "InitToken": token})
    assert made.status_code == 200, made.text
    shares = made.json()["Shares"]
    assert raw_unseal(srv, shares[0]).json()["Progress"] == 1
    assert raw_unseal(srv, shares[1]).json()["Sealed"] is False
    srv.stop()
    lines = [json.loads(line) for line in
             (srv.data_dir / "audit" / "audit.log").read_text().splitlines()]
    assert any(line.get("event") == "suppressed" for line in lines), \
        "the status flood overran the audit budget (the premise of this test)"
    outcomes = [(line.get("action"), line.get("outcome")) for line in lines]
    assert outcomes.count(("OperatorInit", "OK")) == 1, "init is never left out of the log"
    assert outcomes.count(("OperatorUnseal", "OK")) == 2
    assert outcomes.count(("OperatorUnseal", "OperatorNotInitialized")) == refused, \
        "every refused unseal that was looked at is written"
    assert outcomes.count(("OperatorInit", "InvalidInitToken")) == 0


@pytest.mark.skipif(not on_postgres(), reason="two nodes share a PostgreSQL database")
def test_two_nodes_on_one_database_are_each_unsealed_on_their_own(start_server, tmp_path):
    first = sealed_server(start_server)
    url = database_url_for(first.data_dir)
    second = sealed_server(start_server, args=["--database-url", url])
    one, two = cli_env(first, tmp_path / "c1"), cli_env(second, tmp_path / "c2")
    first_token, second_token = read_token(first), read_token(second)
    assert first_token != second_token, "each node writes its own init token"
    refused = raw_init(second, {"Shares": 3, "Threshold": 2, "InitToken": first_token})
    assert refused.json()["Code"] == "InvalidInitToken", "a node accepts only its own token"
    made = init_ok(one, first, "--shares", "3", "--threshold", "2")
    shares, ak, secret = made["Shares"], made["AccessKeyId"], made["AccessKeySecret"]
    assert operator_ok(two, "status")["Initialized"] is True
    late = operator(two, "init", "--shares", "3", "--threshold", "2", "--init-token-file",
                    str(token_file(second)))
    assert "OperatorAlreadyInitialized" in late.stderr, late.stderr
    assert not token_file(second).exists(), "the other node's token is retired too"
    operator_ok(one, "unseal", shares[0])
    assert operator_ok(one, "unseal", shares[1])["Sealed"] is False
    assert operator_ok(two, "status") | {"RequestId": ""} == {
        "Initialized": True, "Sealed": True, "Threshold": 2, "Shares": 3, "Progress": 0,
        "RequestId": ""}, "each node is unsealed on its own"
    operator_ok(two, "unseal", shares[2])
    assert operator_ok(two, "unseal", shares[1])["Sealed"] is False
    blob = Kms(first, sdk_client(first, ak, secret)).encrypt(
        Kms(first, sdk_client(first, ak, secret)).create_key()["KeyId"], "aGk=")["CiphertextBlob"]
    assert Kms(second, sdk_client(second, ak, secret)).decrypt(blob)["Plaintext"] == "aGk="
