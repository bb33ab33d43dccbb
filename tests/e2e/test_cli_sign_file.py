"""`openkms sign-file` and `openkms verify-file` (issue 15): the CLI hashes a file locally
(SHA-256, or SM3 with Z for SM2DSA), AsymmetricSign signs the digest, and the signature is
checked by independent implementations (Python ``cryptography``, OpenSSL for SM2) with only the
PEM from GetPublicKey; verify-file accepts it offline and --online, and says invalid (exit 1)
for another file."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from e2ehelp import Kms, sdk_request
from test_asymmetric import create, public_pem
from test_cli_seed_script import cli_env, openkms, openkms_ok


@pytest.fixture
def env(server, tmp_path):
    return cli_env(server, tmp_path / "config")


@pytest.mark.parametrize("spec,algorithm", [("RSA_2048", "RSA_PSS_SHA_256"),
                                            ("RSA_3072", "RSA_PKCS1_SHA_256"),
                                            ("EC_P256", "ECDSA_SHA_256"),
                                            ("EC_P256K", "ECDSA_SHA_256"),
                                            ("EC_SM2", "SM2DSA")])
def test_sign_file_then_verify_file(server, env, tmp_path, spec, algorithm):
    kms = Kms(server)
    key_id, version = create(kms, spec)
    data = tmp_path / "release.tar"
    data.write_bytes(os.urandom(200_000))
    target = ["--key-id", key_id, "--key-version-id", version, "--algorithm", algorithm]
    signature = openkms_ok(env, "sign-file", *target, "--in", str(data)).strip()
    raw = base64.b64decode(signature)
    pem = public_pem(kms, key_id, version)
    if algorithm == "SM2DSA":
        (tmp_path / "pub.pem").write_text(pem)
        (tmp_path / "sig").write_bytes(raw)
        out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                              str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3", "-in",
                              str(data), "-sigfile", str(tmp_path / "sig"), "-pkeyopt",
                              "distid:1234567812345678"], capture_output=True, timeout=60)
        assert out.returncode == 0, out
    else:
        key = serialization.load_pem_public_key(pem.encode())
        if algorithm == "ECDSA_SHA_256":
            key.verify(raw, data.read_bytes(), ec.ECDSA(hashes.SHA256()))
        elif algorithm == "RSA_PSS_SHA_256":
            key.verify(raw, data.read_bytes(), padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                       hashes.SHA256())
        else:
            key.verify(raw, data.read_bytes(), padding.PKCS1v15(), hashes.SHA256())
    (tmp_path / "sig.b64").write_text(signature + "\n")
    for mode in ([], ["--online"]):
        out = openkms_ok(env, "verify-file", *target, "--in", str(data),
                         "--signature-file", str(tmp_path / "sig.b64"), *mode)
        assert out.strip() == "valid"
        other = tmp_path / "other"
        other.write_bytes(data.read_bytes() + b"!")
        done = openkms(env, "verify-file", *target, "--in", str(other),
                       "--signature", signature, *mode)
        assert (done.returncode, done.stdout.strip()) == (1, "invalid"), done


def test_sign_file_refusals_say_what_to_do(server, env, tmp_path):
    kms = Kms(server)
    key_id, version = create(kms, "EC_P256")
    (tmp_path / "f").write_bytes(b"x")
    done = openkms(env, "sign-file", "--key-id", key_id, "--key-version-id", version,
                   "--algorithm", "ECDSA_SHA_384", "--in", str(tmp_path / "f"))
    assert done.returncode != 0 and "ECDSA_SHA_256" in done.stderr, done
    done = openkms(env, "sign-file", "--key-id", key_id, "--key-version-id", version,
                   "--algorithm", "RSA_PSS_SHA_256", "--in", str(tmp_path / "f"))
    assert done.returncode == 1 and "InvalidParameter" in done.stderr, done
    kms.call(sdk_request("DisableKey", KeyId=key_id))
    done = openkms(env, "sign-file", "--key-id", key_id, "--key-version-id", version,
                   "--algorithm", "ECDSA_SHA_256", "--in", str(tmp_path / "f"))
    assert done.returncode == 1 and "Rejected.Disabled" in done.stderr, done
