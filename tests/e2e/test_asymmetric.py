"""Asymmetric keys (next-surfaces spec section 3) through the old Python SDK (V1 signature) and
the Tea SDK (V3 and V2 signatures), over TLS.

Every signature openkms makes is checked by an independent implementation using only the PEM
from GetPublicKey: Python ``cryptography`` for RSA (PSS with a 32-byte salt, PKCS#1 v1.5),
P-256 and secp256k1, and OpenSSL 3 (``openssl pkeyutl`` with the SM2 distinguishing ID) for SM2.
Data encrypted offline with the public key (``cryptography`` OAEP SHA-256 and SHA-1, OpenSSL
SM2) decrypts through AsymmetricDecrypt. The refusals are checked for code and HTTP status.
ProtectionLevel=HSM key pairs (made and used in a SoftHSM2 token, see test_pkcs11.py) are
checked the same way, across a restart; OAEP SHA-256 runs only on a token that has it
(SoftHSM2 2.6.1 does not), so there it must either decrypt correctly or be 400
UnsupportedOperation for every ciphertext alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess

import pytest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

from e2ehelp import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCOUNT_ID, REGION_ID, audit_line,
                     describe, new_server, sdk_request, stop_or_fail)

MESSAGE = b"openkms asymmetric e2e: sign me"
SM2_ID = b"1234567812345678"
# GB/T 32918.5 curve parameters (constants only: the Z value is a hash over them)
SM2_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
SM2_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
SM2_GX = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
SM2_GY = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

SIGNING = [
    ("RSA_2048", "RSA_PSS_SHA_256"),
    ("RSA_2048", "RSA_PKCS1_SHA_256"),
    ("RSA_3072", "RSA_PSS_SHA_256"),
    ("EC_P256", "ECDSA_SHA_256"),
    ("EC_P256K", "ECDSA_SHA_256"),
    ("EC_SM2", "SM2DSA"),
]


# ---------------------------------------------------------------------------------------
# independent crypto

def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def sm2_point(pem: str) -> tuple[bytes, bytes]:
    """x and y of an SM2 public key, read from the SPKI DER's uncompressed point."""
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    point = der[-65:]
    assert point[0] == 4, "SM2 public key is not an uncompressed point"
    return point[1:33], point[33:]


def sm2_digest(pem: str, message: bytes) -> bytes:
    """e = SM3(Z_A || M) with the default ID (GB/T 32918.2), as the caller computes it."""
    x, y = sm2_point(pem)
    z = sm3((len(SM2_ID) * 8).to_bytes(2, "big") + SM2_ID + SM2_A + SM2_B + SM2_GX + SM2_GY + x + y)
    return sm3(z + message)


def digest_for(algorithm: str, pem: str, message: bytes) -> bytes:
    return sm2_digest(pem, message) if algorithm == "SM2DSA" else hashlib.sha256(message).digest()


def check_pem(pem: str) -> None:
    """PEM SPKI with 64-character lines and a trailing newline (spec 3.3)."""
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n"), pem[:40]
    assert pem.endswith("\n-----END PUBLIC KEY-----\n"), pem[-40:]
    body = pem.splitlines()[1:-1]
    assert all(len(line) == 64 for line in body[:-1]) and 0 < len(body[-1]) <= 64


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)


def verify_offline(tmp_path, spec: str, algorithm: str, pem: str, message: bytes,
                   signature: bytes) -> None:
    """Verifies ``signature`` over ``message`` with only the PEM: cryptography or OpenSSL."""
    if algorithm == "SM2DSA":
        (tmp_path / "pub.pem").write_text(pem)
        (tmp_path / "msg").write_bytes(message)
        (tmp_path / "sig").write_bytes(signature)
        out = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                      "-rawin", "-digest", "sm3", "-in", str(tmp_path / "msg"),
                      "-sigfile", str(tmp_path / "sig"), "-pkeyopt", "distid:1234567812345678")
        assert out.returncode == 0 and b"Verified Successfully" in out.stdout, out
        return
    key = serialization.load_pem_public_key(pem.encode())
    if algorithm == "ECDSA_SHA_256":
        curve = {"EC_P256": ec.SECP256R1, "EC_P256K": ec.SECP256K1}[spec]
        assert isinstance(key.curve, curve)
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    elif algorithm == "RSA_PSS_SHA_256":
        assert key.key_size == int(spec.split("_")[1])
        key.verify(signature, message, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                   hashes.SHA256())
    else:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def openssl_has_sm2() -> bool:
    return openssl("list", "-public-key-algorithms").stdout.find(b"SM2") >= 0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------
# the old SDK (V1 signature)

def create(kms, spec: str, usage: str | None = None) -> tuple[str, str]:
    params = {"KeySpec": spec}
    if usage:
        params["KeyUsage"] = usage
    meta = kms.create_key(**params)
    versions = kms.call(sdk_request("ListKeyVersions", KeyId=meta["KeyId"]))
    version = versions["KeyVersions"]["KeyVersion"][0]["KeyVersionId"]
    return meta["KeyId"], version


def public_pem(kms, key_id: str, version: str) -> str:
    reply = kms.call(sdk_request("GetPublicKey", KeyId=key_id, KeyVersionId=version))
    assert (reply["KeyId"], reply["KeyVersionId"]) == (key_id, version)
    return reply["PublicKey"]


def sign(kms, key_id, version, algorithm, digest: bytes) -> bytes:
    reply = kms.call(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                                 Algorithm=algorithm, Digest=b64(digest)))
    assert (reply["KeyId"], reply["KeyVersionId"]) == (key_id, version)
    return base64.b64decode(reply["Value"])


