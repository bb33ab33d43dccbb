"""The current official Python SDK, ``alibabacloud-kms20160120`` (Tea), against openkms over TLS.

Every test runs twice, once per signing path of the SDK (spec sections 1.1, 3 and 9.4-9.5):

* ``v3``: the SDK's default, ACS3-HMAC-SHA256, Action and Version in ``x-acs-*`` headers, the
  business parameters in the query with ``+`` for spaces, Decrypt with
  ``content-type: application/x-www-form-urlencoded`` and an empty body;
* ``v2``: ``Config(signature_algorithm='v2')``, RPC signature V1 (HMAC-SHA1) in the query.

Each path gets its own server (so the seed's alias ``alias/Apollo/WorkKey`` is free), pointed at
the way the SDK documents it: ``Config(endpoint="127.0.0.1:<port>", ca=<data-dir>/tls/ca.pem)``.
"""

from __future__ import annotations

import base64

import pytest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from e2ehelp import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    ERROR_ENVELOPE,
    REGION_ID,
    OpenKms,
    decode_blob,
    new_server,
    stop_or_fail,
    unique_alias,
)

SEED_ALIAS = "alias/Apollo/WorkKey"
# a space (sent as '+' by the Tea SDK), a real '+' (sent as %2B), '*', '~', '/', '=', non-ASCII
CONTEXT = {"app": "Apollo", "purpose": "work key + backup/a*b~c=d", "owner": "ops é"}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module", params=["v3", "v2"])
def signing(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def tea_server(signing, tmp_path_factory) -> OpenKms:
    """A TLS server of its own for each signing path."""
    srv = new_server(tmp_path_factory, f"tea-{signing}", args=["--account-id", ACCOUNT_ID])
    srv.start()
    assert srv.scheme == "https", f"the server did not serve TLS: {srv.url}"
    assert srv.ca_path.is_file(), f"no generated CA at {srv.ca_path}"
    yield srv
    stop_or_fail(srv, "openkms died during the Tea SDK tests")


def tea_client(server: OpenKms, signing: str, secret: str = ACCESS_KEY_SECRET) -> Client:
    """The SDK's documented way to a private endpoint: host:port, https, a CA bundle."""
    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret=secret, region_id=REGION_ID,
                    endpoint=f"127.0.0.1:{server.port}", protocol="https",
                    ca=str(server.ca_path), connect_timeout=TIMEOUT_MS, read_timeout=TIMEOUT_MS)
    if signing == "v2":
        config.signature_algorithm = "v2"
    return Client(config)


@pytest.fixture
def tea(tea_server, signing) -> Client:
    return tea_client(tea_server, signing)


def expect_client_exception(call, status: int, code: str) -> ClientException:
    """``call()`` must raise the SDK's ClientException(code, status) carrying the whole error
    body the server sent (the SDK puts it, plus statusCode, in ``data``)."""
    with pytest.raises(ClientException) as info:
        call()
    exc = info.value
    assert (exc.status_code, exc.code) == (status, code), \
        f"expected HTTP {status} {code}, got HTTP {exc.status_code} {exc.code}: {exc.message!r}"
    data = exc.data or {}
    missing = [k for k in ERROR_ENVELOPE if k not in data]
    assert not missing, f"error body lacks {missing}: {data!r}"
    assert data["Code"] == code and data["RequestId"], data
    assert exc.request_id == data["RequestId"]
    return exc


def new_key(tea: Client, **params) -> m.CreateKeyResponseBodyKeyMetadata:
    resp = tea.create_key(m.CreateKeyRequest(**params))
    assert resp.status_code == 200 and resp.body.request_id
    return resp.body.key_metadata


# ---------------------------------------------------------------------------------------


def test_seed_workflow_on_a_pem_private_key(tea, tmp_path, rsa_pem):
    """CreateKey, CreateAlias alias/Apollo/WorkKey, Encrypt the PEM text as it is with a dict
    EncryptionContext, Decrypt with the same dict: the file comes back byte for byte."""
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "key.pem").write_text(rsa_pem)

    meta = new_key(tea, description="Apollo work key", key_spec="Aliyun_AES_256",
                   key_usage="ENCRYPT/DECRYPT", protection_level="SOFTWARE", origin="Aliyun_KMS")
    assert meta.key_state == "Enabled"
    assert meta.description == "Apollo work key"
    created = tea.create_alias(m.CreateAliasRequest(alias_name=SEED_ALIAS, key_id=meta.key_id))
    assert created.status_code == 200 and created.body.request_id

    # encryption, as the seed's script does it: the PEM read in text mode is the Plaintext
    content = (certs / "key.pem").read_text()
    assert 3000 < len(content) <= 6144 and "PRIVATE KEY" in content
    enc = tea.encrypt(m.EncryptRequest(key_id=SEED_ALIAS, plaintext=content,
                                       encryption_context=dict(CONTEXT))).body
    assert enc.key_id == meta.key_id
    assert enc.key_version_id == meta.primary_key_version
    decode_blob(enc.ciphertext_blob)
    (certs / "key.pem.cipher").write_text(enc.ciphertext_blob)

    # decryption: the blob alone finds the key; the same dict (in another order) opens it
    blob = (certs / "key.pem.cipher").read_text()
    assert "PRIVATE KEY" not in blob
    reordered = dict(reversed(list(CONTEXT.items())))
    dec = tea.decrypt(m.DecryptRequest(ciphertext_blob=blob, encryption_context=reordered)).body
    assert dec.key_id == meta.key_id
    assert dec.key_version_id == enc.key_version_id
    (certs / "decrypted_key.pem").write_text(dec.plaintext)
    assert (certs / "decrypted_key.pem").read_bytes() == (certs / "key.pem").read_bytes()

    # the context is bound: without it, or with another value, Decrypt is refused
    expect_client_exception(lambda: tea.decrypt(m.DecryptRequest(ciphertext_blob=blob)),
                            400, "InvalidParameter")
    other = {**CONTEXT, "purpose": "work key   backup/a*b~c=d"}  # '+' is not a space
    expect_client_exception(
        lambda: tea.decrypt(m.DecryptRequest(ciphertext_blob=blob, encryption_context=other)),
        400, "InvalidParameter")


