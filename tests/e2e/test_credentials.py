"""First start without OPENKMS_ROOT_ACCESS_KEY_*: a root AccessKey is generated into
root-credentials.json (mode 0600) and works; root.key is 0600 base64 text of 32 bytes.
Also the defaults a bare `openkms server` gives (region cn-hangzhou) and --region-id."""

import base64
import json
import signal

from e2ehelp import Kms, file_mode, sdk_client, server_env


def generated_credentials(server) -> tuple[str, str]:
    path = server.data_dir / "root-credentials.json"
    assert path.is_file(), f"no root-credentials.json in {sorted(p.name for p in server.data_dir.iterdir())}"
    assert file_mode(path) == 0o600, f"root-credentials.json has mode {oct(file_mode(path))}"
    creds = json.loads(path.read_text())
    ak, secret = creds.get("AccessKeyId"), creds.get("AccessKeySecret")
    assert isinstance(ak, str) and ak, creds.keys()
    assert isinstance(secret, str) and secret
    return ak, secret


def test_generated_root_credentials_work(start_server):
    server = start_server(env=server_env(credentials=False))
    ak, secret = generated_credentials(server)
    kms = Kms(server, sdk_client(server, ak=ak, secret=secret))
    key = kms.create_key()
    enc = kms.encrypt(key["KeyId"], "generated credentials")
    assert kms.decrypt(enc["CiphertextBlob"])["Plaintext"] == "generated credentials"
    # and nothing else is accepted
    wrong = Kms(server, sdk_client(server, ak=ak, secret=secret + "x"))
    wrong.error(wrong.encrypt_request(key["KeyId"], "x"), 400, "InvalidAccessKeySecret")


def test_generated_credentials_are_stable_across_restarts(start_server):
    first = start_server(env=server_env(credentials=False))
    creds = generated_credentials(first)
    key = Kms(first, sdk_client(first, *creds)).create_key()
    assert first.stop(signal.SIGTERM) == 0
    second = start_server(env=server_env(credentials=False), data_dir=first.data_dir)
    assert generated_credentials(second) == creds
    kms = Kms(second, sdk_client(second, *creds))
    assert kms.encrypt(key["KeyId"], "x")["KeyId"] == key["KeyId"]


def test_root_key_file_is_private_base64_of_32_bytes(start_server):
    server = start_server(env=server_env(credentials=False))
    root_key = server.data_dir / "root.key"
    assert root_key.is_file()
    assert file_mode(root_key) == 0o600, f"root.key has mode {oct(file_mode(root_key))}"
    text = root_key.read_bytes()
    assert text.endswith(b"\n") and text.count(b"\n") == 1, text[:8] + b"..."
    assert len(base64.b64decode(text.strip(), validate=True)) == 32


def test_env_credentials_do_not_write_a_credentials_file(start_server):
    server = start_server()
    assert not (server.data_dir / "root-credentials.json").exists()


def test_defaults_region_and_account_are_consistent(start_server):
    server = start_server(env=server_env(credentials=False))
    kms = Kms(server, sdk_client(server, *generated_credentials(server)))
    meta = kms.create_key()
    prefix, _, key_part = meta["Arn"].rpartition(":")
    acs, service, region, account = prefix.split(":")
    assert (acs, service, region) == ("acs", "kms", "cn-hangzhou")
    assert account and account == meta["Creator"]
    assert key_part == f"key/{meta['KeyId']}"


def test_region_id_flag(start_server):
    server = start_server(args=["--region-id", "cn-shanghai", "--account-id", "1111222233334444"])
    kms = Kms(server, sdk_client(server, region="cn-shanghai"))
    meta = kms.create_key()
    assert meta["Arn"] == f"acs:kms:cn-shanghai:1111222233334444:key/{meta['KeyId']}"
    assert kms.encrypt(meta["Arn"], "x")["KeyId"] == meta["KeyId"]
