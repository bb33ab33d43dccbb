"""Key import (BYOK, next-surfaces spec section 4) through the old Python SDK (V1 signature)
and the Tea SDK (V3 signature), over TLS.

The material is wrapped by the test itself, as a customer would, with the bare-DER PublicKey
GetParametersForImport returns: Python ``cryptography`` for RSAES-OAEP-SHA256, OAEP-SHA1 and
PKCS#1 v1.5, Alibaba's documented OpenSSL procedure (``openssl pkeyutl`` OAEP SHA-256) once,
and OpenSSL SM2 encryption for an SM4 key with the EC_SM2 wrapping key. Then the key encrypts
and decrypts. Every refusal is checked for code and HTTP status.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import time

import pytest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCOUNT_ID, REGION_ID, Kms, describe,
                     key_arn, new_ram_user, new_server, policy_document, sdk_request, statement,
                     stop_or_fail)

OAEP_256 = "RSAES_OAEP_SHA_256"
OAEP_1 = "RSAES_OAEP_SHA_1"
PKCS1 = "RSAES_PKCS1_V1_5"


# ---------------------------------------------------------------------------------------
# helpers

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)


def openssl_has_sm2() -> bool:
    return openssl("list", "-public-key-algorithms").stdout.find(b"SM2") >= 0


def external_key(kms: Kms, spec: str = "Aliyun_AES_256") -> dict:
    """A new EXTERNAL key's CreateKey metadata, checked against section 4.1."""
    meta = kms.create_key(KeySpec=spec, Origin="EXTERNAL")
    assert meta["KeyState"] == "PendingImport", meta
    assert meta["Origin"] == "EXTERNAL"
    assert meta["MaterialExpireTime"] == ""
    assert len(meta["PrimaryKeyVersion"]) == 36, "the single version is named at CreateKey"
    return meta


def parameters(kms: Kms, key_id: str, algorithm: str = OAEP_256, spec: str = "RSA_2048") -> dict:
    reply = kms.call(sdk_request("GetParametersForImport", KeyId=key_id,
                                 WrappingAlgorithm=algorithm, WrappingKeySpec=spec))
    assert reply["KeyId"] == key_id
    assert "-----" not in reply["PublicKey"] and "\n" not in reply["PublicKey"], \
        "PublicKey is bare base64 DER, not PEM"
    expires = dt.datetime.strptime(reply["TokenExpireTime"], "%Y-%m-%dT%H:%M:%SZ")
    expected = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=24)
    assert abs((expires - expected).total_seconds()) < 120, reply["TokenExpireTime"]
    return reply


def wrap(public_key_b64: str, material: bytes, algorithm: str) -> str:
    """EncryptedKeyMaterial: `material` wrapped with Python cryptography (section 4.3)."""
    key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    pad = {
        OAEP_256: padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
        OAEP_1: padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
        PKCS1: padding.PKCS1v15(),
    }[algorithm]
    return b64(key.encrypt(material, pad))


def wrap_openssl(tmp_path, public_key_b64: str, material: bytes, *opts: str) -> str:
    """EncryptedKeyMaterial made the documented way: openssl pkeyutl on the DER public key."""
    (tmp_path / "wrap.der").write_bytes(base64.b64decode(public_key_b64))
    args = ["pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey",
            str(tmp_path / "wrap.der")]
    for opt in opts:
        args += ["-pkeyopt", opt]
    out = openssl(*args, data=material)
    assert out.returncode == 0, out.stderr.decode()
    return b64(out.stdout)


def import_request(key_id: str, token: str, wrapped: str, expire: int | None = 0):
    params = dict(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=wrapped)
    if expire is not None:
        params["KeyMaterialExpireUnix"] = expire
    return sdk_request("ImportKeyMaterial", **params)


def import_material(kms: Kms, key_id: str, material: bytes, algorithm: str = OAEP_256,
                    expire: int = 0) -> dict:
    """GetParametersForImport then ImportKeyMaterial; the parameters used."""
    params = parameters(kms, key_id, algorithm)
    kms.call(import_request(key_id, params["ImportToken"],
                            wrap(params["PublicKey"], material, algorithm), expire))
    return params


