"""PKCS#11 custody (issue 14): the root key inside a token (--seal pkcs11) and
ProtectionLevel=HSM keys, on SoftHSM2 — or any module given by environment.

Each test makes its own token: with SoftHSM2 a configuration and token directory of its own in
a temporary directory (``softhsm2-util --init-token --free``), handed to the server through
``SOFTHSM2_CONF``. Another module runs the same tests when ``OPENKMS_TEST_PKCS11_MODULE``,
``OPENKMS_TEST_PKCS11_TOKEN_LABEL`` and ``OPENKMS_TEST_PKCS11_PIN`` name it and an initialised
token (its root key label is then unique per test). Without a module the tests skip loudly, or
fail when CI is set.

What is checked with independent code: the HSM ciphertext variant's layout (format byte 0x02,
IV, tag) and — the point of an HSM — that no 32-byte window of any file the server wrote opens
an HSM blob as its AES-256-GCM key (Python ``cryptography``), a scan whose power is shown by a
planted key it does find.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from aliyunsdkcore import client
from aliyunsdkkms.request.v20160120 import CreateAliasRequest, CreateKeyRequest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, Kms, database_url_for, decode_blob,
                     describe, encode_blob, new_server, on_postgres, openkms_binary, psql,
                     release_database, run_expecting_failure, sdk_request, seed_certs,
                     seed_script, server_env)

SOFTHSM_MODULES = ("/usr/lib/softhsm/libsofthsm2.so",
                   "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
PIN = "e2e-user-pin-1234"
SO_PIN = "e2e-so-pin-5678"
HSM_FORMAT = 0x02
VERSION_ID_LEN = 36
IV_LEN = 12
TAG_LEN = 16
HSM_HEADER_LEN = VERSION_ID_LEN + 1 + IV_LEN
STORED_REF_TAG = b"\x82\x01"


def in_ci() -> bool:
    value = os.environ.get("CI", "")
    return value not in ("", "0") and value.lower() != "false"


def module_path() -> str | None:
    given = os.environ.get("OPENKMS_TEST_PKCS11_MODULE")
    if given:
        return given
    return next((m for m in SOFTHSM_MODULES if Path(m).is_file()), None)


def skip_or_fail(why: str):
    message = f"!!!!!!!! SKIPPED: PKCS#11 e2e tests -- {why} !!!!!!!!"
    if in_ci():
        pytest.fail(f"CI is set but {why}")
    pytest.skip(message)


class TokenSetup:
    """A token for one test: the server flags and environment that reach it."""

    def __init__(self, base: Path):
        module = module_path()
        if module is None:
            skip_or_fail("no PKCS#11 module (apt-get install softhsm2, or set "
                         "OPENKMS_TEST_PKCS11_MODULE)")
        self.module = module
        self.key_label = f"openkms-root-{uuid.uuid4().hex[:12]}"
        self.env: dict = {}
        label = os.environ.get("OPENKMS_TEST_PKCS11_TOKEN_LABEL")
        if label:
            self.token_label, pin = label, os.environ.get("OPENKMS_TEST_PKCS11_PIN", "")
        elif "softhsm" in Path(module).name:
            self.token_label, pin = self._init_softhsm(base)
        else:
            skip_or_fail(f"{module} is not SoftHSM2; set OPENKMS_TEST_PKCS11_TOKEN_LABEL and "
                         "OPENKMS_TEST_PKCS11_PIN to name an initialised token")
        self.pin = pin
        self.pin_file = base / "pkcs11.pin"
        self.pin_file.write_text(pin + "\n")
        self.pin_file.chmod(0o600)

    def _init_softhsm(self, base: Path) -> tuple[str, str]:
        util = shutil.which("softhsm2-util")
        if util is None:
            skip_or_fail("softhsm2-util is not installed (apt-get install softhsm2)")
        tokens = base / "softhsm-tokens"
        tokens.mkdir()
        conf = base / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                        "log.level = ERROR\nslots.removable = false\n")
        self.env["SOFTHSM2_CONF"] = str(conf)
        label = "openkms-e2e"
        subprocess.run([util, "--init-token", "--free", "--label", label, "--pin", PIN,
                        "--so-pin", SO_PIN], check=True, capture_output=True,
                       env={**os.environ, "SOFTHSM2_CONF": str(conf)})
        return label, PIN

    def args(self, seal: str = "pkcs11", pin_file: bool = True) -> list:
        pin = ["--pkcs11-pin-file", str(self.pin_file)] if pin_file else []
        return ["--seal", seal, "--pkcs11-module", self.module,
                "--pkcs11-token-label", self.token_label, "--pkcs11-key-label", self.key_label,
                *pin]

    def server_env(self, pin_in_env: bool = False) -> dict:
        extra = {**self.env, **({"OPENKMS_PKCS11_PIN": self.pin} if pin_in_env else {})}
        return server_env(extra=extra)


@pytest.fixture
def token(tmp_path_factory) -> TokenSetup:
    return TokenSetup(tmp_path_factory.mktemp("token"))


@pytest.fixture
def servers(tmp_path_factory):
    """servers(args, env, data_dir=None) -> a started OpenKms, stopped at the end."""
    started = []

    def start(args, env, data_dir=None):
        srv = new_server(tmp_path_factory, "pkcs11", args, env, data_dir)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()
    for data_dir in {srv.data_dir for srv in started}:
        release_database(data_dir)


def run_seed_workflow(server, tmp_path, monkeypatch, pem: str) -> str:
    """The seed's steps (test_seed_workflow.py), with its own functions; returns the cipher
    file's text after checking the round trip byte for byte."""
    endpoint = server.url
    seed_certs(server, tmp_path, monkeypatch, pem)
    clt = client.AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, "cn-hangzhou")
    request = CreateKeyRequest.CreateKeyRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    key_id = json.loads(clt.do_action_with_exception(request))["KeyMetadata"]["KeyId"]
    request = CreateAliasRequest.CreateAliasRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    request.set_AliasName("alias/Apollo/WorkKey")
    request.set_KeyId(key_id)
    assert json.loads(clt.do_action_with_exception(request))["RequestId"]
    seed = seed_script(clt, endpoint)
    content = seed.ReadTextFile('./certs/key.pem')
    ciphertext = seed.KmsEncrypt(clt, content, "alias/Apollo/WorkKey")
    assert ciphertext, "Encrypt returned no CiphertextBlob"
    seed.WriteTextFile('./certs/key.pem.cipher', ciphertext)
    plaintext = seed.KmsDecrypt(clt, seed.ReadTextFile('./certs/key.pem.cipher'))
    seed.WriteTextFile('./certs/decrypted_key.pem', plaintext)
    original = (tmp_path / "certs" / "key.pem").read_bytes()
    assert (tmp_path / "certs" / "decrypted_key.pem").read_bytes() == original
    return (tmp_path / "certs" / "key.pem.cipher").read_text()


