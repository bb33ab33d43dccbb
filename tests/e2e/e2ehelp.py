"""Helpers for the openkms end-to-end suite.

What lives here:
  * ``OpenKms``: one ``openkms server`` process on 127.0.0.1:0 (start, wait for the ready
    line, stop gracefully, SIGKILL);
  * the store: embedded SQLite in the data dir, or, when $OPENKMS_E2E_DATABASE_URL is set (an
    admin URL such as postgres://postgres@127.0.0.1:5432/test), a fresh PostgreSQL database
    per data dir (``CREATE DATABASE openkms_e2e_<random>`` through ``psql``), passed as
    ``--database-url`` and dropped when the fixture that owns the server is done with it;
  * a small RPC V1 (HMAC-SHA1) signer, spec section 2.2, for requests the SDK cannot make
    (stale timestamps, replayed nonces, form bodies, '+' for space);
  * ``Kms``: the official old Python SDK (aliyunsdkcore + aliyunsdkkms) pointed at a server,
    with the seed operations and an error helper that checks the whole error envelope;
    ``sdk_request`` builds the SDK's own request class for any other operation;
  * RAM through aliyunsdkram (``ram_request``), and RAM users with policies and an AccessKey
    (``new_ram_user``) for the authorization tests;
  * the seed's own scripts (shared/seeds/000_*), as written, for the seed-workflow tests.

Every wait here is bounded; nothing sleeps to make an assertion true.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
import hmac
import atexit
import importlib
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.http import protocol_type as PT
from aliyunsdkkms.request.v20160120 import DecryptRequest, EncryptRequest

# ---------------------------------------------------------------------------------------
# constants

ROOT_AK_ENV = "OPENKMS_ROOT_ACCESS_KEY_ID"
ROOT_SECRET_ENV = "OPENKMS_ROOT_ACCESS_KEY_SECRET"

# The root AccessKey the suite hands to every server it starts with credentials from env.
ACCESS_KEY_ID = "LTAI5tOpenkmsE2eRoot0001"
ACCESS_KEY_SECRET = "E2eSecretE2eSecretE2eSecret012"
ACCOUNT_ID = "1234567890123456"
REGION_ID = "cn-hangzhou"
API_VERSION = "2016-01-20"

READY_TIMEOUT = 60.0  # debug build, first start generates a CA and a root key
STOP_TIMEOUT = 20.0
HTTP_TIMEOUT = 20.0

READY_RE = re.compile(r"^openkms: ready on (https?)://127\.0\.0\.1:(\d+)$")
# the line after the ready line while the web console is on (the default; `--console off`)
CONSOLE_RE = re.compile(r"^openkms: console on (https?://127\.0\.0\.1:\d+/console/)$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
B64_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
ERROR_ENVELOPE = ("RequestId", "HostId", "Code", "Message", "Recommend")


# ---------------------------------------------------------------------------------------
# the store: SQLite in the data dir, or one fresh PostgreSQL database per data dir

E2E_DATABASE_ENV = "OPENKMS_E2E_DATABASE_URL"
PSQL_TIMEOUT = 30.0


def postgres_admin_url() -> str | None:
    """$OPENKMS_E2E_DATABASE_URL: every server of the suite gets a database there."""
    return os.environ.get(E2E_DATABASE_ENV) or None


def on_postgres() -> bool:
    return postgres_admin_url() is not None


def skip_on_postgres(reason: str) -> None:
    """For the few tests that mean nothing on PostgreSQL (say why)."""
    if on_postgres():
        pytest.skip(f"not run on PostgreSQL ({E2E_DATABASE_ENV} is set): {reason}")


def redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/" + name))


def psql(url: str, sql: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
    return subprocess.run(["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=PSQL_TIMEOUT, env=env)


_databases: dict[str, str] = {}  # resolved data dir -> database name
_databases_lock = threading.Lock()


def _data_dir_key(data_dir) -> str:
    return str(Path(data_dir).resolve())


def database_url_for(data_dir) -> str | None:
    """The --database-url for a server on ``data_dir``: None on SQLite; on PostgreSQL the
    data dir's own database, created on first use (a restart on the same data dir reuses it,
    as a restart of a real deployment keeps its database)."""
    admin = postgres_admin_url()
    if admin is None:
        return None
    key = _data_dir_key(data_dir)
    with _databases_lock:
        name = _databases.get(key)
        if name is None:
            name = f"openkms_e2e_{secrets.token_hex(6)}"
            made = psql(admin, f"CREATE DATABASE {name}")
            if made.returncode != 0:
                raise AssertionError(f"{E2E_DATABASE_ENV}={redact(admin)}: CREATE DATABASE {name} "
                                     f"failed: {made.stderr.strip()}")
            _databases[key] = name
    return with_database(admin, name)


def release_database(data_dir) -> None:
    """Drop the data dir's database (if it has one); call once its server is stopped for
    the last time."""
    admin = postgres_admin_url()
    with _databases_lock:
        name = _databases.pop(_data_dir_key(data_dir), None)
    if admin is None or name is None:
        return
    try:
        dropped = psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except subprocess.TimeoutExpired:
        warnings.warn(f"DROP DATABASE {name} did not finish within {PSQL_TIMEOUT}s")
        return
    if dropped.returncode != 0:
        warnings.warn(f"could not drop the test database {name}: {dropped.stderr.strip()}")


@atexit.register
def _release_all_databases() -> None:
    """Whatever a fixture did not release (an interrupted run) goes at exit."""
    for key in list(_databases):
        release_database(key)


def with_database_url(args, data_dir) -> list:
    """``args`` plus the data dir's --database-url on PostgreSQL (unless given already)."""
    args = list(args)
    if "--database-url" in args or any(str(a).startswith("--database-url=") for a in args):
        return args
    url = database_url_for(data_dir)
    return args + ["--database-url", url] if url else args


