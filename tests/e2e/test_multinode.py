"""Several ``openkms server`` nodes on one PostgreSQL database, driven through the old SDK.

One fresh database per module (``CREATE DATABASE openkms_e2e_<random>`` through ``psql``,
dropped at the end), three nodes on it sharing one root key (``OPENKMS_ROOT_KEY``) and one TLS
certificate for 127.0.0.1 made here, as docs/deploy.md describes. Each node has its own data
dir. The admin connection is ``OPENKMS_TEST_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/test``, as the Rust conformance suite). If PostgreSQL
cannot be reached the module fails when ``CI`` is set and is skipped, saying why, otherwise.

What is checked: cross-node use at once; DisableKey/EnableKey through one node honoured by the
others within one second (measured, bounded polling); a replayed SignatureNonce refused at
another node (also when the copies race); a node with another root key refuses to start;
SIGKILL of a node mid-load while the others keep answering; concurrent CreateKeyVersion
through two nodes leaves one consistent key.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import aliyunsdkcore.utils.parameter_helper as parameter_helper
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException

from e2ehelp import (
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    PSQL_TIMEOUT,
    Kms,
    OpenKms,
    assert_raw_error,
    common_params,
    describe,
    epoch,
    paged,
    psql,
    redact,
    run_expecting_failure,
    send_raw,
    server_env,
    stop_or_fail,
    tail,
    unique_alias,
    v1_signature,
    v1_string_to_sign,
    with_database,
)
from e2ehelp import sdk_request as make

ADMIN_URL_ENV = "OPENKMS_TEST_DATABASE_URL"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"

HONOUR_WITHIN = 1.0   # seconds: a change through one node is honoured by the others
POLL_LIMIT = 1.5      # seconds: how long the other nodes are watched (bounded)
POLL_PACE = 0.01      # seconds between two probes of one node (pacing, not an assertion)
POOL_SIZE = "8"       # per node: 4 nodes at most stay far below max_connections

ROOT_KEY_MENTION = re.compile(r"root[\s._-]*key", re.IGNORECASE)


# ---------------------------------------------------------------------------------------
# the database


def in_ci() -> bool:
    value = os.environ.get("CI", "")
    return bool(value) and value != "0" and value.lower() != "false"


def postgres_unavailable(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    if shutil.which("psql") is None:
        return "psql is not installed"
    try:
        probe = psql(admin_url, "SELECT 1")
    except subprocess.TimeoutExpired:
        return f"psql did not answer within {PSQL_TIMEOUT}s"
    if probe.returncode != 0:
        return " ".join(probe.stderr.split()) or f"psql exited {probe.returncode}"
    return None


@pytest.fixture(scope="module")
def database_url():
    """A fresh, empty database for this module; dropped at the end."""
    admin = os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)
    reason = postgres_unavailable(admin)
    if reason is not None:
        msg = f"PostgreSQL not reachable at {redact(admin)} ({reason})"
        if in_ci():
            pytest.fail(f"CI is set but {msg}: the multi-node tests cannot run", pytrace=False)
        pytest.skip(f"{msg}: multi-node tests NOT run (set {ADMIN_URL_ENV} to run them)")
    name = f"openkms_e2e_{secrets.token_hex(6)}"
    made = psql(admin, f"CREATE DATABASE {name}")
    assert made.returncode == 0, f"CREATE DATABASE {name} failed: {made.stderr}"
    try:
        yield with_database(admin, name)
    finally:
        dropped = psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if dropped.returncode != 0:
            warnings.warn(f"could not drop the test database {name}: {dropped.stderr.strip()}")


# ---------------------------------------------------------------------------------------
# one TLS certificate for every node


@dataclass
class Tls:
    ca: Path
    cert: Path
    key: Path


def make_tls(directory: Path) -> Tls:
    """A private CA and a server certificate for 127.0.0.1 signed by it (ECDSA P-256)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openkms e2e multi-node CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    tls.ca.write_bytes(ca.public_bytes(pem))
    tls.cert.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    tls.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    tls.key.chmod(0o600)
    return tls


