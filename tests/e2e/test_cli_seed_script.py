"""The seed workflow (shared/seeds/000_*) split between the shell and the seed's own script:
`openkms CreateKey` and `openkms CreateAlias --AliasName alias/Apollo/WorkKey` from the CLI (the
seed runs these as `aliyun kms ...`), the seed's Python Encrypt script as written (PEM read in
text mode, CiphertextBlob written to ./certs/key.pem.cipher in text mode), then
`openkms decrypt-file --in key.pem.cipher --out decrypted.pem`, which must give back the
original file byte for byte, with mode 0600.

The test has its own server, so the seed's alias name is free whatever else the suite does.
"""

import base64
import json
import os
import subprocess

import pytest
from aliyunsdkcore import client

from e2ehelp import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    decode_blob,
    file_mode,
    openkms_binary,
    seed_certs,
    seed_script,
)

KEY_ALIAS = "alias/Apollo/WorkKey"
CLI_TIMEOUT = 60.0


@pytest.fixture
def own_server(start_server):
    return start_server(args=["--account-id", ACCOUNT_ID])


def cli_env(server, config_home) -> dict:
    """The CLI's environment: endpoint, CA and credentials as the seeds set them; its config
    directory in the test's tmp dir; nothing of the caller's OPENKMS_* or ALIBABA_CLOUD_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENKMS_", "ALIBABA_CLOUD_"))}
    env.update({
        "OPENKMS_ENDPOINT": server.url,
        "ALIBABA_CLOUD_CA_BUNDLE": str(server.ca_path),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "XDG_CONFIG_HOME": str(config_home),
    })
    return env


def openkms(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(openkms_binary()), *args], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)


def openkms_ok(env, *args, cwd=None) -> str:
    done = openkms(env, *args, cwd=cwd)
    assert done.returncode == 0, (f"openkms {' '.join(args)} exited {done.returncode}:\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done.stdout


def test_cli_decrypts_the_cipher_file_of_the_seed_script(own_server, tmp_path, monkeypatch,
                                                         rsa_pem):
    server = own_server
    env = cli_env(server, tmp_path / "xdg")
    seed_certs(server, tmp_path, monkeypatch, rsa_pem)

    # -- steps 1 and 2 with the CLI; every step prints the API's JSON --
    created = json.loads(openkms_ok(env, "CreateKey"))
    key_id = created["KeyMetadata"]["KeyId"]
    aliased = json.loads(openkms_ok(env, "CreateAlias", "--AliasName", KEY_ALIAS,
                                    "--KeyId", key_id))
    assert aliased["RequestId"]

    # -- step 3: the seed's encryption script, as written (endpoint aside) --
    endpoint = server.url
    clt = client.AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, "cn-hangzhou")
    seed = seed_script(clt, endpoint)
    KmsEncrypt, ReadTextFile, WriteTextFile = seed.KmsEncrypt, seed.ReadTextFile, seed.WriteTextFile

    in_content = ReadTextFile('./certs/key.pem')
    ciphertext = KmsEncrypt(clt, in_content, KEY_ALIAS)
    assert ciphertext, "Encrypt returned no CiphertextBlob"
    WriteTextFile('./certs/key.pem.cipher', ciphertext)
    decode_blob((tmp_path / "certs" / "key.pem.cipher").read_text())

    # -- step 4 with the CLI --
    out = openkms_ok(env, "decrypt-file", "--in", "key.pem.cipher", "--out", "decrypted.pem",
                     cwd=tmp_path / "certs")
    assert out == ""
    decrypted = tmp_path / "certs" / "decrypted.pem"
    assert decrypted.read_bytes() == (tmp_path / "certs" / "key.pem").read_bytes()
    assert file_mode(decrypted) == 0o600
    leftovers = [p.name for p in (tmp_path / "certs").iterdir() if p.name.startswith(".openkms-")]
    assert not leftovers, f"temporary files left: {leftovers}"

    # and to standard output
    out = openkms(env, "decrypt-file", "--in", "./certs/key.pem.cipher", "--out", "-")
    assert out.returncode == 0, out.stderr
    assert out.stdout == rsa_pem


def test_cli_refuses_a_damaged_seed_cipher_file(own_server, tmp_path, rsa_pem):
    """A cipher file whose blob was altered fails with exit 1 (the API's error) and writes
    nothing."""
    server = own_server
    env = cli_env(server, tmp_path / "xdg")
    key_id = json.loads(openkms_ok(env, "CreateKey"))["KeyMetadata"]["KeyId"]
    blob = json.loads(openkms_ok(env, "Encrypt", "--KeyId", key_id, "--Plaintext", rsa_pem))[
        "CiphertextBlob"]
    raw = bytearray(decode_blob(blob))
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / "key.pem.cipher").write_text(base64.b64encode(bytes(raw)).decode("ascii"))
    done = openkms(env, "decrypt-file", "--in", "key.pem.cipher", "--out", "decrypted.pem",
                   cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "InvalidParameter" in done.stderr and "RequestId: " in done.stderr, done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "decrypted.pem").exists()
