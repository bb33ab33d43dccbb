"""The user's workflow (shared/seeds/000_*): CreateKey, CreateAlias alias/Apollo/WorkKey,
Encrypt ./certs/key.pem -> ./certs/key.pem.cipher, Decrypt it back, byte for byte.

The seed's own functions are kept as written (``e2ehelp.seed_script``: text-mode files, raw
PEM text as Plaintext, ``clt.do_action`` + ``json.loads``). The client is constructed exactly as
in the seed; the only changes are the endpoint (``https://127.0.0.1:<port>``) and the private CA
(through the SDK's documented ALIBABA_CLOUD_CA_BUNDLE variable).
"""

import json

from aliyunsdkcore import client
from aliyunsdkkms.request.v20160120 import CreateAliasRequest, CreateKeyRequest

from e2ehelp import ACCESS_KEY_ID, ACCESS_KEY_SECRET, decode_blob, seed_certs, seed_script

KEY_ALIAS = "alias/Apollo/WorkKey"


def test_seed_workflow_encrypts_and_decrypts_a_pem_private_key(server, tmp_path, monkeypatch,
                                                                rsa_pem):
    endpoint = server.url  # "https://127.0.0.1:<port>": the only change to the seed's code
    seed_certs(server, tmp_path, monkeypatch, rsa_pem)

    clt = client.AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, "cn-hangzhou")

    # -- step 1: CreateKey, step 2: CreateAlias (the seed does these with `aliyun kms`) --
    request = CreateKeyRequest.CreateKeyRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    created = json.loads(clt.do_action_with_exception(request))
    key_id = created["KeyMetadata"]["KeyId"]

    request = CreateAliasRequest.CreateAliasRequest()
    request.set_accept_format('JSON')
    request.set_endpoint(endpoint)
    request.set_AliasName(KEY_ALIAS)
    request.set_KeyId(key_id)
    assert json.loads(clt.do_action_with_exception(request))["RequestId"]

    # -- step 3: the seed's encryption script --
    seed = seed_script(clt, endpoint)
    KmsEncrypt, KmsDecrypt = seed.KmsEncrypt, seed.KmsDecrypt
    ReadTextFile, WriteTextFile = seed.ReadTextFile, seed.WriteTextFile

    in_content = ReadTextFile('./certs/key.pem')
    assert 3000 < len(in_content) <= 6144
    ciphertext = KmsEncrypt(clt, in_content, KEY_ALIAS)
    assert ciphertext, "Encrypt returned no CiphertextBlob"
    WriteTextFile('./certs/key.pem.cipher', ciphertext)

    # -- step 4: the seed's decryption script --
    in_content = ReadTextFile('./certs/key.pem.cipher')
    plaintext = KmsDecrypt(clt, in_content)
    assert plaintext is not None, "Decrypt returned no Plaintext"
    WriteTextFile('./certs/decrypted_key.pem', plaintext)

    original = (tmp_path / "certs" / "key.pem").read_bytes()
    assert (tmp_path / "certs" / "decrypted_key.pem").read_bytes() == original
    cipher_text = (tmp_path / "certs" / "key.pem.cipher").read_text()
    assert "PRIVATE KEY" not in cipher_text
    decode_blob(cipher_text)


def test_seed_workflow_with_the_client_pointed_by_port_and_verify(kms, rsa_pem, tmp_path):
    """The same workflow with AcsClient(port=, verify=ca) and set_endpoint("127.0.0.1")."""
    key_id = kms.create_key()["KeyId"]
    alias = "alias/Apollo/WorkKeyByPort"
    kms.create_alias(alias, key_id)
    (tmp_path / "key.pem").write_text(rsa_pem)
    content = (tmp_path / "key.pem").read_text()
    enc = kms.encrypt(alias, content)
    assert enc["KeyId"] == key_id
    (tmp_path / "key.pem.cipher").write_text(enc["CiphertextBlob"])
    dec = kms.decrypt((tmp_path / "key.pem.cipher").read_text())
    assert dec["Plaintext"] == content
    assert dec["KeyId"] == key_id
    assert dec["KeyVersionId"] == enc["KeyVersionId"]