def verify(kms, key_id, version, algorithm, digest: bytes, signature: bytes):
    reply = kms.call(sdk_request("AsymmetricVerify", KeyId=key_id, KeyVersionId=version,
                                 Algorithm=algorithm, Digest=b64(digest), Value=b64(signature)))
    return reply["Value"]


@pytest.mark.parametrize("spec,algorithm", SIGNING)
def test_signatures_verify_offline_and_online(kms, tmp_path, spec, algorithm):
    if algorithm == "SM2DSA" and not openssl_has_sm2():
        pytest.fail("this machine's openssl has no SM2: the SM2 signature cannot be checked")
    key_id, version = create(kms, spec)
    pem = public_pem(kms, key_id, version)
    check_pem(pem)
    digest = digest_for(algorithm, pem, MESSAGE)
    signature = sign(kms, key_id, version, algorithm, digest)
    if spec.startswith("RSA"):
        assert len(signature) == int(spec.split("_")[1]) // 8
    else:
        assert signature[0] == 0x30, "ECDSA/SM2 signatures are DER SEQUENCE{r,s}"
    verify_offline(tmp_path, spec, algorithm, pem, MESSAGE, signature)
    assert verify(kms, key_id, version, algorithm, digest, signature) is True
    flipped = bytearray(signature)
    flipped[len(flipped) // 2] ^= 0x01
    assert verify(kms, key_id, version, algorithm, digest, bytes(flipped)) is False
    assert verify(kms, key_id, version, algorithm, hashlib.sha256(b"other").digest(),
                  signature) is False


def test_verify_accepts_an_independently_encoded_ecdsa_signature(kms):
    """(r, n - s) is a different, equally valid P-256 signature, DER-encoded by cryptography;
    openkms never produced it, and must accept it."""
    key_id, version = create(kms, "EC_P256")
    digest = hashlib.sha256(MESSAGE).digest()
    r, s = decode_dss_signature(sign(kms, key_id, version, "ECDSA_SHA_256", digest))
    other = encode_dss_signature(r, P256_ORDER - s)
    pem = public_pem(kms, key_id, version)
    serialization.load_pem_public_key(pem.encode()).verify(
        other, MESSAGE, ec.ECDSA(hashes.SHA256()))
    assert verify(kms, key_id, version, "ECDSA_SHA_256", digest, other) is True


SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_secp256k1_signatures_are_low_s(kms):
    """EC_P256K signatures have s <= n/2 (BIP-62 / EIP-2), checked by cryptography's DER
    decoder over 32 signatures (a non-normalising signer is high-S half the time), and
    verify with cryptography."""
    key_id, version = create(kms, "EC_P256K")
    public = serialization.load_pem_public_key(public_pem(kms, key_id, version).encode())
    for i in range(32):
        message = MESSAGE + bytes([i])
        digest = hashlib.sha256(message).digest()
        signature = sign(kms, key_id, version, "ECDSA_SHA_256", digest)
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        _, s = decode_dss_signature(signature)
        assert s <= SECP256K1_ORDER // 2


def test_sm2_digest_construction_matches_the_contract_vector():
    """The test's own Z computation against the spec's OpenSSL-made vector (3.4)."""
    pem = ("-----BEGIN PUBLIC KEY-----\n"
           "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEK4hNcsoh+l1RvUZaAnNEXOmFc3xS\n"
           "2dG3cHrRSzYReAIDB3Oltbf3LxgFig07eZfKFjAmZRdgqOCe9mHu9fmp3Q==\n"
           "-----END PUBLIC KEY-----\n")
    assert sm2_digest(pem, b"this is message").hex() == \
        "58b91be2c9b63af0905ee2896c5ad443e5c2dba0a488733ce88e4877de878a8c"


def test_key_metadata_of_key_pairs(kms):
    meta = kms.create_key(KeySpec="RSA_2048")
    assert (meta["KeySpec"], meta["KeyUsage"]) == ("RSA_2048", "SIGN/VERIFY")
    assert "PrimaryKeyVersion" not in meta, "key pairs have no primary version (3.1)"
    assert meta["AutomaticRotation"] == "Disabled"
    described = describe(kms, meta["KeyId"])
    assert (described["KeySpec"], described["KeyUsage"]) == ("RSA_2048", "SIGN/VERIFY")
    sm2 = kms.create_key(KeySpec="EC_SM2", KeyUsage="ENCRYPT/DECRYPT")
    assert (sm2["KeySpec"], sm2["KeyUsage"]) == ("EC_SM2", "ENCRYPT/DECRYPT")
    assert sm2["KeyId"] in listed_ids(kms, '[{"Key":"KeySpec","Values":["EC_SM2"]}]')
    ids = listed_ids(kms, '[{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]')
    assert meta["KeyId"] in ids and sm2["KeyId"] not in ids


def listed_ids(kms, filters: str) -> list:
    """Every KeyId ListKeys returns with ``filters``, over all pages."""
    ids, page = [], 1
    while True:
        reply = kms.call(sdk_request("ListKeys", Filters=filters, PageSize=100, PageNumber=page))
        ids += [k["KeyId"] for k in reply["Keys"]["Key"]]
        if len(ids) >= reply["TotalCount"]:
            return ids
        page += 1


def test_create_key_version_makes_a_new_pair(kms):
    key_id, first = create(kms, "EC_P256")
    reply = kms.call(sdk_request("CreateKeyVersion", KeyId=key_id))
    second = reply["KeyVersion"]["KeyVersionId"]
    assert second != first
    assert public_pem(kms, key_id, first) != public_pem(kms, key_id, second)
    digest = hashlib.sha256(MESSAGE).digest()
    for version in (first, second):
        signature = sign(kms, key_id, version, "ECDSA_SHA_256", digest)
        assert verify(kms, key_id, version, "ECDSA_SHA_256", digest, signature) is True
    old_sig = sign(kms, key_id, first, "ECDSA_SHA_256", digest)
    assert verify(kms, key_id, second, "ECDSA_SHA_256", digest, old_sig) is False
    versions = kms.call(sdk_request("ListKeyVersions", KeyId=key_id))["KeyVersions"]["KeyVersion"]
    assert {v["KeyVersionId"] for v in versions} == {first, second}
    one = kms.call(sdk_request("DescribeKeyVersion", KeyId=key_id, KeyVersionId=second))
    assert one["KeyVersion"]["KeyVersionId"] == second


@pytest.mark.parametrize("algorithm,hash_cls", [("RSAES_OAEP_SHA_256", hashes.SHA256),
                                                ("RSAES_OAEP_SHA_1", hashes.SHA1)])
def test_rsa_data_encrypted_offline_decrypts(kms, algorithm, hash_cls):
    key_id, version = create(kms, "RSA_2048", "ENCRYPT/DECRYPT")
    key = serialization.load_pem_public_key(public_pem(kms, key_id, version).encode())
    secret = os.urandom(100)
    ciphertext = key.encrypt(secret, padding.OAEP(padding.MGF1(hash_cls()), hash_cls(), None))
    reply = kms.call(sdk_request("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version,
                                 Algorithm=algorithm, CiphertextBlob=b64(ciphertext)))
    assert base64.b64decode(reply["Plaintext"]) == secret
    sealed = kms.call(sdk_request("AsymmetricEncrypt", KeyId=key_id, KeyVersionId=version,
                                  Algorithm=algorithm, Plaintext=b64(secret)))
    blob = base64.b64decode(sealed["CiphertextBlob"])
    assert len(blob) == 256, "the bare OAEP ciphertext, no KMS header"
    back = kms.call(sdk_request("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version,
                                Algorithm=algorithm, CiphertextBlob=sealed["CiphertextBlob"]))
    assert base64.b64decode(back["Plaintext"]) == secret


@pytest.mark.parametrize("algorithm,limit", [("RSAES_OAEP_SHA_256", 190),
                                             ("RSAES_OAEP_SHA_1", 214)])
def test_rsa_plaintext_limits(kms, algorithm, limit):
    key_id, version = create(kms, "RSA_2048", "ENCRYPT/DECRYPT")

    def encrypt(n):
        return sdk_request("AsymmetricEncrypt", KeyId=key_id, KeyVersionId=version,
                           Algorithm=algorithm, Plaintext=b64(b"x" * n))
    kms.call(encrypt(limit))
    err = kms.error(encrypt(limit + 1), 400, "InvalidParameter")
    assert "Plaintext" in err.message


def test_sm2_data_encrypted_by_openssl_decrypts(kms, tmp_path):
    if not openssl_has_sm2():
        pytest.fail("this machine's openssl has no SM2")
    key_id, version = create(kms, "EC_SM2", "ENCRYPT/DECRYPT")
    (tmp_path / "pub.pem").write_text(public_pem(kms, key_id, version))
    secret = os.urandom(300)
    out = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                  data=secret)
    assert out.returncode == 0, out.stderr
    assert out.stdout[0] == 0x30, "OpenSSL writes the ASN.1 SM2Cipher"
    reply = kms.call(sdk_request("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version,
                                 Algorithm="SM2PKE", CiphertextBlob=b64(out.stdout)))
    assert base64.b64decode(reply["Plaintext"]) == secret
    sealed = kms.call(sdk_request("AsymmetricEncrypt", KeyId=key_id, KeyVersionId=version,
                                  Algorithm="SM2PKE", Plaintext=b64(secret)))
    blob = base64.b64decode(sealed["CiphertextBlob"])
    assert len(blob) == 97 + len(secret) and blob[0] == 4, "04 || C1 || C3 || C2 (3.6)"
    for form in (blob, blob[1:]):
        back = kms.call(sdk_request("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version,
                                    Algorithm="SM2PKE", CiphertextBlob=b64(form)))
        assert base64.b64decode(back["Plaintext"]) == secret