def round_trip(kms: Kms, key_id: str, text: str = "imported material works") -> str:
    blob = kms.encrypt(key_id, text)["CiphertextBlob"]
    assert kms.decrypt(blob)["Plaintext"] == text
    return blob


# ---------------------------------------------------------------------------------------
# the old SDK (V1 signature)

def test_an_external_key_starts_pending_import_and_refuses_crypto(kms):
    meta = external_key(kms)
    assert describe(kms, meta["KeyId"])["KeyState"] == "PendingImport"
    kms.error(kms.encrypt_request(meta["KeyId"], "x"), 409, "Rejected.PendingImport")
    kms.error(sdk_request("GenerateDataKey", KeyId=meta["KeyId"]), 409, "Rejected.PendingImport")
    for action in ("EnableKey", "DisableKey"):
        kms.error(sdk_request(action, KeyId=meta["KeyId"]), 409, "Rejected.StateModifiedFailed")


@pytest.mark.parametrize("algorithm", [OAEP_256, OAEP_1, PKCS1])
def test_material_wrapped_by_cryptography_imports(kms, algorithm):
    key_id = external_key(kms)["KeyId"]
    import_material(kms, key_id, os.urandom(32), algorithm)
    meta = describe(kms, key_id)
    assert (meta["KeyState"], meta["MaterialExpireTime"]) == ("Enabled", "")
    round_trip(kms, key_id)


def test_the_documented_openssl_procedure_imports(kms, tmp_path):
    key_id = external_key(kms)["KeyId"]
    params = parameters(kms, key_id, OAEP_256)
    wrapped = wrap_openssl(tmp_path, params["PublicKey"], os.urandom(32), "rsa_padding_mode:oaep",
                           "rsa_oaep_md:sha256", "rsa_mgf1_md:sha256")
    kms.call(import_request(key_id, params["ImportToken"], wrapped))
    round_trip(kms, key_id)


def test_an_sm4_key_imports_with_sm2pke(kms, tmp_path):
    if not openssl_has_sm2():
        pytest.fail("this machine's openssl has no SM2: SM2PKE wrapping cannot be checked")
    key_id = external_key(kms, "Aliyun_SM4")["KeyId"]
    params = parameters(kms, key_id, "SM2PKE", "EC_SM2")
    wrapped = wrap_openssl(tmp_path, params["PublicKey"], os.urandom(16))
    kms.call(import_request(key_id, params["ImportToken"], wrapped))
    assert describe(kms, key_id)["KeyState"] == "Enabled"
    round_trip(kms, key_id)