def test_seed_workflow_with_the_root_key_in_the_token(token, servers, tmp_path, monkeypatch,
                                                      rsa_pem):
    srv = servers(token.args(), token.server_env())
    cipher = run_seed_workflow(srv, tmp_path, monkeypatch, rsa_pem)
    assert not (srv.data_dir / "root.key").exists(), "no root.key file in pkcs11 mode"
    assert decode_blob(cipher)[VERSION_ID_LEN] == 0x01, "software keys keep format 1"
    srv.stop()
    # The PIN from OPENKMS_PKCS11_PIN this time, instead of the file.
    again = servers(token.args(pin_file=False), token.server_env(pin_in_env=True),
                    data_dir=srv.data_dir)
    opened = Kms(again).decrypt(cipher)
    assert opened["Plaintext"] == rsa_pem, "the store opens again with the token's root key"
    assert not (srv.data_dir / "root.key").exists()


def test_a_store_made_under_root_key_does_not_open_with_the_token(token, servers, tmp_path):
    srv = servers([], server_env())
    Kms(srv).create_key()
    srv.stop()
    code, _, err = run_expecting_failure(openkms_binary(), srv.data_dir, token.server_env(),
                                         timeout=60, args=token.args())
    assert code != 0
    assert "pkcs11: the token holds no key labelled" in err, err[-2000:]