# ---------------------------------------------------------------------------------------
# the nodes


@dataclass
class Node(OpenKms):
    """An OpenKms whose clients trust the shared CA instead of a per-node generated one."""

    name: str = ""
    ca_file: Path | None = None

    @property
    def ca_path(self) -> Path:
        return self.ca_file if self.ca_file is not None else self.data_dir / "tls" / "ca.pem"


class Cluster:
    """Nodes on one database with one root key and one certificate."""

    def __init__(self, tmp_path_factory, database_url: str):
        self.tmp = tmp_path_factory
        self.database_url = database_url
        self.root_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        self.tls = make_tls(tmp_path_factory.mktemp("multinode-tls"))
        self.nodes: list[Node] = []      # A, B, C: they must live to the end of the module
        self.extra: list[Node] = []      # started by single tests (may be killed)

    def node_args(self) -> list:
        return ["--database-url", self.database_url, "--account-id", ACCOUNT_ID,
                "--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key),
                "--database-pool-size", POOL_SIZE]

    def node_env(self, root_key: str | None = "same") -> dict:
        extra = {}
        if root_key == "same":
            extra["OPENKMS_ROOT_KEY"] = self.root_key
        elif root_key is not None:
            extra["OPENKMS_ROOT_KEY"] = root_key
        return server_env(extra=extra)

    def new_node(self, name: str) -> Node:
        base = self.tmp.mktemp(f"node-{name}")
        return Node(data_dir=base / "data", log_path=base / "server.log", args=self.node_args(),
                    env=self.node_env(), name=name, ca_file=self.tls.ca)

    def start_extra(self, name: str) -> Node:
        node = self.new_node(name)
        self.extra.append(node)
        return node.start()

    def start_core(self, names) -> None:
        """Start nodes at the same time (migrations and first-start setup race on purpose)."""
        nodes = [self.new_node(n) for n in names]
        self.nodes.extend(nodes)
        errors: list = []

        def start(node):
            try:
                node.start()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(f"node {node.name}: {e}")

        threads = [threading.Thread(target=start, args=(n,), daemon=True) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a node start did not return in 120s"
        assert not errors, "nodes started together against one empty database:\n" + \
            "\n".join(errors)

    def shutdown(self) -> None:
        for node in self.extra:
            if node.running():
                node.kill()
        died = [n for n in self.nodes if n.proc is not None and not n.running()]
        for node in self.nodes:
            if node.running():
                node.stop(signal.SIGTERM)
        if died:
            n = died[0]
            stop_or_fail(n, f"node {n.name} died during the module")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, database_url):
    c = Cluster(tmp_path_factory, database_url)
    try:
        c.start_core(["A", "B", "C"])
        yield c
    finally:
        c.shutdown()


@pytest.fixture
def nodes(cluster) -> list:
    return cluster.nodes


def try_call(kms: Kms, req):
    """None when ``req`` succeeds, else (HTTP status, error code, message)."""
    kms.prepare(req)
    try:
        kms.client.do_action_with_exception(req)
    except ServerException as exc:
        return (exc.get_http_status(), exc.get_error_code(), exc.get_error_msg())
    return None


# ---------------------------------------------------------------------------------------
# (1) a key created through one node is usable through the others at once


def test_key_created_on_one_node_is_usable_on_the_others_at_once(nodes):
    a, b, c = (Kms(n) for n in nodes)
    key = a.create_key()
    kid = key["KeyId"]
    enc = a.encrypt(kid, "made on A", '{"n":"1"}')
    dec = b.decrypt(enc["CiphertextBlob"], '{"n":"1"}')
    assert (dec["KeyId"], dec["KeyVersionId"], dec["Plaintext"]) == \
        (kid, key["PrimaryKeyVersion"], "made on A")
    assert describe(c, kid)["KeyState"] == "Enabled"

    alias = unique_alias("alias/multinode")
    b.create_alias(alias, kid)
    enc_c = c.encrypt(alias, "via an alias made on B")
    assert (enc_c["KeyId"], enc_c["KeyVersionId"]) == (kid, key["PrimaryKeyVersion"])
    assert a.decrypt(enc_c["CiphertextBlob"])["Plaintext"] == "via an alias made on B"
    # the alias name is taken everywhere
    a.error(a.create_alias_request(alias, kid), 400, "AliasAlreadyExists")