# ---------------------------------------------------------------------------------------
# the server process


class ServerStartError(AssertionError):
    """openkms did not print its ready line."""


def openkms_binary() -> Path:
    """The binary under test: $OPENKMS_BIN, else target/debug/openkms of this checkout."""
    env = os.environ.get("OPENKMS_BIN")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "target" / "debug" / "openkms"


def server_env(credentials: bool = True, extra: dict | None = None) -> dict:
    """The environment for a server: the suite's root AccessKey, or none (generated)."""
    # hermetic: no OPENKMS_* setting of the caller's (data dir, listen, TLS, ...) leaks in
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENKMS_")}
    env.setdefault("RUST_BACKTRACE", "1")
    if credentials:
        env[ROOT_AK_ENV] = ACCESS_KEY_ID
        env[ROOT_SECRET_ENV] = ACCESS_KEY_SECRET
    env.update(extra or {})
    return env


def tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return text[-limit:]


@dataclass
class OpenKms:
    """One ``openkms server`` process. Stdout carries the ready line; stderr goes to a log."""

    data_dir: Path
    log_path: Path
    args: list = field(default_factory=list)
    env: dict = field(default_factory=server_env)
    binary: Path = field(default_factory=openkms_binary)
    proc: subprocess.Popen | None = None
    scheme: str = ""
    port: int = 0
    console_url: str | None = None
    _lines: queue.Queue = field(default_factory=queue.Queue)

    def command(self) -> list:
        return [str(self.binary), "server", "--data-dir", str(self.data_dir),
                "--listen", "127.0.0.1:0", *with_database_url(self.args, self.data_dir)]

    def start(self, timeout: float = READY_TIMEOUT) -> "OpenKms":
        if not self.binary.is_file():
            raise ServerStartError(f"openkms binary not found at {self.binary}; "
                                   "build it (cargo build --locked -p openkms) or set OPENKMS_BIN")
        self._lines = queue.Queue()
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=log, env=self.env)
        finally:
            log.close()
        # The thread is handed this start's own queue: a previous start's thread may still be
        # reading its server's last output, and must not put its end-of-output in this one's.
        threading.Thread(target=self._drain_stdout, args=(self.proc, self._lines),
                         daemon=True).start()
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise ServerStartError(f"no ready line within {timeout}s; stderr:\n{tail(self.log_path)}")
        if line is None:
            try:
                code = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerStartError("openkms closed its output without a ready line and "
                                       f"did not exit; stderr:\n{tail(self.log_path)}")
            raise ServerStartError(f"openkms exited with {code} before its ready line; "
                                   f"stderr:\n{tail(self.log_path)}")
        match = READY_RE.match(line)
        if not match:
            self.kill()
            raise ServerStartError(f"first stdout line is not the ready line: {line!r}")
        self.scheme, self.port = match.group(1), int(match.group(2))
        self.console_url = self._console_line()
        return self

    def _console_line(self) -> str | None:
        """The console's address from the line after the ready line (printed at once after
        it), unless the server runs with ``--console off``."""
        if "--console" in self.args and "off" in self.args:
            return None
        try:
            line = self._lines.get(timeout=10)
        except queue.Empty:
            return None
        match = CONSOLE_RE.match(line or "")
        return match.group(1) if match else None

    @staticmethod
    def _drain_stdout(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def protocol(self) -> str:
        """The SDK's own protocol constant: aliyunsdkcore tests it with `is`, so a "https"
        that is merely equal (say, from a regex match) would silently send plain HTTP."""
        return PT.HTTPS if self.scheme == "https" else PT.HTTP

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    @property
    def verify(self):
        """What to hand to an HTTP client as ``verify``."""
        return str(self.ca_path) if self.scheme == "https" else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Send ``sig`` and wait for the exit code; SIGKILL if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
                raise AssertionError(f"openkms ignored signal {sig} for {timeout}s; "
                                     f"stderr:\n{tail(self.log_path)}")
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)


