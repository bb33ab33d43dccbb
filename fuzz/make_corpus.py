#!/usr/bin/env python3
"""Writes the committed seed corpus, fuzz/corpus/<target>/, from real requests.

The requests come from testdata/signatures (captured from the official SDKs, with their real
signatures), the ciphertext vectors of testdata/ciphertext, and requests, policies and
configuration files as the e2e suite and docs/configuration.md write them. Run it again after
changing a target's input form (see fuzz/src/lib.rs for the request form); the files are
named by content, so rerunning adds nothing twice.

    python3 fuzz/make_corpus.py            (needs only the standard library)
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fuzz" / "corpus"
DATE = "2024-01-01T00:00:00Z"


def write(target: str, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode()
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def vectors(name: str) -> list[dict]:
    return json.loads((ROOT / "testdata" / "signatures" / f"{name}.json").read_text())["vectors"]


def enc(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def form(pairs) -> str:
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


def raw_request(method: str, query: str, headers, body: str = "") -> str:
    head = "\n".join(f"{k}: {v}" for k, v in headers)
    return f"{method} {query}\n{head}\n\n{body}"


def v1_requests() -> list[tuple[str, str]]:
    """(method, query) of every captured V1 request, signatures included."""
    out = []
    for v in vectors("v1") + vectors("v1-order"):
        if "query" in v:
            out.append((v["method"], v["query"]))
        else:
            out.append((v["method"], form(v["params"] + [["Signature", v["signature"]]])))
    return out


def v3_requests() -> list[str]:
    out = []
    for v in vectors("v3"):
        query = v.get("query") or form(v.get("params", []))
        headers = list(v["headers"]) + [["authorization", v["authorization"]]]
        out.append(raw_request(v["method"], query, headers, v.get("body", "")))
    return out


def common(action: str, **params) -> list[tuple[str, str]]:
    base = {"Action": action, "Version": "2016-01-20", "Format": "JSON",
            "AccessKeyId": "testakid", "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "Timestamp": DATE, "RegionId": "cn-hangzhou"}
    base.update(params)
    return list(base.items())


KEY = "86a9efd9-3d16-4894-bd4f-1fc43f3f2abf"
BLOB = "ODZhOWVmZDktM2QxNi00ODk0LWJkNGYtMWZjNDNmM2YyYWJmAQEBAQEBAQEBAQEBAQICAgICAgICAgICAhKJPsYFJledzUxNm0sorfNI+7cEDV/wKanwww=="
POLICY = json.dumps({"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
     "Resource": ["acs:kms:*:*:key/*", "acs:kms:*:*:alias/app/*"],
     "Condition": {"StringEquals": {"kms:EncryptionContext/app": "apollo"},
                   "IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.1.1"]},
                   "Bool": {"acs:SecureTransport": "true"}}},
    {"Effect": "Deny", "NotAction": "kms:Describe*", "NotResource": "acs:kms:*:*:key/secret-*",
     "Condition": {"DateGreaterThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"},
                   "StringNotLike": {"kms:EncryptionContext/tier": "gold?*"}}}]})
KEY_POLICY = json.dumps({"Version": "1", "Statement": [
    {"Sid": "kms default key policy", "Effect": "Allow", "Action": ["kms:*"], "Resource": ["*"],
     "Principal": {"RAM": ["acs:ram::1234567890123456:*"]}},
    {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*", "Principal": "*"}]})


def action_requests() -> list[list[tuple[str, str]]]:
    ctx = json.dumps({"app": "apollo", "名前": "x y"})
    tags = json.dumps([{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "kms"}])
    return [
        common("CreateKey", Description="test key", KeySpec="Aliyun_AES_256",
               KeyUsage="ENCRYPT/DECRYPT", ProtectionLevel="SOFTWARE", Origin="Aliyun_KMS",
               EnableAutomaticRotation="true", RotationInterval="604800s", Tags=tags),
        common("CreateAlias", AliasName="alias/app/data", KeyId=KEY),
        common("Encrypt", KeyId="alias/app/data", Plaintext="aGVsbG8gd29ybGQ=",
               EncryptionContext=ctx),
        common("Decrypt", CiphertextBlob=BLOB, EncryptionContext=ctx, DryRun="false"),
        common("GenerateDataKey", KeyId=KEY, NumberOfBytes="32", KeySpec="AES_256"),
        common("ReEncrypt", CiphertextBlob=BLOB, DestinationKeyId=KEY,
               SourceEncryptionContext=ctx, DestinationEncryptionContext="{}"),
        common("TagResource", KeyId=KEY, Tags=tags),
        common("UntagResource", KeyId=KEY, TagKeys=json.dumps(["env"])),
        common("CreateKeyVersion", KeyId=KEY),
        common("ListKeys", PageNumber="2", PageSize="100"),
        common("ScheduleKeyDeletion", KeyId=KEY, PendingWindowInDays="7"),
        common("UpdateRotationPolicy", KeyId=KEY, EnableAutomaticRotation="true",
               RotationInterval="31536000s"),
        common("SetKeyPolicy", KeyId=KEY, PolicyName="default", Policy=KEY_POLICY),
        common("CreatePolicy", Version="2015-05-01", PolicyName="app-crypto",
               PolicyDocument=POLICY),
        common("CreateUser", Version="2015-05-01", UserName="alice", DisplayName="Alice",
               Email="alice@example.com"),
        common("ReEncrypt", CiphertextBlob="aGVsbG8gd29ybGQ=", SourceKeyId=KEY,
               SourceKeyVersionId=KEY, SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
               DestinationKeyId=KEY, DestinationEncryptionContext=ctx),
        common("CreateKey", KeySpec="Aliyun_SM4", Origin="EXTERNAL"),
        common("GetParametersForImport", KeyId=KEY, WrappingAlgorithm="RSAES_OAEP_SHA_256",
               WrappingKeySpec="RSA_2048"),
        common("ImportKeyMaterial", KeyId=KEY, EncryptedKeyMaterial="QUJD+/==",
               ImportToken="gTZx+Pj88", KeyMaterialExpireUnix="1546272000"),
        common("DeleteKeyMaterial", KeyId=KEY),
    ]


def seed_requests() -> None:
    for method, query in v1_requests():
        write("params", query + "\n")
        write("auth", raw_request(method, query, [("host", "kms.cn-hangzhou.aliyuncs.com")]))
        write("request", raw_request(method, query, [("host", "127.0.0.1")]))
        write("sign_v1", query)
    for text in v3_requests():
        write("auth", text)
        write("sign_v3", text)
        write("request", text)
    for pairs in action_requests():
        query = form(pairs)
        write("request", raw_request("POST", query, [("host", "127.0.0.1")]))
        split = len(pairs) // 2
        body = form(pairs[split:])
        write("request", raw_request("POST", form(pairs[:split]),
                                     [("content-type", "application/x-www-form-urlencoded")],
                                     body))
        write("params", form(pairs[:split]) + "\n" + body.replace("%20", "+"))
        write("sign_v1", query)


def seed_authorizations() -> None:
    sig = "bfa7e5e0e9395c4a3606d822cd2b341622883c69a33e83748964d5fc2de74ab2"
    for v in vectors("v3"):
        write("authorization", v["authorization"])
    write("authorization", f"  ACS3-HMAC-SHA256   credential = ak ,  SignedHeaders= host ; "
                           f"x-acs-date ,Extra=1, Signature = {sig} , ")
    write("authorization", f"ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature={sig}")
    write("authorization", "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host;;x")


def seed_contexts() -> None:
    write("encryption_context", form([("EncryptionContext", json.dumps({"app": "apollo", "a/b": "1"}))]))
    write("encryption_context", form([("EncryptionContext.app", "apollo"), ("EncryptionContext.名前", "x y")]))
    write("encryption_context", form([("EncryptionContext.2.Value", "1"), ("EncryptionContext.1.Key", "名前"),
                                      ("EncryptionContext.2.Key", "a/b"), ("EncryptionContext.1.Value", "x y")]))
    write("encryption_context", form([("EncryptionContext", '{"a":"1"}'), ("EncryptionContext.1.Key", "b"),
                                      ("EncryptionContext.1.Value", "2")]))
    write("encryption_context", form([("EncryptionContext.1.Key", "k"), ("EncryptionContext.other", "v")]))
    write("encryption_context", "EncryptionContext=%7B%22purpose%22%3A%22test+a%2Ab~c%22%7D")


def seed_blobs() -> None:
    data = json.loads((ROOT / "testdata" / "ciphertext" / "v1.json").read_text())
    for v in data["vectors"]:
        write("ciphertext", v["ciphertext_blob"])
        write("ciphertext", base64.b64decode(v["ciphertext_blob"]))


def envelope(chunks: list[bytes]) -> bytes:
    """An envelope file as `openkms encrypt-file` writes it (docs/file-format.md); the chunk
    bytes are noise, since the fuzz target opens with a key that never sealed them."""
    header = json.dumps({"KeyId": KEY, "CiphertextBlob": BLOB,
                         "EncryptionContext": {"app": "apollo"}, "Cipher": "AES-256-GCM",
                         "ChunkSize": 65536, "NoncePrefix": "0102030405060a"},
                        separators=(",", ":")).encode()
    return b"\x89OKMS\r\n\x1a" + b"\x01" + struct.pack(">I", len(header)) + header + b"".join(chunks)


def filler(n: int) -> bytes:
    """n bytes that look random and are the same on every run."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(out + n.to_bytes(4, "big")).digest()
    return out[:n]