def test_sm2_plaintext_limit(kms):
    key_id, version = create(kms, "EC_SM2", "ENCRYPT/DECRYPT")

    def encrypt(n):
        return sdk_request("AsymmetricEncrypt", KeyId=key_id, KeyVersionId=version,
                           Algorithm="SM2PKE", Plaintext=b64(b"y" * n))
    blob = base64.b64decode(kms.call(encrypt(6047))["CiphertextBlob"])
    assert len(blob) == 6144
    kms.error(encrypt(6048), 400, "InvalidParameter")


# -- refusals ---------------------------------------------------------------------------

def test_create_key_refusals(kms):
    err = kms.error(kms.create_key_request(KeySpec="EC_P256", KeyUsage="ENCRYPT/DECRYPT"),
                    400, "InvalidParameter")
    assert "KeyUsage" in err.message
    kms.error(kms.create_key_request(KeySpec="Aliyun_AES_256", KeyUsage="SIGN/VERIFY"),
              400, "InvalidParameter")
    kms.error(kms.create_key_request(KeySpec="RSA_1024"), 400, "InvalidParameter")
    kms.error(kms.create_key_request(KeySpec="RSA_2048", EnableAutomaticRotation=True,
                                     RotationInterval="30d"), 400, "UnsupportedOperation")