def new_server(tmp_path_factory, name: str, args=(), env=None, data_dir=None) -> OpenKms:
    """An OpenKms (not started) in a fresh tmp dir ``name``: data dir and server.log there."""
    base = tmp_path_factory.mktemp(name)
    return OpenKms(data_dir=data_dir or base / "data", log_path=base / "server.log",
                   args=list(args), env=env if env is not None else server_env())


def own_kms(tmp_path_factory, name: str):
    """For a module-scoped fixture (``yield from own_kms(...)``): a ``Kms`` on a server of the
    module's own (--account-id set), so listings, counts and pages are exact; stopped after."""
    srv = new_server(tmp_path_factory, name, args=["--account-id", ACCOUNT_ID]).start()
    yield Kms(srv)
    srv.stop()
    release_database(srv.data_dir)


def stop_or_fail(srv: OpenKms, died_message: str) -> None:
    """Stop a fixture's server; fail the run if it had died before (with its stderr)."""
    died = not srv.running()
    srv.stop()
    release_database(srv.data_dir)
    if died:
        pytest.fail(f"{died_message} (exit {srv.proc.returncode}); "
                    f"stderr:\n{tail(srv.log_path)}")


def dropped_connection(server: "OpenKms", what: str, err: Exception) -> AssertionError:
    """A request that got no HTTP response at all: say so, with the server's last panic."""
    state = "running" if server.running() else f"exited {server.proc.returncode}"
    log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    panics = [line for line in log.splitlines() if "panicked at" in line]
    detail = ""
    if panics:
        idx = log.splitlines().index(panics[-1])
        detail = "\n".join(log.splitlines()[idx:idx + 2])
    return AssertionError(f"{what}: no HTTP response ({err}); server {state}; "
                          f"last panic in {server.log_path}:\n{detail or '<none>'}")


def run_expecting_failure(binary: Path, data_dir: Path, env: dict, timeout: float = 30.0,
                          args=()):
    """Start ``openkms server`` (with extra ``args``) that is expected to refuse to start.
    Returns (code, stdout, stderr)."""
    cmd = [str(binary), "server", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0",
           *with_database_url(args, data_dir)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=STOP_TIMEOUT)
        raise AssertionError(f"openkms kept running for {timeout}s instead of refusing to start; "
                             f"stdout={out.decode(errors='replace')!r}")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# RPC signature V1 (spec section 2.2)


def percent_encode(value: str) -> str:
    """RFC 3986: keep A-Z a-z 0-9 - _ . ~, every other UTF-8 byte as %XX (uppercase)."""
    return urllib.parse.quote(value.encode("utf-8"), safe="-_.~")