# ---------------------------------------------------------------------------------------
# (2) a state change through one node is honoured by the others within one second


def watch(watchers: dict, probe, wanted, since: float) -> dict:
    """``probe(kms)`` through every watched node until ``wanted(outcome)``, for at most
    POLL_LIMIT seconds after ``since``. Returns, per node, (sent, answered, outcome) samples
    with times relative to ``since``."""
    samples = {name: [] for name in watchers}
    pending = set(watchers)
    while pending:
        for name in sorted(pending):
            sent = time.monotonic() - since
            got = probe(watchers[name])
            answered = time.monotonic() - since
            samples[name].append((sent, answered, got))
            if wanted(got) or answered > POLL_LIMIT:
                pending.discard(name)
        if pending:
            time.sleep(POLL_PACE)
    return samples


def check_honoured(samples: dict, what: str, wanted) -> dict:
    """Every node answered as wanted within the window, and no node gave the old answer to
    a request sent more than HONOUR_WITHIN after the change. Returns, per node, (latest send
    time of an old answer, arrival time of the first wanted answer)."""
    delays = {}
    for name, seq in samples.items():
        _, answered, last = seq[-1]
        assert wanted(last), (f"{what} was not honoured by node {name} within {POLL_LIMIT}s "
                              f"({len(seq)} probes, last answer {last})")
        latest_stale = max((s[0] for s in seq if not wanted(s[2])), default=0.0)
        assert latest_stale <= HONOUR_WITHIN, (
            f"{what}: node {name} still gave the old answer to a request sent "
            f"{latest_stale:.3f}s after the change (limit {HONOUR_WITHIN}s); honoured by "
            f"{answered:.3f}s")
        delays[name] = (latest_stale, answered)
    return delays


def encrypt_outcome(key_id: str):
    """A probe: None when Encrypt with ``key_id`` succeeds, else (status, code, message)."""
    return lambda kms: try_call(kms, kms.encrypt_request(key_id, "probe"))


def test_disable_and_enable_through_one_node_are_honoured_by_the_others_within_a_second(nodes):
    a = Kms(nodes[0])
    watchers = {"B": Kms(nodes[1]), "C": Kms(nodes[2])}
    kid = a.create_key()["KeyId"]
    blob = a.encrypt(kid, "before")["CiphertextBlob"]
    report = []
    for action, refused in (("DisableKey", True), ("EnableKey", False)):
        # the other nodes have the key hot in their caches, in the old state, right now
        for name, kms in watchers.items():
            got = try_call(kms, kms.encrypt_request(kid, "warm"))
            assert (got is not None) != refused, f"before {action}: node {name} answered {got}"
        a.call(make(action, KeyId=kid))
        since = time.monotonic()
        honoured = (lambda got: got is not None) if refused else (lambda got: got is None)
        samples = watch(watchers, encrypt_outcome(kid), honoured, since)
        for name, seq in samples.items():
            for _, _, got in seq:
                assert got is None or got[:2] == (409, "Rejected.Disabled"), \
                    f"{action}: node {name} answered Encrypt with an unexpected error {got}"
        delays = check_honoured(samples, f"{action} through A", honoured)
        report.append(f"{action}: " + ", ".join(
            f"{n} stale until <= {d[0]:.3f}s, honoured by {d[1]:.3f}s"
            for n, d in sorted(delays.items())))
        for name, kms in watchers.items():
            if refused:
                kms.error(kms.decrypt_request(blob), 409, "Rejected.Disabled")
            else:
                assert kms.decrypt(blob)["Plaintext"] == "before"
            assert describe(kms, kid)["KeyState"] == ("Disabled" if refused else "Enabled")
    print("\ncross-node delays: " + "; ".join(report))