def seed_envelopes() -> None:
    for n in (0, 11, 300):
        write("envelope", envelope([filler(n + 16)]))
    write("envelope", b"MTlhYTc0NGYtYTZlNy00YmVjLTlkYWItNDYyMWE2")


def seed_policies() -> None:
    write("policy", b"\x00" + POLICY.encode())
    write("policy", b"\x01" + KEY_POLICY.encode())
    write("policy", b"\x00" + json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}).encode())
    write("policy", b"\x00" + json.dumps({"Version": "1", "Statement": {
        "Effect": "Allow", "Action": "ram:*", "Resource": "acs:ram:*:*:user/*",
        "Condition": {"StringEqualsIgnoreCase": {"kms:EncryptionContext/App": ["APOLLO", "x"]},
                      "NotIpAddress": {"acs:SourceIp": "::1/128"},
                      "DateLessThanEquals": {"acs:CurrentTime": "2024-01-01T00:00:00+08:00"}}}}).encode())


def seed_configs() -> None:
    write("config", 'data_dir = "/var/lib/openkms"\nlisten = "0.0.0.0:8443"\n'
                    'tls_cert = "/etc/openkms/tls/server.pem"\ntls_key = "/etc/openkms/tls/server.key"\n'
                    'region_id = "cn-shanghai"\n')
    write("config", 'database_url = "postgres://kms:s3cretPassw0rd@db.internal:5432/kms"\n'
                    'database_pool_size = 32\ncache_ttl_ms = 250\naccount_id = "1234567890123456"\n'
                    'metrics_listen = "127.0.0.1:9464"\n')
    write("config", 'insecure_http = true\naudit_log = "/var/log/openkms/audit.log"\n'
                    'audit_max_bytes = 0\naudit_fail_open = false\n')
    write("config", 'audit_log = "off"\nlisten = "[::1]:0"\n')


