"""How requests travel: GET as well as POST, parameters in a form body, '+' for space in the
query, TLS with the generated CA (127.0.0.1 and localhost), and plain HTTP mode."""

import json

import requests

from e2ehelp import ACCOUNT_ID, HTTP_TIMEOUT, Kms, signed_request, unique_alias


def test_get_works_like_post(kms):
    key = kms.create_key()
    enc = kms.encrypt(key["KeyId"], "sent with GET", method="GET")
    assert enc["KeyId"] == key["KeyId"]
    assert kms.decrypt(enc["CiphertextBlob"], method="GET")["Plaintext"] == "sent with GET"
    create = kms.create_key_request()
    create.set_method("GET")
    assert kms.call(create)["KeyMetadata"]["KeyState"] == "Enabled"


def test_sdk_form_body_parameters_are_merged(kms):
    key = kms.create_key()
    req = kms.encrypt_request(None, None)
    req.add_body_params("KeyId", key["KeyId"])
    req.add_body_params("Plaintext", "in the body: a b+c/d=é")
    req.add_body_params("EncryptionContext", json.dumps({"where": "body"}))
    enc = kms.call(req)
    assert enc["KeyId"] == key["KeyId"]
    dec = kms.decrypt(enc["CiphertextBlob"], context='{"where":"body"}')
    assert dec["Plaintext"] == "in the body: a b+c/d=é"


def test_raw_form_body_with_plus_for_space(server, kms):
    key = kms.create_key()
    text = "hello world +/= ünï"
    reply = signed_request(server, "Encrypt", form={"KeyId": key["KeyId"], "Plaintext": text})
    assert reply.status == 200, reply.body
    blob = reply.json()["CiphertextBlob"]
    reply = signed_request(server, "Decrypt", method="POST", form={"CiphertextBlob": blob})
    assert reply.status == 200, reply.body
    assert reply.json()["Plaintext"] == text


def test_raw_query_with_plus_for_space(server, kms):
    key = kms.create_key()
    text = "spaces as plus + a real plus"
    reply = signed_request(server, "Encrypt", {"KeyId": key["KeyId"], "Plaintext": text},
                           plus_for_space=True)
    assert reply.status == 200, reply.body
    assert kms.decrypt(reply.json()["CiphertextBlob"])["Plaintext"] == text


def test_raw_get_signed_as_get(server, kms):
    key = kms.create_key()
    reply = signed_request(server, "Encrypt", {"KeyId": key["KeyId"], "Plaintext": "g"},
                           method="GET")
    assert reply.status == 200, reply.body
    assert reply.json()["KeyId"] == key["KeyId"]


def test_success_is_json(server, kms):
    key = kms.create_key()
    reply = signed_request(server, "Encrypt", {"KeyId": key["KeyId"], "Plaintext": "j"})
    assert reply.status == 200
    assert isinstance(reply.json()["RequestId"], str) and reply.json()["RequestId"]


def test_tls_certificate_covers_localhost_and_the_ca_is_a_pem(server):
    assert server.scheme == "https"
    assert server.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    for host in ("127.0.0.1", "localhost"):
        resp = requests.get(f"https://{host}:{server.port}/", verify=str(server.ca_path),
                            timeout=HTTP_TIMEOUT)
        assert 400 <= resp.status_code < 500  # an unsigned request, but TLS verified


def test_plain_http_mode(start_server):
    server = start_server(args=["--insecure-http", "--account-id", ACCOUNT_ID])
    assert server.scheme == "http"
    kms = Kms(server)
    key = kms.create_key()
    alias = unique_alias("alias/http")
    kms.create_alias(alias, key["KeyId"])
    enc = kms.encrypt(alias, "over plain http")
    assert enc["KeyId"] == key["KeyId"]
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "over plain http"