def test_rotation_policy_is_refused_for_key_pairs(kms):
    key_id, _ = create(kms, "RSA_2048")
    kms.error(sdk_request("UpdateRotationPolicy", KeyId=key_id, EnableAutomaticRotation=True,
                          RotationInterval="30d"), 400, "Rejected.UnsupportedOperation")


def test_wrong_usage_and_algorithm_are_refused(kms):
    signing, sv = create(kms, "RSA_2048")
    sealing, ev = create(kms, "RSA_2048", "ENCRYPT/DECRYPT")
    digest = b64(hashlib.sha256(MESSAGE).digest())
    # encrypting with a signing key; signing with an encryption key
    kms.error(sdk_request("AsymmetricEncrypt", KeyId=signing, KeyVersionId=sv,
                          Algorithm="RSAES_OAEP_SHA_256", Plaintext=b64(b"x")),
              400, "Rejected.UnsupportedOperation")
    err = kms.error(sdk_request("AsymmetricSign", KeyId=sealing, KeyVersionId=ev,
                                Algorithm="RSA_PSS_SHA_256", Digest=digest),
                    400, "InvalidParameter")
    assert "Algorithm" in err.message
    # an algorithm of another spec; an unknown one
    for algorithm in ("ECDSA_SHA_256", "SM2DSA", "RSA_PSS_SHA_384"):
        kms.error(sdk_request("AsymmetricSign", KeyId=signing, KeyVersionId=sv,
                              Algorithm=algorithm, Digest=digest), 400, "InvalidParameter")
    kms.error(sdk_request("AsymmetricDecrypt", KeyId=sealing, KeyVersionId=ev,
                          Algorithm="SM2PKE", CiphertextBlob=b64(b"\x04" * 200)),
              400, "InvalidParameter")
    # symmetric actions refuse key pairs, asymmetric ones refuse symmetric keys
    kms.error(kms.encrypt_request(signing, "hello"), 400, "UnsupportedOperation")
    kms.error(sdk_request("GenerateDataKey", KeyId=sealing), 400, "UnsupportedOperation")
    symmetric = kms.create_key()
    version = symmetric["PrimaryKeyVersion"]
    kms.error(sdk_request("GetPublicKey", KeyId=symmetric["KeyId"], KeyVersionId=version),
              400, "Rejected.UnsupportedOperation")
    kms.error(sdk_request("AsymmetricSign", KeyId=symmetric["KeyId"], KeyVersionId=version,
                          Algorithm="RSA_PSS_SHA_256", Digest=digest), 400, "InvalidParameter")
    blob = kms.encrypt(symmetric["KeyId"], "to be moved")["CiphertextBlob"]
    kms.error(sdk_request("ReEncrypt", CiphertextBlob=blob, DestinationKeyId=sealing),
              400, "UnsupportedOperation")


def test_bad_parameters_are_refused(kms):
    key_id, version = create(kms, "EC_P256")
    other_key, other_version = create(kms, "EC_P256")
    good = b64(hashlib.sha256(MESSAGE).digest())
    kms.error(sdk_request("AsymmetricSign", KeyId=key_id, Algorithm="ECDSA_SHA_256",
                          Digest=good), 400, "MissingParameter")
    kms.error(sdk_request("GetPublicKey", KeyId=key_id), 400, "MissingParameter")
    for digest in (b64(b"\x01" * 31), b64(b"\x01" * 48), b64(MESSAGE), "not base64!"):
        err = kms.error(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                                    Algorithm="ECDSA_SHA_256", Digest=digest),
                        400, "InvalidParameter")
        assert "Digest" in err.message, err.message
    kms.error(sdk_request("AsymmetricVerify", KeyId=key_id, KeyVersionId=version,
                          Algorithm="ECDSA_SHA_256", Digest=b64(b"\x01" * 20), Value=b64(b"x")),
              400, "InvalidParameter")
    kms.error(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=other_version,
                          Algorithm="ECDSA_SHA_256", Digest=good), 404,
              "Forbidden.KeyVersionNotFound")
    kms.error(sdk_request("GetPublicKey", KeyId=key_id, KeyVersionId="nope"), 404,
              "Forbidden.KeyVersionNotFound")
    kms.error(sdk_request("GetPublicKey", KeyId="alias/no-such-pair", KeyVersionId=version), 404,
              "Forbidden.AliasNotFound")
    assert other_key != key_id