def backup_value(v) -> bytes:
    """One value of a backup record (docs/backup-format.md)."""
    if v is None:
        return b"\x00"
    if isinstance(v, bool):
        return b"\x05" if v else b"\x04"
    if isinstance(v, int):
        return b"\x01" + struct.pack(">q", v)
    raw = v.encode() if isinstance(v, str) else v
    return (b"\x02" if isinstance(v, str) else b"\x03") + struct.pack(">I", len(raw)) + raw


def backup_body(records: list[tuple[int, list]]) -> bytes:
    """A backup without its magic, version and digest: what the `backup` target seals."""
    header = json.dumps({"format": "openkms-backup", "created_at": DATE, "source": "sqlite"}).encode()
    out = struct.pack(">I", len(header)) + header
    for code, values in records:
        body = b"".join(backup_value(v) for v in values)
        out += bytes([code]) + struct.pack(">I", len(body)) + body
    return out + b"\x00" + struct.pack(">Q", len(records))


def seed_backups() -> None:
    key, version = "0b1f3c2e-0000-4000-8000-000000000001", "0b1f3c2e-0000-4000-9000-000000000002"
    records = [
        (1, ["root_key_check", bytes(range(48))]),
        (1, ["account_id", b"1234567890123456"]),
        (2, [key, "d\u00e9mo", "Aliyun_AES_256", "ENCRYPT/DECRYPT", "Aliyun_KMS", "SOFTWARE",
             "PendingDeletion", "1234567890123456", 1_700_000_000, 1_800_000_000, version,
             1_700_000_000, 31_536_000, 1_731_536_000, "keep", '{"Version":"1"}', 3]),
        (3, [version, key, 1_700_000_000, bytes(range(60))]),
        (4, [key, "team", "crypto"]),
        (5, ["alias/demo", key, 1_700_000_001]),
        (6, ["0b1f3c2e-0000-4000-9000-00000000dead", "gone", 1_700_000_002]),
        (7, ["alice", "2000000000000001", "Alice", "", "alice@example.com", "", 1_700_000_003]),
        (8, ["Policy-1", "", '{"Version":"1","Statement":[]}', 1_700_000_004]),
        (9, ["alice", "Custom", "Policy-1", 1_700_000_005]),
        (9, ["alice", "System", "AliyunKMSFullAccess", 1_700_000_006]),
        (10, ["LTAI00000000000000000001", "alice", bytes(range(70)), False, 1_700_000_007]),
    ]
    write("backup", backup_body(records))
    write("backup", backup_body(records[:1]))
    write("backup", backup_body([]))
    whole = b"OKMSBAK\n" + struct.pack(">H", 1) + backup_body(records[:3])
    write("backup", whole + hashlib.sha256(whole).digest())