def canonical_query(params: dict) -> str:
    """Sorted by raw (decoded) name, then encoded, as every SDK signs (spec section 2.2)."""
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def v1_string_to_sign(method: str, params: dict) -> str:
    return method.upper() + "&" + percent_encode("/") + "&" + percent_encode(canonical_query(params))


def v1_signature(string_to_sign: str, secret: str) -> str:
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def utc_timestamp(offset: dt.timedelta = dt.timedelta(0)) -> str:
    now = dt.datetime.now(dt.timezone.utc) + offset
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def common_params(action: str, access_key_id: str = ACCESS_KEY_ID, *, timestamp: str | None = None,
                  nonce: str | None = None) -> dict:
    """The common parameters the old Python SDK sends (spec section 2.1)."""
    return {
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": timestamp or utc_timestamp(),
        "SignatureType": "",
        "RegionId": REGION_ID,
    }


def encode_query(params: dict, plus_for_space: bool = False) -> str:
    if plus_for_space:
        return urllib.parse.urlencode(params, quote_via=urllib.parse.quote_plus)
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())


@dataclass
class RawReply:
    status: int
    body: bytes
    string_to_sign: str

    def json(self) -> dict:
        return json.loads(self.body)


def signed_request(server: OpenKms, action: str, params: dict | None = None, *,
                   form: dict | None = None, method: str = "POST",
                   access_key_id: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET,
                   timestamp: str | None = None, nonce: str | None = None,
                   plus_for_space: bool = False) -> RawReply:
    """Sign with V1 over query + form body, send with ``requests``."""
    query = common_params(action, access_key_id, timestamp=timestamp, nonce=nonce)
    query.update(params or {})
    sts = v1_string_to_sign(method, {**query, **(form or {})})
    query["Signature"] = v1_signature(sts, secret)
    return send_raw(server, method, query, form=form, plus_for_space=plus_for_space,
                    string_to_sign=sts)