# ---------------------------------------------------------------------------------------
# (3) a SignatureNonce used at one node is refused at the others


def signed_query(key_id: str, plaintext: str, nonce: str | None = None) -> dict:
    query = common_params("Encrypt", nonce=nonce)
    query.update({"KeyId": key_id, "Plaintext": plaintext})
    query["Signature"] = v1_signature(v1_string_to_sign("POST", query), ACCESS_KEY_SECRET)
    return query


def test_request_replayed_to_another_node_is_refused(nodes):
    a, b, c = nodes
    kid = Kms(a).create_key()["KeyId"]
    query = signed_query(kid, "sent once")
    first = send_raw(a, "POST", dict(query))
    assert first.status == 200, first.body
    for other in (b, c, a):
        assert_raw_error(send_raw(other, "POST", dict(query)), 400, "SignatureNonceUsed")


def test_sdk_nonce_reused_at_another_node_is_refused(nodes, monkeypatch):
    b, c = Kms(nodes[1]), Kms(nodes[2])
    kid = b.create_key()["KeyId"]
    nonce = uuid.uuid4().hex
    monkeypatch.setattr(parameter_helper, "get_uuid", lambda: nonce)
    b.encrypt(kid, "once")
    c.error(c.encrypt_request(kid, "once"), 400, "SignatureNonceUsed")


def test_one_request_raced_to_every_node_is_accepted_once(nodes):
    kid = Kms(nodes[0]).create_key()["KeyId"]
    for round_no in range(5):
        query = signed_query(kid, f"race {round_no}")
        barrier = threading.Barrier(len(nodes))
        replies: dict = {}

        def send(node):
            barrier.wait(timeout=30)
            replies[node.name] = send_raw(node, "POST", dict(query))

        threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(replies) == len(nodes), f"round {round_no}: not every node answered"
        accepted = sorted(n for n, r in replies.items() if r.status == 200)
        answers = {n: (r.status, r.body[:200]) for n, r in replies.items()}
        assert len(accepted) == 1, (f"round {round_no}: one signed request raced to every node "
                                    f"was accepted by {accepted or 'none'}: {answers}")
        for name, reply in replies.items():
            if name not in accepted:
                assert_raw_error(reply, 400, "SignatureNonceUsed")


# ---------------------------------------------------------------------------------------
# (4) a node with another root key refuses to start against the database