def test_generate_data_key_and_decrypt_it(tea):
    meta = new_key(tea)
    alias = unique_alias("alias/tea/datakey")
    tea.create_alias(m.CreateAliasRequest(alias_name=alias, key_id=meta.key_id))

    gdk = tea.generate_data_key(m.GenerateDataKeyRequest(
        key_id=alias, number_of_bytes=32, encryption_context=dict(CONTEXT))).body
    assert gdk.key_id == meta.key_id and gdk.key_version_id == meta.primary_key_version
    data_key = base64.b64decode(gdk.plaintext, validate=True)
    assert len(data_key) == 32
    decode_blob(gdk.ciphertext_blob)
    dec = tea.decrypt(m.DecryptRequest(ciphertext_blob=gdk.ciphertext_blob,
                                       encryption_context=dict(CONTEXT))).body
    assert dec.plaintext == gdk.plaintext
    assert dec.key_id == meta.key_id

    # the sealed-only variant, with KeySpec instead of NumberOfBytes
    sealed = tea.generate_data_key_without_plaintext(m.GenerateDataKeyWithoutPlaintextRequest(
        key_id=meta.key_id, key_spec="AES_128")).body
    assert sealed.key_id == meta.key_id
    opened = tea.decrypt(m.DecryptRequest(ciphertext_blob=sealed.ciphertext_blob)).body
    assert len(base64.b64decode(opened.plaintext, validate=True)) == 16


def test_unknown_key_is_a_client_exception_forbidden_key_not_found(tea):
    exc = expect_client_exception(
        lambda: tea.encrypt(m.EncryptRequest(key_id="7d0a1c2e-0000-4000-8000-000000000000",
                                             plaintext="aGk=")),
        404, "Forbidden.KeyNotFound")
    assert "The specified Key is not found." in exc.message
    expect_client_exception(
        lambda: tea.describe_key(m.DescribeKeyRequest(key_id="alias/tea/no-such-alias")),
        404, "Forbidden.AliasNotFound")


def test_wrong_secret_is_signature_does_not_match(tea_server, signing):
    bad = tea_client(tea_server, signing, secret=ACCESS_KEY_SECRET + "x")
    exc = expect_client_exception(lambda: bad.list_keys(m.ListKeysRequest()),
                                  400, "SignatureDoesNotMatch")
    # the server's string to sign shows which scheme it verified: the SDK's own choice
    sts = exc.data["Message"].split("server string to sign is:", 1)[1]
    if signing == "v3":
        assert sts.startswith("ACS3-HMAC-SHA256\n"), sts
    else:
        assert sts.startswith("POST&%2F&"), sts
        assert "Action%3DListKeys" in sts, sts


def test_describe_list_and_update_alias(tea):
    rotating = new_key(tea, description="rotating key + spaces/é", enable_automatic_rotation=True,
                       rotation_interval="30d")
    assert rotating.automatic_rotation == "Enabled"
    described = tea.describe_key(m.DescribeKeyRequest(key_id=rotating.key_id)).body.key_metadata
    assert described.key_id == rotating.key_id
    assert described.automatic_rotation == "Enabled"
    assert described.rotation_interval == "2592000s"
    assert described.next_rotation_date
    assert described.description == "rotating key + spaces/é"
    assert described.arn == f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:key/{rotating.key_id}"

    other = new_key(tea, enable_automatic_rotation=False)
    assert other.automatic_rotation == "Disabled"

    # ListKeys, every page, finds both keys
    seen, page = set(), 1
    while True:
        body = tea.list_keys(m.ListKeysRequest(page_number=page, page_size=10)).body
        seen.update(k.key_id for k in body.keys.key)
        if page * body.page_size >= body.total_count:
            break
        page += 1
    assert {rotating.key_id, other.key_id} <= seen

    # CreateAlias on one key, UpdateAlias to the other: Encrypt through the alias follows it
    alias = unique_alias("alias/tea/moving")
    tea.create_alias(m.CreateAliasRequest(alias_name=alias, key_id=rotating.key_id))
    assert tea.encrypt(m.EncryptRequest(key_id=alias, plaintext="x")).body.key_id \
        == rotating.key_id
    updated = tea.update_alias(m.UpdateAliasRequest(alias_name=alias, key_id=other.key_id))
    assert updated.status_code == 200 and updated.body.request_id
    assert tea.describe_key(m.DescribeKeyRequest(key_id=alias)).body.key_metadata.key_id \
        == other.key_id
    assert tea.encrypt(m.EncryptRequest(key_id=alias, plaintext="x")).body.key_id == other.key_id
    by_key = tea.list_aliases_by_key_id(m.ListAliasesByKeyIdRequest(key_id=other.key_id)).body
    assert alias in [a.alias_name for a in by_key.aliases.alias]