def send_raw(server: OpenKms, method: str, query: dict, *, form: dict | None = None,
             plus_for_space: bool = False, string_to_sign: str = "") -> RawReply:
    url = f"{server.url}/?{encode_query(query, plus_for_space)}" if query else f"{server.url}/"
    # JSON replies even where the query has no Format (the server's default is XML, as
    # Alibaba's): what the Tea SDK sends too
    headers = {"x-acs-action": query.get("Action", ""), "x-acs-version": API_VERSION,
               "Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode("ascii")  # quote_plus: space -> '+'
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    verify = server.verify if server.verify else True
    try:
        resp = requests.request(method, url, data=data, headers=headers, verify=verify,
                                timeout=HTTP_TIMEOUT, allow_redirects=False)
    except requests.ConnectionError as err:
        raise dropped_connection(server, f"{method} {query.get('Action', '/')}", err) from None
    return RawReply(resp.status_code, resp.content, string_to_sign)


# ---------------------------------------------------------------------------------------
# error envelope


def assert_error_envelope(status: int, body: bytes) -> dict:
    """Every error: 4xx (never 5xx), JSON with RequestId, HostId, Code, Message, Recommend."""
    assert 400 <= status < 500, f"expected a 4xx error, got HTTP {status}: {body[:500]!r}"
    try:
        obj = json.loads(body)
    except ValueError:
        raise AssertionError(f"error body is not JSON (HTTP {status}): {body[:500]!r}") from None
    assert isinstance(obj, dict), f"error body is not a JSON object: {obj!r}"
    missing = [k for k in ERROR_ENVELOPE if k not in obj]
    assert not missing, f"error body lacks {missing}: {obj!r}"
    for k in ERROR_ENVELOPE:
        assert isinstance(obj[k], str), f"error member {k} is not a string: {obj!r}"
    for k in ("RequestId", "Code", "Message"):
        assert obj[k], f"error member {k} is empty: {obj!r}"
    return obj


def assert_raw_error(reply: RawReply, status: int, code: str) -> dict:
    obj = assert_error_envelope(reply.status, reply.body)
    assert (reply.status, obj["Code"]) == (status, code), \
        f"expected HTTP {status} {code}, got HTTP {reply.status} {obj['Code']}: {obj['Message']!r}"
    return obj


@dataclass
class ErrorReply:
    """What the SDK raised (``exc``) and the raw body the server sent (``body``)."""

    exc: ServerException
    status: int
    body: dict

    @property
    def code(self) -> str:
        return self.exc.get_error_code()

    @property
    def message(self) -> str:
        return self.exc.get_error_msg()


# ---------------------------------------------------------------------------------------
# the official SDK


def sdk_client(server: OpenKms, ak: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET,
               *, port: int | None = None, region: str = REGION_ID,
               verify: str | None = None) -> AcsClient:
    """An AcsClient for ``server``: its port, its private CA, no automatic retries."""
    return AcsClient(ak, secret, region, port=server.port if port is None else port,
                     verify=verify or server.verify, auto_retry=False)


def expect_sdk_error(client: AcsClient, req, status: int, code: str,
                     server: OpenKms | None = None) -> ErrorReply:
    """Send ``req`` as do_action_with_exception does; expect ServerException(code, status)
    and check the raw body's envelope too."""
    req.set_accept_format("JSON")
    try:
        http_status, _headers, body, exc = client._implementation_of_do_action(req)
    except IndexError as e:  # aliyunsdkcore's message.split(':')[1] on SignatureDoesNotMatch
        raise AssertionError(f"the SDK crashed with IndexError ({e}): a SignatureDoesNotMatch "
                             "message must contain 'server string to sign is:<sts>'") from None
    except ClientException as e:
        if server is None:
            raise
        raise dropped_connection(server, req.get_action_name(), e) from None
    assert exc is not None, f"expected HTTP {status} {code}, got HTTP {http_status}: {body[:500]!r}"
    assert isinstance(exc, ServerException), f"expected ServerException, got {exc!r}"
    obj = assert_error_envelope(http_status, body)
    got = (exc.get_http_status(), exc.get_error_code())
    assert got == (status, code), \
        f"expected HTTP {status} {code}, got HTTP {got[0]} {got[1]}: {exc.get_error_msg()!r}"
    assert exc.get_request_id(), "ServerException without RequestId"
    return ErrorReply(exc, http_status, obj)


class Kms:
    """The old SDK pointed at one server; the seed operations plus an error helper."""

    def __init__(self, server: OpenKms, client: AcsClient | None = None):
        self.server = server
        self.client = client or sdk_client(server)

    def prepare(self, req):
        req.set_endpoint("127.0.0.1")
        req.set_protocol_type(self.server.protocol)
        req.set_accept_format("JSON")
        return req

    def call(self, req) -> dict:
        self.prepare(req)
        try:
            body = self.client.do_action_with_exception(req)
        except ServerException as exc:
            raise AssertionError(f"{req.get_action_name()} failed: HTTP {exc.get_http_status()} "
                                 f"{exc.get_error_code()}: {exc.get_error_msg()}") from None
        except ClientException as exc:
            raise dropped_connection(self.server, req.get_action_name(), exc) from None
        obj = json.loads(body)
        assert isinstance(obj, dict) and obj.get("RequestId"), f"no RequestId in {obj!r}"
        return obj

    def error(self, req, status: int, code: str) -> ErrorReply:
        """Send ``req``, expect the SDK to raise ServerException(code, status)."""
        return expect_sdk_error(self.client, self.prepare(req), status, code, self.server)

    # -- the seed operations ------------------------------------------------------------

    def create_key_request(self, **params):
        return sdk_request("CreateKey", **params)

    def create_key(self, **params) -> dict:
        return self.call(self.create_key_request(**params))["KeyMetadata"]

    def create_alias_request(self, alias: str, key_id: str):
        return sdk_request("CreateAlias", AliasName=alias, KeyId=key_id)

    def create_alias(self, alias: str, key_id: str) -> dict:
        return self.call(self.create_alias_request(alias, key_id))

    def encrypt_request(self, key_id: str | None, plaintext: str | None,
                        context: str | None = None, method: str | None = None):
        return _set_given(EncryptRequest.EncryptRequest(), method, KeyId=key_id,
                          Plaintext=plaintext, EncryptionContext=context)

    def encrypt(self, key_id: str, plaintext: str, context: str | None = None,
                method: str | None = None) -> dict:
        return self.call(self.encrypt_request(key_id, plaintext, context, method))

    def decrypt_request(self, blob: str | None, context: str | None = None,
                        method: str | None = None):
        return _set_given(DecryptRequest.DecryptRequest(), method, CiphertextBlob=blob,
                          EncryptionContext=context)

    def decrypt(self, blob: str, context: str | None = None, method: str | None = None) -> dict:
        return self.call(self.decrypt_request(blob, context, method))


def sdk_request(action: str, **params):
    """The SDK's own request class for ``action`` with ``set_<Name>(value)`` for each param."""
    mod = importlib.import_module(f"aliyunsdkkms.request.v20160120.{action}Request")
    req = getattr(mod, f"{action}Request")()
    for name, value in params.items():
        getattr(req, f"set_{name}")(value)
    return req


def _set_given(req, method: str | None = None, **params):
    """``set_<Name>(value)`` for each param that is not None; the HTTP method if given."""
    for name, value in params.items():
        if value is not None:
            getattr(req, f"set_{name}")(value)
    if method:
        req.set_method(method)
    return req


def audit_line(server: OpenKms, request_id: str) -> dict:
    """The server's audit line of ``request_id`` (written before the reply was sent)."""
    path = server.data_dir / "audit" / "audit.log"
    assert path.is_file(), f"the server writes no audit log at {path}"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # Event lines (flood summaries, gaps, prunes; docs/audit.md) belong to no request.
    found = [line for line in lines if line.get("request_id") == request_id]
    assert len(found) == 1, f"{len(found)} audit lines for RequestId {request_id}"
    return found[0]


def describe(kms: Kms, key_id: str) -> dict:
    """DescribeKey's KeyMetadata."""
    return kms.call(sdk_request("DescribeKey", KeyId=key_id))["KeyMetadata"]


def paged(reply: dict) -> dict:
    """A List* reply whose PageNumber, PageSize and TotalCount are JSON integers."""
    for name in ("PageNumber", "PageSize", "TotalCount"):
        assert type(reply[name]) is int, f"{name} is not a JSON integer: {reply[name]!r}"
    return reply


# ---------------------------------------------------------------------------------------
# RAM (2015-05-01) through aliyunsdkram: users, their AccessKeys, policies


def ram_request(action: str, **params):
    """aliyunsdkram's own request class for ``action`` with ``set_<Name>(value)`` per param;
    send it with ``Kms.call``/``Kms.error`` (same endpoint, port and CA as the KMS ones)."""
    mod = importlib.import_module(f"aliyunsdkram.request.v20150501.{action}Request")
    return _set_given(getattr(mod, f"{action}Request")(), **params)


def unique_name(prefix: str = "e2e") -> str:
    """A fresh name valid as a RAM user name and as a policy name (letters, digits, '-')."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def policy_document(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def statement(action, resource, effect: str = "Allow", condition: dict | None = None) -> dict:
    st = {"Effect": effect, "Action": action, "Resource": resource}
    if condition is not None:
        st["Condition"] = condition
    return st


@dataclass
class RamUser:
    """A RAM user made by root, with one AccessKey; ``kms`` is the old SDK signing with it."""

    name: str
    access_key_id: str
    secret: str
    kms: Kms
    policies: list  # the custom policies made for it, in the order of ``documents``


def new_ram_user(root: Kms, prefix: str = "e2e", *, documents=(), system=(),
                 name: str | None = None) -> RamUser:
    """As root: CreateUser (``name``, else a fresh one), a custom policy per document
    (attached), the named System policies (attached), then CreateAccessKey."""
    name = name or unique_name(prefix)
    root.call(ram_request("CreateUser", UserName=name))
    custom = []
    for doc in documents:
        policy = unique_name("policy")
        root.call(ram_request("CreatePolicy", PolicyName=policy, PolicyDocument=doc))
        attach(root, name, policy)
        custom.append(policy)
    for policy in system:
        attach(root, name, policy, "System")
    ak = root.call(ram_request("CreateAccessKey", UserName=name))["AccessKey"]
    client = sdk_client(root.server, ak["AccessKeyId"], ak["AccessKeySecret"])
    return RamUser(name, ak["AccessKeyId"], ak["AccessKeySecret"], Kms(root.server, client),
                   custom)


def attach(root: Kms, user: str, policy: str, policy_type: str = "Custom") -> dict:
    return root.call(ram_request("AttachPolicyToUser", PolicyType=policy_type,
                                 PolicyName=policy, UserName=user))


def detach(root: Kms, user: str, policy: str, policy_type: str = "Custom") -> dict:
    return root.call(ram_request("DetachPolicyFromUser", PolicyType=policy_type,
                                 PolicyName=policy, UserName=user))


# ---------------------------------------------------------------------------------------
# the seed's own scripts (shared/seeds/000_*)


def seed_certs(server: OpenKms, tmp_path: Path, monkeypatch, pem: str) -> None:
    """The seed's working directory: ./certs/key.pem in ``tmp_path`` (the cwd from now on),
    and the server's private CA through the SDK's documented ALIBABA_CLOUD_CA_BUNDLE."""
    monkeypatch.setenv("ALIBABA_CLOUD_CA_BUNDLE", str(server.ca_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "certs").mkdir()
    with open("./certs/key.pem", "w") as f:
        f.write(pem)


def seed_script(clt: AcsClient, endpoint: str) -> SimpleNamespace:
    """The seed's functions as written (the client is the script's global ``clt``); the
    endpoint (``https://127.0.0.1:<port>``) is the only change."""

    def KmsEncrypt(client, plaintext, key_alias):
        request = EncryptRequest.EncryptRequest()
        request.set_accept_format('JSON')
        request.set_endpoint(endpoint)
        request.set_KeyId(key_alias)
        request.set_Plaintext(plaintext)
        response = json.loads(clt.do_action(request))
        return response.get("CiphertextBlob")

    def KmsDecrypt(client, ciphertext):
        request = DecryptRequest.DecryptRequest()
        request.set_accept_format('JSON')
        request.set_endpoint(endpoint)
        request.set_CiphertextBlob(ciphertext)
        response = json.loads(clt.do_action(request))
        return response.get("Plaintext")

    def ReadTextFile(in_file):
        file = open(in_file, 'r')
        content = file.read()
        file.close()
        return content

    def WriteTextFile(out_file, content):
        file = open(out_file, 'w')
        file.write(content)
        file.close()

    return SimpleNamespace(KmsEncrypt=KmsEncrypt, KmsDecrypt=KmsDecrypt,
                           ReadTextFile=ReadTextFile, WriteTextFile=WriteTextFile)


# ---------------------------------------------------------------------------------------
# small utilities


def epoch(date: str) -> int:
    """Seconds since the epoch of a ``YYYY-MM-DDTHH:MM:SSZ`` date (and it must be one)."""
    assert DATE_RE.match(date), f"not a YYYY-MM-DDTHH:MM:SSZ date: {date!r}"
    return calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%SZ"))


def key_arn(key_id: str) -> str:
    return f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:key/{key_id}"


def alias_arn(name: str) -> str:
    return f"acs:kms:{REGION_ID}:{ACCOUNT_ID}:{name}"


def unique_alias(prefix: str = "alias/e2e") -> str:
    return f"{prefix}/{uuid.uuid4().hex}"


def decode_blob(blob: str) -> bytes:
    """CiphertextBlob must be standard base64 with padding."""
    assert isinstance(blob, str) and blob, f"CiphertextBlob is not a non-empty string: {blob!r}"
    assert B64_RE.match(blob), f"CiphertextBlob is not standard padded base64: {blob!r}"
    return base64.b64decode(blob, validate=True)


def encode_blob(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def make_rsa_pem(bits: int = 4096) -> str:
    """A fresh RSA private key in PEM (PKCS#8, as `openssl genrsa` writes it). Never committed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem.decode("ascii")


def file_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