def hsm_round_trips(kms: Kms, key_id: str, software_key: str) -> dict:
    """Encrypt, Decrypt, GenerateDataKey(+WithoutPlaintext) and ReEncrypt through the HSM
    key; returns blobs made under it (name -> base64)."""
    blobs = {}
    context = json.dumps({"purpose": "e2e", "app": "pkcs11"})
    enc = kms.encrypt(key_id, "hsm plaintext", context)
    assert enc["KeyId"] == key_id
    assert kms.decrypt(enc["CiphertextBlob"], context)["Plaintext"] == "hsm plaintext"
    blobs["encrypt"] = enc["CiphertextBlob"]
    plain = kms.encrypt(key_id, "no context")
    blobs["plain"] = plain["CiphertextBlob"]
    dk = kms.call(sdk_request("GenerateDataKey", KeyId=key_id, NumberOfBytes=32))
    assert kms.decrypt(dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    blobs["datakey"] = dk["CiphertextBlob"]
    wp = kms.call(sdk_request("GenerateDataKeyWithoutPlaintext", KeyId=key_id,
                              NumberOfBytes=16))
    assert "Plaintext" not in wp
    assert len(base64.b64decode(kms.decrypt(wp["CiphertextBlob"])["Plaintext"])) == 16
    soft = kms.encrypt(software_key, "moved between custodies")
    to_hsm = kms.call(sdk_request("ReEncrypt", CiphertextBlob=soft["CiphertextBlob"],
                                  DestinationKeyId=key_id))
    assert to_hsm["KeyId"] == key_id
    assert kms.decrypt(to_hsm["CiphertextBlob"])["Plaintext"] == "moved between custodies"
    back = kms.call(sdk_request("ReEncrypt", CiphertextBlob=to_hsm["CiphertextBlob"],
                                DestinationKeyId=software_key))
    assert kms.decrypt(back["CiphertextBlob"])["Plaintext"] == "moved between custodies"
    assert decode_blob(back["CiphertextBlob"])[VERSION_ID_LEN] == 0x01
    blobs["reencrypt"] = to_hsm["CiphertextBlob"]
    return blobs


def check_hsm_layout(blob_b64: str, version_id: str, plaintext_len: int) -> bytes:
    raw = decode_blob(blob_b64)
    assert raw[:VERSION_ID_LEN] == version_id.encode()
    assert raw[VERSION_ID_LEN] == HSM_FORMAT, "HSM keys write format 2"
    assert len(raw) == HSM_HEADER_LEN + plaintext_len + TAG_LEN
    return raw


def opens_with(key: bytes, raw: bytes, context: bytes = b"") -> bool:
    """Whether ``key`` opens the HSM blob ``raw`` (docs/ciphertext-format.md, format 2)."""
    try:
        AESGCM(key).decrypt(raw[VERSION_ID_LEN + 1:HSM_HEADER_LEN], raw[HSM_HEADER_LEN:],
                            raw[:HSM_HEADER_LEN] + context)
        return True
    except Exception:
        return False


def windows_that_open(data: bytes, raw: bytes) -> list[int]:
    return [i for i in range(len(data) - 31) if opens_with(data[i:i + 32], raw)]


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def test_hsm_key_works_through_the_token_and_its_material_is_not_stored(token, servers):
    srv = servers(token.args(), token.server_env())
    kms = Kms(srv)
    created = kms.create_key(ProtectionLevel="HSM")
    key_id, version_id = created["KeyId"], created["PrimaryKeyVersion"]
    assert created["ProtectionLevel"] == "HSM"
    assert describe(kms, key_id)["ProtectionLevel"] == "HSM"
    kms.error(kms.create_key_request(ProtectionLevel="HSM", KeySpec="Aliyun_SM4"), 400,
              "UnsupportedOperation")
    software = kms.create_key()["KeyId"]
    assert describe(kms, software)["ProtectionLevel"] == "SOFTWARE"
    listed = kms.call(sdk_request("ListKeys", Filters=json.dumps(
        [{"Key": "ProtectionLevel", "Values": ["HSM"]}])))
    assert [k["KeyId"] for k in listed["Keys"]["Key"]] == [key_id]
    blobs = hsm_round_trips(kms, key_id, software)
    plain_raw = check_hsm_layout(blobs["plain"], version_id, len("no context"))
    rotated = kms.call(sdk_request("CreateKeyVersion", KeyId=key_id))["KeyVersion"]
    after = kms.encrypt(key_id, "after rotation")
    assert after["KeyVersionId"] == rotated["KeyVersionId"]
    check_hsm_layout(after["CiphertextBlob"], rotated["KeyVersionId"], len("after rotation"))
    assert kms.decrypt(blobs["encrypt"], json.dumps({"app": "pkcs11", "purpose": "e2e"}))
    srv.stop()
    assert not (srv.data_dir / "root.key").exists()
    if on_postgres():
        stored = postgres_binary_values(srv.data_dir)
        assert len(stored) >= 4, "versions and metadata were read back"
        for i, data in enumerate(stored):
            assert windows_that_open(data, plain_raw) == [], f"HSM key material in value {i}"
    else:
        check_version_records(srv.data_dir / "openkms.db", key_id)
    scanned = files_under(srv.data_dir)
    assert any(p.name == "openkms.db" for p in scanned) or on_postgres()
    assert on_postgres() or sum(p.stat().st_size for p in scanned) > 20_000, "what was written"
    for path in scanned:
        data = path.read_bytes()
        assert windows_that_open(data, plain_raw) == [], f"an HSM key's material is in {path}"
    again = servers(token.args(), token.server_env(), data_dir=srv.data_dir)
    assert Kms(again).decrypt(blobs["plain"])["Plaintext"] == "no context"


def postgres_binary_values(data_dir: Path) -> list[bytes]:
    """Every binary value the PostgreSQL store holds (version records, metadata, wrapped
    AccessKey secrets), as bytes: where key material would be if it were stored."""
    url = database_url_for(data_dir)
    sql = ("SELECT encode(wrapped_material, 'hex') FROM key_versions UNION ALL "
           "SELECT encode(value, 'hex') FROM meta UNION ALL "
           "SELECT encode(wrapped_secret, 'hex') FROM access_keys")
    done = psql(url, sql)
    assert done.returncode == 0, done.stderr
    return [bytes.fromhex(line) for line in done.stdout.split()]


def check_version_records(db: Path, key_id: str) -> None:
    """Each HSM version's stored key is only a reference: tag, spec, the object's random
    CKA_ID (16 bytes) and its token label."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT version_id, wrapped_material FROM key_versions "
                            "WHERE key_id = ?", (key_id,)).fetchall()
    assert len(rows) == 2
    for version_id, stored in rows:
        label = f"openkms/{key_id}/{version_id}".encode()
        assert len(stored) == len(STORED_REF_TAG) + 16 + len(label)
        assert stored.startswith(STORED_REF_TAG) and stored.endswith(label), stored


def test_the_scan_finds_a_key_that_is_there():
    """The absence check above has power: a planted AES-256 key is found where it is."""
    key = os.urandom(32)
    iv = os.urandom(IV_LEN)
    header = ("8f3a2c1d-0b4e-4f6a-9c7d-1e2f3a4b5c6d".encode() + bytes([HSM_FORMAT]) + iv)
    raw = header + AESGCM(key).encrypt(iv, b"no context", header)
    assert opens_with(key, raw)
    data = os.urandom(3000) + key + os.urandom(500)
    assert windows_that_open(data, raw) == [3000]
    assert encode_blob(raw)


def test_hsm_keys_are_refused_without_a_token(servers):
    srv = servers([], server_env())
    kms = Kms(srv)
    err = kms.error(kms.create_key_request(ProtectionLevel="HSM"), 400,
                    "Unsupported.ProtectionLevel")
    assert "protection level" in err.message
    assert kms.create_key(ProtectionLevel="SOFTWARE")["ProtectionLevel"] == "SOFTWARE"


def test_hsm_keys_are_served_under_the_file_seal_when_a_token_is_configured(token, servers):
    srv = servers(token.args(seal="file"), token.server_env())
    kms = Kms(srv)
    key_id = kms.create_key(ProtectionLevel="HSM")["KeyId"]
    blob = kms.encrypt(key_id, "file seal, HSM key")["CiphertextBlob"]
    assert decode_blob(blob)[VERSION_ID_LEN] == HSM_FORMAT
    assert kms.decrypt(blob)["Plaintext"] == "file seal, HSM key"
    assert (srv.data_dir / "root.key").exists(), "the file seal keeps its root.key"


def test_a_missing_or_wrong_pin_stops_the_start_without_showing_it(token, tmp_path):
    code, _, err = run_expecting_failure(openkms_binary(), tmp_path / "data", token.server_env(),
                                         timeout=60, args=token.args(pin_file=False))
    assert code != 0 and "pkcs11: no user PIN" in err, err[-2000:]
    token.pin_file.write_text("wrong-pin-7319\n")
    code, _, err = run_expecting_failure(openkms_binary(), tmp_path / "data", token.server_env(),
                                         timeout=60, args=token.args())
    assert code != 0 and "refused the user PIN" in err, err[-2000:]
    assert "wrong-pin-7319" not in err
