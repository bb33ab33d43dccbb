"""CreateKey: the whole KeyMetadata (spec section 6.1), the SM4 spec, and rejected specs."""

import datetime as dt

from e2ehelp import ACCOUNT_ID, DATE_RE, REGION_ID, UUID_RE


def parse_date(value: str) -> dt.datetime:
    assert DATE_RE.match(value), f"not YYYY-MM-DDTHH:MM:SSZ: {value!r}"
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def assert_recent(value: str) -> None:
    when = parse_date(value)
    now = dt.datetime.now(dt.timezone.utc)
    assert abs((now - when).total_seconds()) < 600, f"{value} is not close to now ({now})"


def test_create_key_returns_the_whole_key_metadata(kms):
    reply = kms.call(kms.create_key_request())
    assert isinstance(reply["RequestId"], str) and reply["RequestId"]
    meta = reply["KeyMetadata"]
    for name, value in meta.items():
        assert isinstance(value, str), f"KeyMetadata.{name} is not a string: {value!r}"

    key_id = meta["KeyId"]
    assert UUID_RE.match(key_id), f"KeyId is not a UUID: {key_id!r}"
    assert meta["Arn"] == f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:key/{key_id}"
    assert_recent(meta["CreationDate"])
    assert meta["KeyState"] == "Enabled"
    assert meta["KeySpec"] == "Aliyun_AES_256"
    assert meta["KeyUsage"] == "ENCRYPT/DECRYPT"
    assert meta["Origin"] == "Aliyun_KMS"
    assert meta["ProtectionLevel"] == "SOFTWARE"
    assert meta["Creator"] == ACCOUNT_ID
    assert meta["DeleteDate"] == ""
    assert meta["MaterialExpireTime"] == ""
    assert meta["Description"] == ""
    assert UUID_RE.match(meta["PrimaryKeyVersion"]), meta["PrimaryKeyVersion"]
    assert meta["AutomaticRotation"] == "Disabled"
    assert "LastRotationDate" in meta
    assert_recent(meta["LastRotationDate"])


def test_create_key_with_explicit_parameters_as_the_compat_smoke_sends_them(kms):
    meta = kms.create_key(Description="test key", KeySpec="Aliyun_AES_256",
                          KeyUsage="ENCRYPT/DECRYPT", ProtectionLevel="SOFTWARE",
                          Origin="Aliyun_KMS")
    assert meta["Description"] == "test key"
    assert meta["KeySpec"] == "Aliyun_AES_256"
    assert meta["KeyState"] == "Enabled"


def test_each_key_gets_its_own_id_and_version(kms):
    a, b = kms.create_key(), kms.create_key()
    assert a["KeyId"] != b["KeyId"]
    assert a["PrimaryKeyVersion"] != b["PrimaryKeyVersion"]


def test_sm4_key_encrypts_and_decrypts(kms):
    meta = kms.create_key(KeySpec="Aliyun_SM4")
    assert meta["KeySpec"] == "Aliyun_SM4"
    assert meta["KeyUsage"] == "ENCRYPT/DECRYPT"
    enc = kms.encrypt(meta["KeyId"], "SM4 says hello")
    assert enc["KeyId"] == meta["KeyId"]
    assert enc["KeyVersionId"] == meta["PrimaryKeyVersion"]
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "SM4 says hello"


def test_asymmetric_key_spec_makes_a_signing_key(kms):
    """Key pairs are served now (test_asymmetric.py); without KeyUsage they sign (next 3.1)."""
    meta = kms.create_key(KeySpec="RSA_2048")
    assert (meta["KeySpec"], meta["KeyUsage"]) == ("RSA_2048", "SIGN/VERIFY")


def test_unknown_key_spec_is_rejected(kms):
    kms.error(kms.create_key_request(KeySpec="Aliyun_AES_512"), 400, "InvalidParameter")