def test_disabled_and_pending_deletion_keys_refuse(kms):
    key_id, version = create(kms, "EC_SM2")
    kms.call(sdk_request("DisableKey", KeyId=key_id))
    digest = b64(b"\x02" * 32)
    kms.error(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                          Algorithm="SM2DSA", Digest=digest), 409, "Rejected.Disabled")
    kms.error(sdk_request("GetPublicKey", KeyId=key_id, KeyVersionId=version), 409,
              "Rejected.Disabled")
    kms.call(sdk_request("EnableKey", KeyId=key_id))
    kms.call(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                         Algorithm="SM2DSA", Digest=digest))
    kms.call(sdk_request("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7))
    kms.error(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                          Algorithm="SM2DSA", Digest=digest), 409, "Rejected.PendingDeletion")


def test_aliases_and_tags_work_on_key_pairs(kms):
    key_id, version = create(kms, "EC_P256K")
    alias = f"alias/pair-{os.urandom(4).hex()}"
    kms.create_alias(alias, key_id)
    digest = hashlib.sha256(MESSAGE).digest()
    reply = kms.call(sdk_request("AsymmetricSign", KeyId=alias, KeyVersionId=version,
                                 Algorithm="ECDSA_SHA_256", Digest=b64(digest)))
    assert reply["KeyId"] == key_id, "replies name the real key id"
    signature = base64.b64decode(reply["Value"])
    assert verify(kms, key_id, version, "ECDSA_SHA_256", digest, signature) is True
    kms.call(sdk_request("TagResource", KeyId=key_id, Tags='[{"TagKey":"k","TagValue":"v"}]'))
    tags = kms.call(sdk_request("ListResourceTags", KeyId=key_id))["Tags"]["Tag"]
    assert [(t["TagKey"], t["TagValue"]) for t in tags] == [("k", "v")]


def offline_ciphertext(kms, tmp_path, key_id: str, version: str, algorithm: str,
                       secret: bytes) -> bytes:
    """``secret`` encrypted with only the public key: cryptography's OAEP, or OpenSSL's SM2."""
    pem = public_pem(kms, key_id, version)
    if algorithm == "SM2PKE":
        (tmp_path / "pub.pem").write_text(pem)
        out = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                      data=secret)
        assert out.returncode == 0, out.stderr
        return out.stdout
    h = hashes.SHA256() if algorithm == "RSAES_OAEP_SHA_256" else hashes.SHA1()
    key = serialization.load_pem_public_key(pem.encode())
    return key.encrypt(secret, padding.OAEP(padding.MGF1(h), h, None))


def re_encrypt_pair(key_id: str, version: str | None, algorithm: str | None, blob: bytes,
                    destination: str, context: dict | None = None):
    params = {"CiphertextBlob": b64(blob), "SourceKeyId": key_id,
              "DestinationKeyId": destination}
    if version is not None:
        params["SourceKeyVersionId"] = version
    if algorithm is not None:
        params["SourceEncryptionAlgorithm"] = algorithm
    if context is not None:
        params["DestinationEncryptionContext"] = json.dumps(context)
    return sdk_request("ReEncrypt", **params)


@pytest.mark.parametrize("spec,algorithm", [("RSA_2048", "RSAES_OAEP_SHA_256"),
                                            ("RSA_3072", "RSAES_OAEP_SHA_1"),
                                            ("EC_SM2", "SM2PKE")])
def test_re_encrypt_from_a_key_pair(server, kms, tmp_path, spec, algorithm):
    """Spec 3.7: ReEncrypt takes a bare asymmetric ciphertext made offline with the public
    key and seals its plaintext under a symmetric key, which then decrypts it. The audit line
    names both keys: the destination and the pair version that decrypted."""
    if algorithm == "SM2PKE" and not openssl_has_sm2():
        pytest.fail("this machine's openssl has no SM2")
    key_id, version = create(kms, spec, "ENCRYPT/DECRYPT")
    destination = kms.create_key()["KeyId"]
    secret = b"a data key sent by a partner: " + os.urandom(8).hex().encode()
    blob = offline_ciphertext(kms, tmp_path, key_id, version, algorithm, secret)
    context = {"purpose": "re-encrypt"}
    reply = kms.call(re_encrypt_pair(key_id, version, algorithm, blob, destination, context))
    assert reply["KeyId"] == destination
    back = kms.call(sdk_request("Decrypt", CiphertextBlob=reply["CiphertextBlob"],
                                EncryptionContext=json.dumps(context)))
    assert (back["KeyId"], back["Plaintext"]) == (destination, secret.decode())
    assert back["KeyVersionId"] == reply["KeyVersionId"]
    line = audit_line(server, reply["RequestId"])
    assert (line["key_id"], line["key_version_id"]) == (destination, reply["KeyVersionId"])
    assert (line["source_key_id"], line["source_key_version_id"]) == (key_id, version), line


def test_re_encrypt_from_a_key_pair_refusals(kms, tmp_path):
    key_id, version = create(kms, "RSA_2048", "ENCRYPT/DECRYPT")
    destination = kms.create_key()["KeyId"]
    blob = offline_ciphertext(kms, tmp_path, key_id, version, "RSAES_OAEP_SHA_256", b"x" * 32)
    oaep = "RSAES_OAEP_SHA_256"
    kms.error(re_encrypt_pair(key_id, None, oaep, blob, destination), 400, "MissingParameter")
    kms.error(re_encrypt_pair(key_id, version, None, blob, destination), 400,
              "MissingParameter")
    for algorithm in ("RSAES_OAEP_SHA_512", "SM2PKE"):  # unknown; not fitting an RSA pair
        refused = kms.error(re_encrypt_pair(key_id, version, algorithm, blob, destination), 400,
                            "InvalidParameter")
        assert "SourceEncryptionAlgorithm" in refused.exc.get_error_msg(), algorithm
    tampered = bytearray(blob)
    tampered[10] ^= 1
    kms.error(re_encrypt_pair(key_id, version, oaep, bytes(tampered), destination), 400,
              "InvalidParameter")
    # the destination must be symmetric (3.7)
    other, _ = create(kms, "RSA_2048", "ENCRYPT/DECRYPT")
    kms.error(re_encrypt_pair(key_id, version, oaep, blob, other), 400, "UnsupportedOperation")
    # a signing pair does not decrypt; a symmetric source is not a key pair
    signer, signer_version = create(kms, "RSA_2048")
    kms.error(re_encrypt_pair(signer, signer_version, oaep, blob, destination), 400,
              "Rejected.UnsupportedOperation")
    kms.error(re_encrypt_pair(destination, version, oaep, blob, destination), 400,
              "Rejected.UnsupportedOperation")
    kms.call(sdk_request("DisableKey", KeyId=key_id))
    kms.error(re_encrypt_pair(key_id, version, oaep, blob, destination), 409,
              "Rejected.Disabled")
    kms.call(sdk_request("EnableKey", KeyId=key_id))
    kms.call(re_encrypt_pair(key_id, version, oaep, blob, destination))


