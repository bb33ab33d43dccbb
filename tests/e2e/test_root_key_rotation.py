"""``openkms root-key rotate`` (issue 14): every key version and AccessKey secret re-wrapped
under a new root key, with the server stopped; killed (``kill -9``) at several points and run
again, no key is lost, and afterwards the old root key no longer opens the store.

Every check goes through a real server and the official Python SDK: a store "opens" under a
root key when a server started with that key decrypts every ciphertext made before and the
RAM user's AccessKey still signs. On PostgreSQL ($OPENKMS_E2E_DATABASE_URL) the same runs on
the data dir's own database.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from e2ehelp import (Kms, ServerStartError, database_url_for, new_ram_user, openkms_binary,
                     run_expecting_failure, sdk_client, sdk_request, server_env,
                     with_database_url)

from test_pkcs11 import token  # noqa: F401 - the fixture of a token of the test's own
from test_shamir import (cli_env, combine, operator, operator_ok, opens_check_value,
                         sealed_server, stored_check_value)

ROTATE_TIMEOUT = 120


def rotate_command(data_dir: Path, *extra) -> list:
    return [str(openkms_binary()), "root-key", "rotate", "--data-dir", str(data_dir),
            *with_database_url(extra, data_dir)]


def run_rotate(data_dir: Path, *extra, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(rotate_command(data_dir, *extra), capture_output=True, text=True,
                          env=env or server_env(credentials=False), timeout=ROTATE_TIMEOUT)


def populate(kms: Kms, keys: int) -> list:
    """``keys`` keys, each with a second version, and a ciphertext under each version."""
    sealed = []
    for n in range(keys):
        key_id = kms.create_key()["KeyId"]
        for version in range(2):
            text = f"secret {n}.{version} " + "x" * (n % 17)
            blob = kms.encrypt(key_id, base64.b64encode(text.encode()).decode())["CiphertextBlob"]
            sealed.append((blob, text))
            if version == 0:
                kms.call(sdk_request("CreateKeyVersion", KeyId=key_id))
    return sealed


def assert_opens(start_server, data_dir: Path, sealed: list, user, args=(), env=None) -> None:
    """A server on ``data_dir`` (with ``args`` naming its root key) decrypts everything, and
    the RAM user's AccessKey signs."""
    srv = start_server(args=list(args), env=env, data_dir=data_dir)
    try:
        kms = Kms(srv)
        for blob, text in sealed:
            plain = base64.b64decode(kms.decrypt(blob)["Plaintext"]).decode()
            assert plain == text
        as_user = Kms(srv, sdk_client(srv, user.access_key_id, user.secret))
        as_user.call(sdk_request("ListKeys"))
    finally:
        srv.stop()


def refuses(data_dir: Path, args=(), env=None) -> bool:
    """Whether a server on ``data_dir`` with ``args`` refuses to start for a wrong root key."""
    code, _, err = run_expecting_failure(openkms_binary(), data_dir, env or server_env(),
                                         args=args)
    return code != 0 and "does not match" in err


@pytest.fixture
def populated(start_server, tmp_path):
    """A stopped server's data dir with keys, ciphertexts and a RAM user, and the old key."""
    data_dir = tmp_path / "data"
    srv = start_server(data_dir=data_dir)
    kms = Kms(srv)
    sealed = populate(kms, 12)
    user = new_ram_user(kms, "rotate", system=["AliyunKMSFullAccess"])
    srv.stop()
    old_key = tmp_path / "old-root.key"
    old_key.write_bytes((data_dir / "root.key").read_bytes())
    old_key.chmod(0o600)
    return data_dir, sealed, user, old_key


def test_rotation_rewraps_everything_and_retires_the_old_key(start_server, populated):
    data_dir, sealed, user, old_key = populated
    done = run_rotate(data_dir)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["Rotated"] is True
    assert summary["KeyVersions"] == 24
    assert summary["AccessKeys"] == 2  # the root AccessKey and the RAM user's
    assert Path(summary["RootKeyFile"]) == data_dir / "root.key"
    assert not (data_dir / "root.key.new").exists()
    assert (data_dir / "root.key").read_bytes() != old_key.read_bytes()
    assert_opens(start_server, data_dir, sealed, user)
    assert refuses(data_dir, ["--root-key-file", str(old_key)]), "the old key still opens it"
    again = run_rotate(data_dir)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["Rotated"] is True, "a second rotation is a new one"
    assert_opens(start_server, data_dir, sealed, user)