def test_reimport_takes_only_the_same_material_and_resets_the_expiry(kms):
    key_id = external_key(kms)["KeyId"]
    material = os.urandom(32)
    later = int(time.time()) + 3600
    params = import_material(kms, key_id, material, expire=later)
    assert describe(kms, key_id)["MaterialExpireTime"] == \
        dt.datetime.fromtimestamp(later, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    other = wrap(params["PublicKey"], os.urandom(32), OAEP_256)
    kms.error(import_request(key_id, params["ImportToken"], other), 400, "InvalidKeyMaterial")
    short = wrap(params["PublicKey"], os.urandom(16), OAEP_256)
    kms.error(import_request(key_id, params["ImportToken"], short), 400, "InvalidKeyMaterial")
    # the same token, reused within its 24 hours, re-imports the same material: no expiry now
    same = wrap(params["PublicKey"], material, OAEP_256)
    kms.call(import_request(key_id, params["ImportToken"], same, expire=None))
    assert describe(kms, key_id)["MaterialExpireTime"] == ""
    past = int(time.time()) - 10
    err = kms.error(import_request(key_id, params["ImportToken"], same, expire=past),
                    400, "InvalidParameter")
    assert "KeyMaterialExpireUnix" in err.message
    kms.error(import_request(key_id, params["ImportToken"], "not base64!"), 400, "InvalidParameter")
    round_trip(kms, key_id)


def test_expired_material_makes_the_key_pending_import_until_reimported(kms):
    key_id = external_key(kms)["KeyId"]
    material = os.urandom(32)
    expire = int(time.time()) + 3
    params = import_material(kms, key_id, material, expire=expire)
    blob = round_trip(kms, key_id)
    deadline = time.time() + 15
    while describe(kms, key_id)["KeyState"] != "PendingImport":
        assert time.time() < deadline, "the key did not become PendingImport after its expiry"
        time.sleep(0.25)
    meta = describe(kms, key_id)
    assert meta["MaterialExpireTime"] != "", "the expiry stays visible until a re-import"
    kms.error(kms.encrypt_request(key_id, "x"), 409, "Rejected.PendingImport")
    kms.error(kms.decrypt_request(blob), 409, "Rejected.PendingImport")
    kms.call(import_request(key_id, params["ImportToken"],
                            wrap(params["PublicKey"], material, OAEP_256)))
    assert describe(kms, key_id)["KeyState"] == "Enabled"
    assert kms.decrypt(blob)["Plaintext"] == "imported material works"


def test_deleted_material_can_be_imported_again(kms):
    key_id = external_key(kms)["KeyId"]
    material = os.urandom(32)
    old = import_material(kms, key_id, material)
    blob = round_trip(kms, key_id)
    kms.call(sdk_request("DeleteKeyMaterial", KeyId=key_id))
    assert describe(kms, key_id)["KeyState"] == "PendingImport"
    kms.error(kms.encrypt_request(key_id, "x"), 409, "Rejected.PendingImport")
    kms.error(kms.decrypt_request(blob), 409, "Rejected.PendingImport")
    # deleting the material revoked the key's tokens
    kms.error(import_request(key_id, old["ImportToken"], wrap(old["PublicKey"], material, OAEP_256)),
              400, "InvalidImportToken")
    time.sleep(0.01)
    import_material(kms, key_id, material, PKCS1)
    assert describe(kms, key_id)["KeyState"] == "Enabled"
    assert kms.decrypt(blob)["Plaintext"] == "imported material works"


def test_delete_and_reimport_does_not_enable_a_disabled_key(kms):
    key_id = external_key(kms)["KeyId"]
    material = os.urandom(32)
    import_material(kms, key_id, material)
    kms.call(sdk_request("DisableKey", KeyId=key_id))
    kms.call(sdk_request("DeleteKeyMaterial", KeyId=key_id))
    assert describe(kms, key_id)["KeyState"] == "PendingImport"
    time.sleep(0.01)
    import_material(kms, key_id, material)
    assert describe(kms, key_id)["KeyState"] == "Disabled"
    kms.error(kms.encrypt_request(key_id, "x"), 409, "Rejected.Disabled")
    kms.call(sdk_request("EnableKey", KeyId=key_id))
    kms.call(sdk_request("DeleteKeyMaterial", KeyId=key_id))
    time.sleep(0.01)
    import_material(kms, key_id, material)
    assert describe(kms, key_id)["KeyState"] == "Enabled"
    round_trip(kms, key_id)


def test_tokens_are_refused_for_other_keys_and_when_damaged(kms):
    key_id = external_key(kms)["KeyId"]
    other = external_key(kms)["KeyId"]
    params = parameters(kms, key_id)
    wrapped = wrap(params["PublicKey"], os.urandom(32), OAEP_256)
    kms.error(import_request(other, params["ImportToken"], wrapped), 400, "InvalidImportToken")
    kms.error(import_request(key_id, "Base64String", wrapped), 400, "InvalidImportToken")
    raw = bytearray(base64.b64decode(params["ImportToken"]))
    raw[40] ^= 1
    kms.error(import_request(key_id, b64(bytes(raw)), wrapped), 400, "InvalidImportToken")
    kms.error(import_request(key_id, "x" * 5000, wrapped), 400, "InvalidParameter")


def test_import_actions_refuse_keys_of_kms_origin_and_bad_parameters(kms):
    made = kms.create_key()["KeyId"]
    kms.error(sdk_request("GetParametersForImport", KeyId=made, WrappingAlgorithm=OAEP_256,
                          WrappingKeySpec="RSA_2048"), 400, "Unsupported.Origin")
    kms.error(sdk_request("DeleteKeyMaterial", KeyId=made), 400, "Unsupported.Origin")
    key_id = external_key(kms)["KeyId"]
    params = parameters(kms, key_id)
    kms.error(import_request(made, params["ImportToken"], "AAAA"), 400, "Unsupported.Origin")
    for algorithm, spec in [("SM2PKE", "RSA_2048"), (OAEP_256, "EC_SM2"),
                            ("RSAES_OAEP_SHA_512", "RSA_2048"), (OAEP_256, "RSA_4096")]:
        kms.error(sdk_request("GetParametersForImport", KeyId=key_id, WrappingAlgorithm=algorithm,
                              WrappingKeySpec=spec), 400, "InvalidParameter")
    kms.error(sdk_request("GetParametersForImport", KeyId="no-such-key",
                          WrappingAlgorithm=OAEP_256, WrappingKeySpec="RSA_2048"),
              404, "Forbidden.KeyNotFound")


def test_external_keys_refuse_key_pairs_rotation_and_new_versions(kms):
    kms.error(kms.create_key_request(KeySpec="RSA_2048", Origin="EXTERNAL"),
              400, "UnsupportedOperation")
    kms.error(kms.create_key_request(Origin="EXTERNAL", EnableAutomaticRotation=True,
                                     RotationInterval="30d"), 400, "UnsupportedOperation")
    kms.error(kms.create_key_request(Origin="external"), 400, "InvalidParameter")
    key_id = external_key(kms)["KeyId"]
    kms.error(sdk_request("CreateKeyVersion", KeyId=key_id), 400, "Rejected.UnsupportedOperation")
    kms.error(sdk_request("UpdateRotationPolicy", KeyId=key_id, EnableAutomaticRotation=True,
                          RotationInterval="30d"), 400, "Rejected.UnsupportedOperation")


def test_ten_failed_unwraps_revoke_every_token_of_the_key(kms):
    key_id = external_key(kms)["KeyId"]
    material = os.urandom(32)
    good = parameters(kms, key_id, PKCS1)
    good_wrapped = wrap(good["PublicKey"], material, PKCS1)
    bad = parameters(kms, key_id, PKCS1)
    for i in range(10):
        garbage = b64(bytes([i]) * 256)
        kms.error(import_request(key_id, bad["ImportToken"], garbage), 400, "InvalidKeyMaterial")
    kms.error(import_request(key_id, good["ImportToken"], good_wrapped), 400, "InvalidImportToken")
    time.sleep(0.01)
    import_material(kms, key_id, material)
    round_trip(kms, key_id)


def test_import_actions_are_authorized_per_action_and_audited_without_secrets(server, kms):
    key_id = external_key(kms)["KeyId"]
    doc = policy_document(statement(["kms:GetParametersForImport"], key_arn(key_id)))
    user = new_ram_user(kms, "byok", documents=[doc])
    params = user.kms.call(sdk_request("GetParametersForImport", KeyId=key_id,
                                       WrappingAlgorithm=OAEP_256, WrappingKeySpec="RSA_2048"))
    material = os.urandom(32)
    wrapped = wrap(params["PublicKey"], material, OAEP_256)
    user.kms.error(import_request(key_id, params["ImportToken"], wrapped),
                   403, "Forbidden.NoPermission")
    user.kms.error(sdk_request("DeleteKeyMaterial", KeyId=key_id), 403, "Forbidden.NoPermission")
    other = external_key(kms)["KeyId"]
    user.kms.error(sdk_request("GetParametersForImport", KeyId=other, WrappingAlgorithm=OAEP_256,
                               WrappingKeySpec="RSA_2048"), 403, "Forbidden.NoPermission")
    imported = kms.call(import_request(key_id, params["ImportToken"], wrapped))
    deleted = kms.call(sdk_request("DeleteKeyMaterial", KeyId=key_id))
    log = server.data_dir / "audit" / "audit.log"
    lines = {line.get("request_id"): line
             for line in map(json.loads, log.read_text().splitlines())}
    for reply in (params, imported, deleted):
        assert lines[reply["RequestId"]]["key_id"] == key_id, lines[reply["RequestId"]]
    text = log.read_text() + server.log_path.read_text()
    for secret in (params["ImportToken"], wrapped, b64(material), material.hex()):
        assert secret not in text, "a token or key material reached the audit log or the output"


def test_imported_material_survives_a_restart(start_server):
    server = start_server(args=["--account-id", ACCOUNT_ID])
    kms = Kms(server)
    key_id = external_key(kms)["KeyId"]
    import_material(kms, key_id, os.urandom(32))
    blob = round_trip(kms, key_id)
    assert server.stop(signal.SIGTERM) == 0, "a graceful stop exits 0"
    again = Kms(start_server(args=["--account-id", ACCOUNT_ID], data_dir=server.data_dir))
    assert describe(again, key_id)["KeyState"] == "Enabled"
    assert again.decrypt(blob)["Plaintext"] == "imported material works"


# ---------------------------------------------------------------------------------------
# the Tea SDK (V3 signature)

@pytest.fixture(scope="module")
def tea(tmp_path_factory) -> Client:
    srv = new_server(tmp_path_factory, "byok-tea", args=["--account-id", ACCOUNT_ID])
    srv.start()
    assert srv.scheme == "https", f"the server did not serve TLS: {srv.url}"
    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET,
                    region_id=REGION_ID, endpoint=f"127.0.0.1:{srv.port}", protocol="https",
                    ca=str(srv.ca_path), connect_timeout=30_000, read_timeout=30_000)
    yield Client(config)
    stop_or_fail(srv, "openkms died during the Tea BYOK tests")