@pytest.mark.parametrize("root_key", ["other", "none"])
def test_node_with_another_root_key_refuses_to_start(cluster, tmp_path, root_key):
    a = Kms(cluster.nodes[0])
    kid = a.create_key()["KeyId"]
    blob = a.encrypt(kid, "sealed by the shared root key")["CiphertextBlob"]
    if root_key == "other":
        env = cluster.node_env(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
    else:  # no OPENKMS_ROOT_KEY: the node would make a root.key of its own in its data dir
        env = cluster.node_env(None)
    code, out, err = run_expecting_failure(cluster.nodes[0].binary, tmp_path / "data", env,
                                           args=cluster.node_args())
    assert code != 0, f"a node with {root_key} root key started: stdout={out!r} stderr={err!r}"
    assert "ready on" not in out, out
    assert ROOT_KEY_MENTION.search(err), f"stderr does not mention the root key: {err!r}"
    # the database is unharmed: the running nodes still decrypt, new nodes still start
    assert Kms(cluster.nodes[1]).decrypt(blob)["Plaintext"] == "sealed by the shared root key"
    late = cluster.start_extra(f"late-{root_key}")
    assert Kms(late).decrypt(blob)["Plaintext"] == "sealed by the shared root key"
    late.stop()


# ---------------------------------------------------------------------------------------
# (5) one node killed mid-load; the others keep answering


LOAD_THREADS = 4
LOAD_MAX_ITERATIONS = 150     # per thread, a bound whatever happens
CALLS_BEFORE_KILL = 40
SURVIVOR_CALLS_AFTER_KILL = 40
LOAD_WAIT = 90.0


@dataclass
class Call:
    op: str
    node: str
    started: float
    ended: float
    error: str | None


def test_node_killed_mid_load_while_the_others_keep_answering(cluster):
    a, b = cluster.nodes[:2]
    victim = cluster.start_extra("victim")
    ring = [a, b, victim]
    admin = Kms(a)
    key_ids = [admin.create_key()["KeyId"] for _ in range(2)]

    lock = threading.Lock()
    calls: list[Call] = []
    blobs: list = []              # (blob, plaintext, key id, answered at)
    kill_at: list = []            # monotonic time just before SIGKILL
    stop = threading.Event()

    def record(op, node, started, error):
        with lock:
            calls.append(Call(op, node.name, started, time.monotonic(), error))

    def attempt(op, node, fn):
        started = time.monotonic()
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - every failure is recorded and judged below
            record(op, node, started, f"{type(e).__name__}: {e}"[:600])
            return None
        record(op, node, started, None)
        return result

    def worker(tid: int):
        clients = {n.name: Kms(n) for n in ring}
        for it in range(LOAD_MAX_ITERATIONS):
            if stop.is_set():
                return
            enc_node, dec_node = ring[(tid + it) % 3], ring[(tid + it + 1) % 3]
            kid = key_ids[(tid + it) % len(key_ids)]
            text = f"load {tid}-{it}"
            enc = attempt("Encrypt", enc_node,
                          lambda: clients[enc_node.name].encrypt(kid, text))
            if enc is None:
                continue
            with lock:
                blobs.append((enc["CiphertextBlob"], text, kid, time.monotonic()))

            def decrypt_and_check():
                got = clients[dec_node.name].decrypt(enc["CiphertextBlob"])
                assert (got["Plaintext"], got["KeyId"]) == (text, kid), got
            attempt("Decrypt", dec_node, decrypt_and_check)

    def wait_for(cond, what):
        deadline = time.monotonic() + LOAD_WAIT
        while not cond():
            assert time.monotonic() < deadline, f"load: {what} not reached in {LOAD_WAIT}s"
            assert any(t.is_alive() for t in threads), f"load: threads ended before {what}"
            time.sleep(0.02)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(LOAD_THREADS)]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: len(calls) >= CALLS_BEFORE_KILL, f"{CALLS_BEFORE_KILL} calls")
        kill_at.append(time.monotonic())
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=20)

        def survivor_calls_after_kill():
            with lock:
                return sum(1 for c in calls if c.node != "victim" and c.started > kill_at[0])
        wait_for(lambda: survivor_calls_after_kill() >= SURVIVOR_CALLS_AFTER_KILL,
                 f"{SURVIVOR_CALLS_AFTER_KILL} calls to the survivors after the kill")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "load threads did not stop within 60s"
    assert victim.proc.returncode == -signal.SIGKILL

    killed = kill_at[0]
    survivors_failed = [c for c in calls if c.node != "victim" and c.error]
    assert not survivors_failed, (
        f"{len(survivors_failed)} of {sum(c.node != 'victim' for c in calls)} calls to the "
        f"surviving nodes failed; first: {survivors_failed[0]}\nA stderr:\n{tail(a.log_path)}"
        f"\nB stderr:\n{tail(b.log_path)}")
    victim_early_failures = [c for c in calls if c.node == "victim" and c.error
                             and c.ended < killed]
    assert not victim_early_failures, \
        f"calls to the victim failed before it was killed: {victim_early_failures[0]}"
    assert any(c.node == "victim" and not c.error for c in calls), \
        "the victim answered nothing before it was killed (the load did not reach it)"
    assert any(c.node == "victim" and c.error for c in calls), \
        "no call reached the victim after the kill (the load did not cover the kill)"

    before = [bl for bl in blobs if bl[3] < killed]
    assert before, "no ciphertext was produced before the kill"
    survivors = [admin, Kms(b), Kms(cluster.nodes[2])]
    for i, (blob, text, kid, _) in enumerate(blobs):
        got = survivors[i % 3].decrypt(blob)
        assert (got["Plaintext"], got["KeyId"]) == (text, kid)
    print(f"\nload: {len(calls)} calls, {len(blobs)} ciphertexts ({len(before)} before the kill), "
          f"{sum(1 for c in calls if c.node == 'victim' and c.error)} refused by the dead node")