def test_secrets_need_nothing_of_a_rotation(start_server, tmp_path):
    """Secret versions are sealed under CMKs (the default secrets key and a named one), not under
    the root key: a rotation rewraps the CMKs' material and every secret still reads."""
    data_dir = tmp_path / "data"
    srv = start_server(data_dir=data_dir)
    kms = Kms(srv)
    key_id = kms.create_key()["KeyId"]
    kms.call(sdk_request("CreateSecret", SecretName="rotate/default", VersionId="v1",
                         SecretData="under the default key"))
    kms.call(sdk_request("CreateSecret", SecretName="rotate/named", VersionId="v1",
                         SecretData="under a named key", EncryptionKeyId=key_id))
    srv.stop()
    done = run_rotate(data_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["KeyVersions"] == 2, "the named key and the default key"
    srv = start_server(data_dir=data_dir)
    try:
        kms = Kms(srv)
        for name, value in [("rotate/default", "under the default key"),
                            ("rotate/named", "under a named key")]:
            assert kms.call(sdk_request("GetSecretValue", SecretName=name))["SecretData"] == value
    finally:
        srv.stop()


def test_rotation_is_refused_while_a_server_runs(start_server, populated, tmp_path):
    """The data directory's lock refuses it; on PostgreSQL so does the database's serving
    lock, also from another node's data directory."""
    data_dir, _, _, old_key = populated
    url = database_url_for(data_dir)
    other_node = tmp_path / "node2"
    other_node.mkdir(mode=0o700)
    srv = start_server(data_dir=data_dir)
    try:
        busy = run_rotate(data_dir)
        elsewhere = url and run_rotate(other_node, "--database-url", url, "--root-key-file",
                                       str(old_key), "--new-root-key-file",
                                       str(tmp_path / "next.key"))
    finally:
        srv.stop()
    assert busy.returncode != 0
    assert "in use by another openkms process" in busy.stderr
    if url:
        assert elsewhere.returncode != 0
        assert "in use by a running openkms node" in elsewhere.stderr, elsewhere.stderr
    assert (data_dir / "root.key").read_bytes() == old_key.read_bytes(), "nothing changed"


def test_a_key_kept_outside_needs_its_successor_named(populated):
    data_dir, _, _, old_key = populated
    refused = run_rotate(data_dir, "--root-key-file", str(old_key))
    assert refused.returncode != 0
    assert "--new-root-key-file" in refused.stderr
    assert not (data_dir / "root.key.new").exists()


def test_a_wrong_current_key_changes_nothing(start_server, populated, tmp_path):
    data_dir, sealed, user, old_key = populated
    wrong = tmp_path / "wrong.key"
    wrong.write_text(base64.b64encode(bytes(range(32))).decode() + "\n")
    wrong.chmod(0o600)
    refused = run_rotate(data_dir, "--root-key-file", str(wrong),
                         "--new-root-key-file", str(tmp_path / "next.key"))
    assert refused.returncode != 0
    assert "does not match" in refused.stderr
    assert_opens(start_server, data_dir, sealed, user)


def test_killed_at_any_point_then_rerun_loses_nothing(start_server, populated):
    """kill -9 at growing delays into the run; after each kill one of the two key files
    (root.key, else root.key.new) opens the store completely; a final run finishes and the
    old key is retired."""
    data_dir, sealed, user, old_key = populated
    new_key = data_dir / "root.key.new"
    began = time.monotonic()
    first = run_rotate(data_dir)  # a whole run, timed: the kills spread over its length
    whole = time.monotonic() - began
    assert first.returncode == 0, first.stderr
    rng = random.Random(14)
    delays = [whole * i / 8 for i in range(10)] + [rng.uniform(0.0, whole) for _ in range(4)]
    phases = []
    for delay in delays:
        before = (data_dir / "root.key").read_bytes()
        proc = subprocess.Popen(rotate_command(data_dir), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=server_env(credentials=False))
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=ROTATE_TIMEOUT)
        phases.append(classify(data_dir, before, new_key))
        try:
            assert_opens(start_server, data_dir, sealed, user)
        except ServerStartError as refused:
            assert "does not match" in str(refused), refused
            assert new_key.exists(), f"neither key opens the store after a kill ({phases})"
            assert_opens(start_server, data_dir, sealed, user, ["--root-key-file", str(new_key)])
    finished = run_rotate(data_dir)
    assert finished.returncode == 0, finished.stderr
    assert not new_key.exists()
    assert_opens(start_server, data_dir, sealed, user)
    assert refuses(data_dir, ["--root-key-file", str(old_key)])
    print(f"a whole run took {whole:.3f}s; kills landed:", phases)