def seed_shares() -> None:
    # okms1- + base64url(format 1, 8-byte split id, index, 32 value bytes), and near misses.
    for index in (1, 2, 255):
        raw = bytes([1]) + bytes(range(8)) + bytes([index]) + bytes(range(100, 132))
        write("unseal_share", "okms1-" + base64.urlsafe_b64encode(raw).decode().rstrip("="))
    write("unseal_share", "okms1-" + base64.urlsafe_b64encode(bytes(42)).decode().rstrip("="))
    write("unseal_share", "okms1-\n")


def seed_key_pairs() -> None:
    """The first byte picks the key (RSA_2048, EC_P256, EC_P256K, EC_SM2); the rest is a
    ciphertext and a signature at once: RSA-sized blocks, SM2 raw (04 || C1 || C3 || C2) and
    DER SM2Cipher shapes, DER ECDSA signatures."""
    sm2_raw = b"\x04" + bytes(range(64)) + bytes(32) + b"hello"
    sm2_der = b"\x30\x6b\x02\x20" + bytes(range(32)) + b"\x02\x20" + bytes(range(32)) \
        + b"\x04\x20" + bytes(32) + b"\x04\x05hello"
    ecdsa_der = b"\x30\x44\x02\x20" + b"\x01" * 32 + b"\x02\x20" + b"\x01" * 32
    for pick, body in [(0, bytes(256)), (0, b"\x00\x02" + b"\xff" * 254), (1, ecdsa_der),
                       (2, ecdsa_der), (3, sm2_raw), (3, sm2_raw[1:]), (3, sm2_der)]:
        write("key_pair", bytes([pick]) + body)


def main() -> None:
    seed_key_pairs()
    seed_shares()
    seed_requests()
    seed_authorizations()
    seed_contexts()
    seed_blobs()
    seed_envelopes()
    seed_policies()
    seed_configs()
    seed_backups()
    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{target}: {len(list((CORPUS / target).iterdir()))} files")


if __name__ == "__main__":
    main()