# ---------------------------------------------------------------------------------------
# the Tea SDK (V3 and V2 signatures)

@pytest.fixture(scope="module", params=["v3", "v2"])
def signing(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def tea(signing, tmp_path_factory) -> Client:
    srv = new_server(tmp_path_factory, f"asym-{signing}", args=["--account-id", ACCOUNT_ID])
    srv.start()
    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET,
                    region_id=REGION_ID, endpoint=f"127.0.0.1:{srv.port}", protocol="https",
                    ca=str(srv.ca_path), connect_timeout=30_000, read_timeout=30_000)
    if signing == "v2":
        config.signature_algorithm = "v2"
    yield Client(config)
    stop_or_fail(srv, "openkms died during the Tea asymmetric tests")


def tea_pair(tea: Client, spec: str, usage: str | None = None) -> tuple[str, str]:
    meta = tea.create_key(m.CreateKeyRequest(key_spec=spec, key_usage=usage)).body.key_metadata
    assert meta.primary_key_version is None
    versions = tea.list_key_versions(m.ListKeyVersionsRequest(key_id=meta.key_id))
    return meta.key_id, versions.body.key_versions.key_version[0].key_version_id


@pytest.mark.parametrize("spec,algorithm", SIGNING)
def test_tea_sign_and_verify(tea, tmp_path, spec, algorithm):
    key_id, version = tea_pair(tea, spec)
    pem = tea.get_public_key(m.GetPublicKeyRequest(key_id=key_id, key_version_id=version)) \
        .body.public_key
    check_pem(pem)
    digest = b64(digest_for(algorithm, pem, MESSAGE))
    signed = tea.asymmetric_sign(m.AsymmetricSignRequest(
        key_id=key_id, key_version_id=version, algorithm=algorithm, digest=digest)).body
    signature = base64.b64decode(signed.value)
    verify_offline(tmp_path, spec, algorithm, pem, MESSAGE, signature)
    ok = tea.asymmetric_verify(m.AsymmetricVerifyRequest(
        key_id=key_id, key_version_id=version, algorithm=algorithm, digest=digest,
        value=signed.value)).body
    assert ok.value is True
    bad = bytearray(signature)
    bad[-1] ^= 0x80
    no = tea.asymmetric_verify(m.AsymmetricVerifyRequest(
        key_id=key_id, key_version_id=version, algorithm=algorithm, digest=digest,
        value=b64(bytes(bad)))).body
    assert no.value is False


@pytest.mark.parametrize("spec,algorithm", [("RSA_3072", "RSAES_OAEP_SHA_256"),
                                            ("RSA_2048", "RSAES_OAEP_SHA_1"),
                                            ("EC_SM2", "SM2PKE")])
def test_tea_encrypt_and_decrypt(tea, spec, algorithm):
    key_id, version = tea_pair(tea, spec, "ENCRYPT/DECRYPT")
    secret = os.urandom(64)
    if spec.startswith("RSA"):
        pem = tea.get_public_key(m.GetPublicKeyRequest(key_id=key_id, key_version_id=version)) \
            .body.public_key
        key = serialization.load_pem_public_key(pem.encode())
        h = hashes.SHA256() if algorithm.endswith("256") else hashes.SHA1()
        blob = b64(key.encrypt(secret, padding.OAEP(padding.MGF1(h), h, None)))
    else:
        blob = tea.asymmetric_encrypt(m.AsymmetricEncryptRequest(
            key_id=key_id, key_version_id=version, algorithm=algorithm,
            plaintext=b64(secret))).body.ciphertext_blob
    plain = tea.asymmetric_decrypt(m.AsymmetricDecryptRequest(
        key_id=key_id, key_version_id=version, algorithm=algorithm,
        ciphertext_blob=blob)).body.plaintext
    assert base64.b64decode(plain) == secret


def test_tea_re_encrypt_from_a_key_pair(tea):
    key_id, version = tea_pair(tea, "RSA_2048", "ENCRYPT/DECRYPT")
    pem = tea.get_public_key(m.GetPublicKeyRequest(key_id=key_id, key_version_id=version)) \
        .body.public_key
    key = serialization.load_pem_public_key(pem.encode())
    secret = b"moved under a symmetric key by the Tea SDK"
    h = hashes.SHA256()
    blob = b64(key.encrypt(secret, padding.OAEP(padding.MGF1(h), h, None)))
    destination = tea.create_key(m.CreateKeyRequest()).body.key_metadata.key_id
    moved = tea.re_encrypt(m.ReEncryptRequest(
        ciphertext_blob=blob, source_key_id=key_id, source_key_version_id=version,
        source_encryption_algorithm="RSAES_OAEP_SHA_256", destination_key_id=destination)).body
    assert moved.key_id == destination
    back = tea.decrypt(m.DecryptRequest(ciphertext_blob=moved.ciphertext_blob)).body
    assert back.plaintext == secret.decode()


def expect_tea(call, status: int, code: str) -> None:
    with pytest.raises(ClientException) as info:
        call()
    assert (info.value.status_code, info.value.code) == (status, code), info.value