def classify(data_dir: Path, before: bytes, new_key: Path) -> str:
    """Where a kill landed, by the files it left (``before``: root.key before the run)."""
    if (data_dir / "root.key").read_bytes() != before:
        return "after a rotation"
    return "new key written" if new_key.exists() else "before the new key"


# ---------------------------------------------------------------------------------------
# seal = shamir: T current shares in, a new root key and new shares out


def init_and_unseal(srv, env) -> tuple[list, str, str]:
    """``operator init`` (5 shares, threshold 3), then unseal with the first three."""
    made = operator_ok(env, "init", "--shares", "5", "--threshold", "3", "--init-token-file",
                       str(srv.data_dir / "init-token"))
    for share in made["Shares"][:3]:
        operator_ok(env, "unseal", stdin=share + "\n")
    return made["Shares"], made["AccessKeyId"], made["AccessKeySecret"]


def rotate_shamir(data_dir: Path, shares: list) -> subprocess.CompletedProcess:
    return subprocess.run(rotate_command(data_dir, "--seal", "shamir"),
                          input="".join(s + "\n" for s in shares), capture_output=True,
                          text=True, env=server_env(credentials=False), timeout=ROTATE_TIMEOUT)


def test_shamir_rotation_prints_new_shares_and_retires_the_old(start_server, tmp_path):
    srv = sealed_server(start_server)
    env = cli_env(srv, tmp_path / "config")
    shares, ak, secret = init_and_unseal(srv, env)
    kms = Kms(srv, sdk_client(srv, ak, secret))
    sealed = populate(kms, 4)
    srv.stop()
    data_dir = srv.data_dir

    refused = rotate_shamir(data_dir, [shares[0], shares[0], shares[1]])
    assert refused.returncode != 0 and "share already submitted" in refused.stderr
    assert shares[0] not in refused.stderr + refused.stdout
    short = rotate_shamir(data_dir, shares[:2])
    assert short.returncode != 0 and "2 of 3 current shares" in short.stderr

    done = rotate_shamir(data_dir, shares[2:])
    assert done.returncode == 0, done.stderr
    first, summary = (json.loads(line) for line in done.stdout.splitlines())
    new = first["NewShares"]
    assert len(new) == 5 and first["Threshold"] == 3 and not set(new) & set(shares)
    assert summary["Rotated"] is True and summary["KeyVersions"] == 8
    assert summary["AccessKeys"] == 1

    # Independently: any three new shares make the key that opens the stored check value;
    # the old shares' key no longer does.
    srv = sealed_server(start_server, data_dir=data_dir)
    check = stored_check_value(srv)
    assert opens_check_value(combine(new[2:]), check)
    assert not opens_check_value(combine(shares[:3]), check)
    env = cli_env(srv, tmp_path / "config")
    refused = operator(env, "unseal", shares[0])
    assert refused.returncode == 1 and "InvalidShare.OtherInitialization" in refused.stderr
    for share in new[1:4]:
        operator_ok(env, "unseal", stdin=share + "\n")
    kms = Kms(srv, sdk_client(srv, ak, secret))
    for blob, text in sealed:
        assert base64.b64decode(kms.decrypt(blob)["Plaintext"]).decode() == text
    srv.stop()


# ---------------------------------------------------------------------------------------
# seal = pkcs11: a new root key in the same token, under a new label


def test_pkcs11_rotation_moves_the_store_to_a_new_token_key(token, start_server):  # noqa: F811
    env = token.server_env()
    srv = start_server(args=token.args(), env=env)
    kms = Kms(srv)
    sealed = populate(kms, 3)
    user = new_ram_user(kms, "rotate", system=["AliyunKMSFullAccess"])
    srv.stop()
    data_dir = srv.data_dir
    new_args = token.args()
    new_args[new_args.index("--pkcs11-key-label") + 1] = token.key_label + "-next"

    refused = run_rotate(data_dir, *token.args(), env=env)
    assert refused.returncode != 0 and "--new-pkcs11-key-label" in refused.stderr.replace(
        "new_pkcs11_key_label", "--new-pkcs11-key-label")
    done = run_rotate(data_dir, *token.args(), "--new-pkcs11-key-label",
                      token.key_label + "-next", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["Rotated"] is True and summary["KeyVersions"] == 6
    assert summary["AccessKeys"] == 2

    assert refuses(data_dir, token.args(), env), "the old token key still opens the store"
    assert_opens(start_server, data_dir, sealed, user, new_args, env)
    again = run_rotate(data_dir, *token.args(), "--new-pkcs11-key-label",
                       token.key_label + "-next", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["AlreadyRotated"] is True, "a re-run finds the work done"
