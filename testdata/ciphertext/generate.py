#!/usr/bin/env python3
"""Independent implementation of the openkms ciphertext format v1 (docs/ciphertext-format.md),
used to produce the known-answer vectors in v1.json. Needs the `cryptography` package.
The Rust tests in crates/core/tests/known_answers.rs check the Rust code against this file."""
import base64, json
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

INFO = b"openkms/v1/message-key"

def canonical(ctx):
    return b"" if not ctx else json.dumps(ctx, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def seal(spec, material, version_id, salt, nonce, ctx, plaintext):
    klen = 32 if spec == "Aliyun_AES_256" else 16
    key = HKDF(algorithm=hashes.SHA256(), length=klen, salt=salt, info=INFO).derive(material)
    header = version_id.encode() + b"\x01" + salt + nonce
    algo = algorithms.AES(key) if spec == "Aliyun_AES_256" else algorithms.SM4(key)
    enc = Cipher(algo, modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(header + canonical(ctx))
    ct = enc.update(plaintext) + enc.finalize()
    return header + ct + enc.tag

CASES = [
    ("Aliyun_AES_256", bytes(range(32)), "86a9efd9-3d16-4894-bd4f-1fc43f3f2abf", bytes([1] * 12), bytes([2] * 12), {}, b"hello world"),
    ("Aliyun_AES_256", bytes(range(100, 132)), "0f5c7e2a-9b1d-4c3e-8f6a-7b8c9d0e1f2a", bytes(range(12)), bytes(range(12, 24)),
     {"purpose": "test a*b~c", "app": "apollo"}, "-----BEGIN PRIVATE KEY-----\nwörld +/*~\n".encode()),
    ("Aliyun_AES_256", bytes([0xAB] * 32), "11111111-2222-4333-8444-555555555555", bytes([9] * 12), bytes([8] * 12), {}, b""),
    ("Aliyun_SM4", bytes(range(16)), "c5a9f8e2-3b8c-4d9a-9e56-1f2e3d4c5b6a", bytes([3] * 12), bytes([4] * 12), {"k": "v"}, b"SM4 plaintext"),
]

vectors = []
for spec, material, vid, salt, nonce, ctx, pt in CASES:
    blob = seal(spec, material, vid, salt, nonce, ctx, pt)
    vectors.append({"key_spec": spec, "material_hex": material.hex(), "version_id": vid, "salt_hex": salt.hex(),
                    "nonce_hex": nonce.hex(), "encryption_context": ctx, "plaintext_hex": pt.hex(),
                    "ciphertext_blob": base64.b64encode(blob).decode()})
print(json.dumps({"format": "openkms ciphertext v1", "vectors": vectors}, indent=2, ensure_ascii=False))
