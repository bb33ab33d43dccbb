"""Unit tests of the suite's own V1 signer (no server): the spec's section 2.3 vector, and
agreement with aliyunsdkcore's string-to-sign on awkward characters."""

from aliyunsdkcore.auth.algorithm import sha_hmac1
from aliyunsdkcore.auth.composer import rpc_signature_composer

from e2ehelp import percent_encode, v1_signature, v1_string_to_sign

VECTOR_PARAMS = {
    "Action": "Encrypt",
    "Version": "2016-01-20",
    "Format": "JSON",
    "AccessKeyId": "testakid",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Timestamp": "2024-01-01T00:00:00Z",
    "RegionId": "cn-hangzhou",
    "SignatureType": "",
    "KeyId": "alias/test_key-1",
    "Plaintext": "aGVsbG8gd29ybGQ=",
    "EncryptionContext": '{"purpose":"test a*b~c"}',
}
VECTOR_STS = (
    "POST&%2F&AccessKeyId%3Dtestakid%26Action%3DEncrypt%26EncryptionContext%3D%257B%2522purpose"
    "%2522%253A%2522test%2520a%252Ab~c%2522%257D%26Format%3DJSON%26KeyId%3Dalias%252Ftest_key-1"
    "%26Plaintext%3DaGVsbG8gd29ybGQ%253D%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureType%3D"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2016-01-20"
)
VECTOR_SIGNATURE = "BfsrEjlT9afT14bqAhh6ld6u/1Q="


def test_spec_vector_string_to_sign():
    assert v1_string_to_sign("POST", VECTOR_PARAMS) == VECTOR_STS


def test_spec_vector_signature():
    assert v1_signature(VECTOR_STS, "testsecret") == VECTOR_SIGNATURE


def test_signature_parameter_is_not_signed():
    with_sig = dict(VECTOR_PARAMS, Signature="ignored")
    assert v1_string_to_sign("POST", with_sig) == VECTOR_STS


def test_percent_encoding_rules():
    assert percent_encode("a b*c~d/e=f&g+h") == "a%20b%2Ac~d%2Fe%3Df%26g%2Bh"
    assert percent_encode("é") == "%C3%A9"
    assert percent_encode("-_.~AZaz09") == "-_.~AZaz09"


def test_agrees_with_the_sdk_on_awkward_values():
    params = dict(VECTOR_PARAMS)
    params["Plaintext"] = "-----BEGIN PRIVATE KEY-----\nMII+/=\n wörld *~ 你好 &=%\n"
    params["Description"] = "tab\there"
    for method in ("POST", "GET"):
        sdk = rpc_signature_composer.__compose_string_to_sign(method, params)
        ours = v1_string_to_sign(method, params)
        assert ours == sdk
        assert v1_signature(ours, "s3cr3t") == sha_hmac1.get_sign_string(sdk, "s3cr3t&")