# ---------------------------------------------------------------------------------------
# (6) concurrent CreateKeyVersion through two nodes leaves one consistent key


CALLS_PER_NODE = 10


def test_concurrent_create_key_version_through_two_nodes(nodes):
    a, b = nodes[:2]
    key = Kms(a).create_key()
    kid = key["KeyId"]
    # both nodes hold the key in their caches before the race
    Kms(b).encrypt(kid, "warm")
    Kms(a).encrypt(kid, "warm")
    targets = [a, b] * CALLS_PER_NODE
    barrier = threading.Barrier(len(targets))
    created: list = []
    failed: list = []
    lock = threading.Lock()

    def one(node):
        kms = Kms(node)
        barrier.wait(timeout=60)
        req = kms.prepare(make("CreateKeyVersion", KeyId=kid))
        try:
            body = kms.client.do_action_with_exception(req)
        except ServerException as exc:
            with lock:
                failed.append((node.name, exc.get_http_status(), exc.get_error_code(),
                               exc.get_error_msg()))
            return
        except Exception as exc:  # noqa: BLE001 - a dropped connection is a failure too
            with lock:
                failed.append((node.name, None, type(exc).__name__, str(exc)[:300]))
            return
        with lock:
            created.append(json.loads(body)["KeyVersion"])

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done = time.monotonic()
    assert not any(t.is_alive() for t in threads), "CreateKeyVersion calls still running after 120s"
    assert not [f for f in failed if f[1] is None or f[1] >= 500], \
        f"CreateKeyVersion through two nodes at once: server errors or no answer: {failed}"

    made = [v["KeyVersionId"] for v in created]
    assert len(set(made)) == len(made), f"a version id was returned twice: {made}"
    assert all(v["KeyId"] == kid for v in created)
    for kms in (Kms(a), Kms(b)):
        listing = paged(kms.call(make("ListKeyVersions", KeyId=kid, PageSize=100)))
        listed = [v["KeyVersionId"] for v in listing["KeyVersions"]["KeyVersion"]]
        assert listing["TotalCount"] == len(listed) == 1 + len(made), \
            (f"{len(made)} successful CreateKeyVersion calls ({len(failed)} failed: {failed}) "
             f"but {kms.server.name} lists {listing['TotalCount']} versions")
        assert set(listed) == {key["PrimaryKeyVersion"], *made}

    # both nodes describe the same primary: one of the new versions, and the newest
    # (CreationDate has whole seconds)
    primaries = {n.name: describe(Kms(n), kid)["PrimaryKeyVersion"] for n in (a, b)}
    assert len(set(primaries.values())) == 1, f"the nodes disagree on the primary: {primaries}"
    primary = primaries["A"]
    if made:
        assert primary in made, f"PrimaryKeyVersion {primary} is none of the created {made}"
        by_id = {v["KeyVersionId"]: v for v in created}
        newest = max(epoch(v["CreationDate"]) for v in created)
        assert epoch(by_id[primary]["CreationDate"]) == newest
    # Encrypt through either node may use a node's own last new version for at most the cache
    # lifetime after the last CreateKeyVersion answer, then the primary
    samples = watch({n.name: Kms(n) for n in (a, b)},
                    lambda kms: kms.encrypt(kid, "after")["KeyVersionId"],
                    lambda got: got == primary, done)
    check_honoured(samples, f"the new primary {primary}", lambda got: got == primary)
    if failed:
        print(f"\nCreateKeyVersion: {len(made)} succeeded, {len(failed)} refused: {failed}")