def expect_tea(call, status: int, code: str) -> None:
    with pytest.raises(ClientException) as info:
        call()
    assert (info.value.status_code, info.value.code) == (status, code), info.value


@pytest.mark.parametrize("algorithm", [OAEP_256, OAEP_1, PKCS1])
def test_tea_imports_and_uses_the_material(tea, algorithm):
    meta = tea.create_key(m.CreateKeyRequest(origin="EXTERNAL")).body.key_metadata
    assert (meta.key_state, meta.origin, meta.material_expire_time) == \
        ("PendingImport", "EXTERNAL", "")
    params = tea.get_parameters_for_import(m.GetParametersForImportRequest(
        key_id=meta.key_id, wrapping_algorithm=algorithm, wrapping_key_spec="RSA_2048")).body
    assert params.key_id == meta.key_id and params.token_expire_time.endswith("Z")
    material = os.urandom(32)
    later = int(time.time()) + 7200
    tea.import_key_material(m.ImportKeyMaterialRequest(
        key_id=meta.key_id, import_token=params.import_token,
        encrypted_key_material=wrap(params.public_key, material, algorithm),
        key_material_expire_unix=later))
    described = tea.describe_key(m.DescribeKeyRequest(key_id=meta.key_id)).body.key_metadata
    assert described.key_state == "Enabled"
    assert described.material_expire_time == \
        dt.datetime.fromtimestamp(later, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    blob = tea.encrypt(m.EncryptRequest(key_id=meta.key_id, plaintext="tea")).body.ciphertext_blob
    assert tea.decrypt(m.DecryptRequest(ciphertext_blob=blob)).body.plaintext == "tea"
    tea.delete_key_material(m.DeleteKeyMaterialRequest(key_id=meta.key_id))
    expect_tea(lambda: tea.encrypt(m.EncryptRequest(key_id=meta.key_id, plaintext="x")),
               409, "Rejected.PendingImport")


def test_tea_refusals(tea):
    made = tea.create_key(m.CreateKeyRequest()).body.key_metadata.key_id
    expect_tea(lambda: tea.get_parameters_for_import(m.GetParametersForImportRequest(
        key_id=made, wrapping_algorithm=OAEP_256, wrapping_key_spec="RSA_2048")),
        400, "Unsupported.Origin")
    key_id = tea.create_key(m.CreateKeyRequest(origin="EXTERNAL")).body.key_metadata.key_id
    expect_tea(lambda: tea.import_key_material(m.ImportKeyMaterialRequest(
        key_id=key_id, import_token="Base64String", encrypted_key_material=b64(b"x" * 256),
        key_material_expire_unix=0)), 400, "InvalidImportToken")
    expect_tea(lambda: tea.create_key(m.CreateKeyRequest(origin="EXTERNAL", key_spec="EC_SM2")),
               400, "UnsupportedOperation")