def test_tea_refusals(tea):
    key_id, version = tea_pair(tea, "EC_P256")
    digest = b64(hashlib.sha256(MESSAGE).digest())
    expect_tea(lambda: tea.asymmetric_sign(m.AsymmetricSignRequest(
        key_id=key_id, algorithm="ECDSA_SHA_256", digest=digest)), 400, "MissingParameter")
    expect_tea(lambda: tea.asymmetric_sign(m.AsymmetricSignRequest(
        key_id=key_id, key_version_id=version, algorithm="RSA_PSS_SHA_256", digest=digest)),
        400, "InvalidParameter")
    expect_tea(lambda: tea.asymmetric_sign(m.AsymmetricSignRequest(
        key_id=key_id, key_version_id=version, algorithm="ECDSA_SHA_256",
        digest=b64(b"short"))), 400, "InvalidParameter")
    expect_tea(lambda: tea.asymmetric_encrypt(m.AsymmetricEncryptRequest(
        key_id=key_id, key_version_id=version, algorithm="RSAES_OAEP_SHA_256",
        plaintext=b64(b"x"))), 400, "Rejected.UnsupportedOperation")
    tea.disable_key(m.DisableKeyRequest(key_id=key_id))
    expect_tea(lambda: tea.asymmetric_sign(m.AsymmetricSignRequest(
        key_id=key_id, key_version_id=version, algorithm="ECDSA_SHA_256", digest=digest)),
        409, "Rejected.Disabled")


# ---------------------------------------------------------------------------------------
# custody: private keys are wrapped under the root key like symmetric material

def test_key_pairs_survive_root_key_rotation(start_server, tmp_path):
    """``openkms root-key rotate`` re-wraps the wrapped private keys too: afterwards the same
    public keys are served, offline ciphertexts still decrypt and signatures still verify."""
    from e2ehelp import Kms
    from test_root_key_rotation import run_rotate

    data_dir = tmp_path / "data"
    srv = start_server(data_dir=data_dir)
    kms = Kms(srv)
    signer, sv = create(kms, "RSA_2048")
    sealer, ev = create(kms, "EC_SM2", "ENCRYPT/DECRYPT")
    sign_pem, seal_pem = public_pem(kms, signer, sv), public_pem(kms, sealer, ev)
    secret = os.urandom(48)
    blob = kms.call(sdk_request("AsymmetricEncrypt", KeyId=sealer, KeyVersionId=ev,
                                Algorithm="SM2PKE", Plaintext=b64(secret)))["CiphertextBlob"]
    srv.stop()
    done = run_rotate(data_dir)
    assert done.returncode == 0, done.stderr
    srv = start_server(data_dir=data_dir)
    kms = Kms(srv)
    assert public_pem(kms, signer, sv) == sign_pem
    assert public_pem(kms, sealer, ev) == seal_pem
    back = kms.call(sdk_request("AsymmetricDecrypt", KeyId=sealer, KeyVersionId=ev,
                                Algorithm="SM2PKE", CiphertextBlob=blob))
    assert base64.b64decode(back["Plaintext"]) == secret
    signature = sign(kms, signer, sv, "RSA_PSS_SHA_256", hashlib.sha256(MESSAGE).digest())
    serialization.load_pem_public_key(sign_pem.encode()).verify(
        signature, MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    srv.stop()


def test_dry_run_checks_everything_and_changes_nothing(kms):
    key_id, version = create(kms, "EC_P256")
    digest = b64(hashlib.sha256(MESSAGE).digest())
    for action, params in [
        ("GetPublicKey", {}),
        ("AsymmetricSign", {"Algorithm": "ECDSA_SHA_256", "Digest": digest}),
        ("AsymmetricVerify", {"Algorithm": "ECDSA_SHA_256", "Digest": digest,
                              "Value": b64(b"\x30\x00")}),
    ]:
        kms.error(sdk_request(action, KeyId=key_id, KeyVersionId=version, DryRun="true",
                              **params), 412, "DryRunOperationError")


def test_policies_govern_key_pairs_per_action(kms):
    """A RAM user allowed kms:AsymmetricSign and kms:GetPublicKey on one key pair signs with it,
    and is refused AsymmetricDecrypt there and signing with another key pair."""
    from e2ehelp import new_ram_user, policy_document, statement

    key_id, version = create(kms, "EC_SM2")
    other, other_version = create(kms, "EC_SM2")
    arn = f"acs:kms:*:*:key/{key_id}"
    user = new_ram_user(kms, "pairs", documents=[policy_document(
        statement(["kms:AsymmetricSign", "kms:GetPublicKey"], arn))])
    digest = b64(b"\x07" * 32)
    user.kms.call(sdk_request("AsymmetricSign", KeyId=key_id, KeyVersionId=version,
                              Algorithm="SM2DSA", Digest=digest))
    user.kms.call(sdk_request("GetPublicKey", KeyId=key_id, KeyVersionId=version))
    user.kms.error(sdk_request("AsymmetricVerify", KeyId=key_id, KeyVersionId=version,
                               Algorithm="SM2DSA", Digest=digest, Value=b64(b"\x30\x00")),
                   403, "Forbidden.NoPermission")
    user.kms.error(sdk_request("AsymmetricSign", KeyId=other, KeyVersionId=other_version,
                               Algorithm="SM2DSA", Digest=digest), 403, "Forbidden.NoPermission")


def hsm_pair(kms, spec: str, usage: str | None = None) -> tuple[str, str]:
    """CreateKey ProtectionLevel=HSM of ``spec``: key id and its version."""
    params = {"KeySpec": spec, "ProtectionLevel": "HSM", **({"KeyUsage": usage} if usage else {})}
    meta = kms.create_key(**params)
    assert meta["ProtectionLevel"] == "HSM"
    versions = kms.call(sdk_request("ListKeyVersions", KeyId=meta["KeyId"]))
    return meta["KeyId"], versions["KeyVersions"]["KeyVersion"][0]["KeyVersionId"]


def test_hsm_key_pairs_sign_decrypt_and_survive_a_restart(tmp_path_factory, tmp_path):
    """ProtectionLevel=HSM key pairs live in the PKCS#11 token (SoftHSM2): RSA_2048, EC_P256 and
    EC_P256K signatures verify with ``cryptography`` and only GetPublicKey's PEM, an RSA_2048
    ENCRYPT/DECRYPT key decrypts what ``cryptography`` sealed with OAEP SHA-1, and OAEP SHA-256
    data either decrypts or is 400 UnsupportedOperation (a token without that mechanism),
    EC_SM2 is refused (no standard PKCS#11 mechanism), and after a restart the same keys serve."""
    from e2ehelp import Kms
    from test_pkcs11 import TokenSetup

    token = TokenSetup(tmp_path_factory.mktemp("asym-token"))
    srv = new_server(tmp_path_factory, "asym-hsm", args=token.args(seal="file"),
                     env=token.server_env())
    srv.start()
    try:
        kms = Kms(srv)
        signers = {spec: hsm_pair(kms, spec) for spec in ("RSA_2048", "EC_P256", "EC_P256K")}
        sealer, sealer_version = hsm_pair(kms, "RSA_2048", "ENCRYPT/DECRYPT")
        pems = {spec: public_pem(kms, *signers[spec]) for spec in signers}
        for pem in pems.values():
            check_pem(pem)
        kms.error(kms.create_key_request(ProtectionLevel="HSM", KeySpec="EC_SM2"), 400,
                  "UnsupportedOperation")
        kms.error(kms.create_key_request(ProtectionLevel="HSM", KeySpec="EC_SM2",
                                         KeyUsage="ENCRYPT/DECRYPT"), 400,
                  "UnsupportedOperation")
        check_hsm_pairs(kms, tmp_path, signers, pems, (sealer, sealer_version))
        srv.stop()
        srv = new_server(tmp_path_factory, "asym-hsm-again", args=token.args(seal="file"),
                         env=token.server_env(), data_dir=srv.data_dir)
        srv.start()
        kms = Kms(srv)
        assert {spec: public_pem(kms, *signers[spec]) for spec in signers} == pems
        check_hsm_pairs(kms, tmp_path, signers, pems, (sealer, sealer_version))
    finally:
        stop_or_fail(srv, "openkms died during the HSM key-pair test")


def check_hsm_pairs(kms, tmp_path, signers: dict, pems: dict, sealer: tuple) -> None:
    """Signatures of each HSM signer verify offline (and online); OAEP data sealed offline
    decrypts through the HSM sealer."""
    digest = hashlib.sha256(MESSAGE).digest()
    cases = [("RSA_2048", "RSA_PSS_SHA_256"), ("RSA_2048", "RSA_PKCS1_SHA_256"),
             ("EC_P256", "ECDSA_SHA_256"), ("EC_P256K", "ECDSA_SHA_256")]
    for spec, algorithm in cases:
        key_id, version = signers[spec]
        signature = sign(kms, key_id, version, algorithm, digest)
        verify_offline(tmp_path, spec, algorithm, pems[spec], MESSAGE, signature)
        assert verify(kms, key_id, version, algorithm, digest, signature) is True
        with pytest.raises(InvalidSignature):
            verify_offline(tmp_path, spec, algorithm, pems[spec], MESSAGE + b"!", signature)
    key_id, version = sealer
    public = serialization.load_pem_public_key(public_pem(kms, key_id, version).encode())
    sha1 = hsm_oaep_decrypts(kms, key_id, version, public, "RSAES_OAEP_SHA_1", hashes.SHA1)
    assert sha1, "OAEP SHA-1 must decrypt in the token"
    hsm_oaep_decrypts(kms, key_id, version, public, "RSAES_OAEP_SHA_256", hashes.SHA256)


def hsm_oaep_decrypts(kms, key_id: str, version: str, public, algorithm: str, hash_cls) -> bool:
    """Whether data ``cryptography`` sealed with OAEP (``hash_cls``) decrypts through the HSM
    key: True when it decrypts to the secret (a changed ciphertext then is the undetailed
    400 InvalidParameter), False when the token lacks the algorithm: 400 UnsupportedOperation
    with the generic message, for the changed ciphertext too. Anything else fails."""
    secret = os.urandom(100)
    sealed = public.encrypt(secret, padding.OAEP(padding.MGF1(hash_cls()), hash_cls(), None))
    tampered = bytearray(sealed)
    tampered[5] ^= 1

    def request(blob: bytes):
        return sdk_request("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version,
                           Algorithm=algorithm, CiphertextBlob=b64(blob))

    _status, _headers, body, exc = kms.client._implementation_of_do_action(
        kms.prepare(request(sealed)))
    if exc is not None:
        for blob in (sealed, bytes(tampered)):
            refused = kms.error(request(blob), 400, "UnsupportedOperation")
            assert refused.message == "This action is not supported.", refused.message
        return False
    assert base64.b64decode(json.loads(body)["Plaintext"]) == secret
    kms.error(request(bytes(tampered)), 400, "InvalidParameter")
    return True
