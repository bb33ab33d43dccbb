"""The crash harness (issue 13): several clients write and encrypt while the server is killed
with SIGKILL at a random moment; after a restart on the same data dir (and, on PostgreSQL,
the same database) every acknowledged write must be there and every returned ciphertext
must still decrypt to its plaintext.

What lives here:
  * ``Ledger``: what the server acknowledged (keys, aliases, tags, versions, ciphertexts) and
    what it answered otherwise, counted;
  * ``Load``: the clients, one thread and one official-SDK client each, running a mix of
    CreateKey, CreateAlias, TagResource, CreateKeyVersion, Encrypt and GenerateDataKey;
  * ``verify``: every acknowledged item checked against a server;
  * ``run_cycles``: load, kill -9, restart, verify, N times;
  * ``PrivateCluster``: a PostgreSQL cluster of the test's own (initdb on a free port), for
    restarting the database under load without touching the machine's shared one.

test_crash_harness.py runs 3 cycles per store in the e2e suite. The long form is run by hand
(figures in docs/crash-testing.md):

    OPENKMS_BIN=$PWD/target/debug/openkms target/e2e-venv/bin/python tests/e2e/crashload.py \\
        --cycles 20 [--database-url postgres://postgres@127.0.0.1:5432/test]

A write whose reply was lost to the kill is "in flight": it may or may not have happened, and
is neither counted as acknowledged nor checked. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException  # noqa: E402

import e2ehelp  # noqa: E402
from e2ehelp import ACCOUNT_ID, OpenKms, sdk_client, sdk_request  # noqa: E402

# The mix of requests, by weight. Each client only changes keys it created, so the limits
# below hold without coordination between clients.
MIX = (("Encrypt", 40), ("GenerateDataKey", 10), ("CreateKey", 15), ("CreateAlias", 10),
       ("TagResource", 15), ("CreateKeyVersion", 10))
MAX_ALIASES_PER_KEY = 2
MAX_TAGS_PER_KEY = 4
MAX_VERSIONS_PER_KEY = 3
VERIFY_THREADS = 4


class Dropped(Exception):
    """The connection failed (the server was killed, or dropped a request)."""


@dataclass
class Key:
    key_id: str
    owner: int
    aliases: list = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    versions: list = field(default_factory=list)


@dataclass
class Ciphertext:
    blob: str
    plaintext: str  # base64, as Decrypt returns it
    key_id: str
    context: str | None


class Ledger:
    """What the server acknowledged, and how it answered otherwise. Thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys: dict[str, Key] = {}
        self.ciphertexts: list[Ciphertext] = []
        self.acks = Counter()       # action -> acknowledged
        self.refused = Counter()    # (status, code) of 4xx answers
        self.unavailable = 0        # 503 answers
        self.internal = Counter()   # (status, code) of other 5xx answers
        self.in_flight = 0          # requests whose reply the kill took
        self.dropped = []           # connections that failed while the server ran
        self.marks: set[str] = set()  # what verify already checked: key ids, aliases, ...

    def ack(self, action: str) -> None:
        self.acks[action] += 1

    @property
    def writes(self) -> int:
        return sum(n for action, n in self.acks.items() if action not in ("Encrypt", "GenerateDataKey"))


class Client(threading.Thread):
    """One SDK client sending the mix until told to stop or its connection fails."""

    def __init__(self, index: int, server: OpenKms, ledger: Ledger, rng: random.Random,
                 stop: threading.Event, dying: threading.Event, context_tag: str):
        super().__init__(daemon=True, name=f"crash-client-{index}")
        self.index, self.server, self.ledger, self.rng = index, server, ledger, rng
        self.stop, self.dying, self.context_tag = stop, dying, context_tag
        self.client = sdk_client(server)
        self.sent = 0

    def call(self, action: str, **params) -> dict | None:
        """The reply of an acknowledged request; None when refused (counted)."""
        req = sdk_request(action, **params)
        req.set_endpoint("127.0.0.1")
        req.set_protocol_type(self.server.protocol)
        req.set_accept_format("JSON")
        self.sent += 1
        try:
            body = self.client.do_action_with_exception(req)
        except ServerException as exc:
            self.count_refusal(exc.get_http_status(), exc.get_error_code())
            return None
        except ClientException as exc:
            with self.ledger.lock:
                if self.dying.is_set():
                    self.ledger.in_flight += 1
                else:
                    self.ledger.dropped.append(f"{action}: {exc}")
            raise Dropped(action) from None
        return json.loads(body)

    def count_refusal(self, status: int, code: str) -> None:
        with self.ledger.lock:
            if status == 503:
                self.ledger.unavailable += 1
            elif status >= 500:
                self.ledger.internal[(status, code)] += 1
            else:
                self.ledger.refused[(status, code)] += 1

    def own_keys(self) -> list:
        with self.ledger.lock:
            return [k for k in self.ledger.keys.values() if k.owner == self.index]

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except Dropped:
            pass

    def step(self) -> None:
        keys = self.own_keys()
        if not keys:
            return self.create_key()
        action = self.rng.choices([a for a, _ in MIX], [w for _, w in MIX])[0]
        key = self.rng.choice(keys)
        {"Encrypt": self.encrypt, "GenerateDataKey": self.generate_data_key,
         "CreateKey": lambda _k: self.create_key(), "CreateAlias": self.create_alias,
         "TagResource": self.tag, "CreateKeyVersion": self.new_version}[action](key)

    def create_key(self) -> None:
        reply = self.call("CreateKey", Description=f"crash harness {self.context_tag}")
        if reply is not None:
            meta = reply["KeyMetadata"]
            with self.ledger.lock:
                self.ledger.keys[meta["KeyId"]] = Key(meta["KeyId"], self.index,
                                                      versions=[meta["PrimaryKeyVersion"]])
                self.ledger.ack("CreateKey")

    def context(self) -> str | None:
        if self.rng.random() < 0.5:
            return None
        return json.dumps({"harness": self.context_tag, "n": str(self.rng.randrange(10**6))})

    def key_ref(self, key: Key) -> str:
        """The key by id, or by one of its acknowledged aliases."""
        with self.ledger.lock:
            aliases = list(key.aliases)
        return self.rng.choice(aliases) if aliases and self.rng.random() < 0.3 else key.key_id

    def encrypt(self, key: Key) -> None:
        plaintext = base64.b64encode(self.rng.randbytes(self.rng.randrange(1, 256))).decode()
        context = self.context()
        params = {"KeyId": self.key_ref(key), "Plaintext": plaintext}
        if context:
            params["EncryptionContext"] = context
        reply = self.call("Encrypt", **params)
        if reply is not None:
            self.keep(Ciphertext(reply["CiphertextBlob"], plaintext, reply["KeyId"], context),
                      "Encrypt")

    def generate_data_key(self, key: Key) -> None:
        context = self.context()
        params = {"KeyId": self.key_ref(key), "NumberOfBytes": 32}
        if context:
            params["EncryptionContext"] = context
        reply = self.call("GenerateDataKey", **params)
        if reply is not None:
            self.keep(Ciphertext(reply["CiphertextBlob"], reply["Plaintext"], reply["KeyId"],
                                 context), "GenerateDataKey")

    def keep(self, ciphertext: Ciphertext, action: str) -> None:
        with self.ledger.lock:
            self.ledger.ciphertexts.append(ciphertext)
            self.ledger.ack(action)

    def create_alias(self, key: Key) -> None:
        if len(key.aliases) >= MAX_ALIASES_PER_KEY:
            return self.encrypt(key)
        alias = f"alias/crash/{uuid.uuid4().hex}"
        if self.call("CreateAlias", AliasName=alias, KeyId=key.key_id) is not None:
            with self.ledger.lock:
                key.aliases.append(alias)
                self.ledger.ack("CreateAlias")

    def tag(self, key: Key) -> None:
        if len(key.tags) >= MAX_TAGS_PER_KEY:
            return self.encrypt(key)
        name, value = f"t{len(key.tags)}", uuid.uuid4().hex[:12]
        tags = json.dumps([{"TagKey": name, "TagValue": value}])
        if self.call("TagResource", KeyId=key.key_id, Tags=tags) is not None:
            with self.ledger.lock:
                key.tags[name] = value
                self.ledger.ack("TagResource")

    def new_version(self, key: Key) -> None:
        if len(key.versions) >= MAX_VERSIONS_PER_KEY:
            return self.encrypt(key)
        reply = self.call("CreateKeyVersion", KeyId=key.key_id)
        if reply is not None:
            with self.ledger.lock:
                key.versions.append(reply["KeyVersion"]["KeyVersionId"])
                self.ledger.ack("CreateKeyVersion")


class Load:
    """``clients`` SDK clients sending the mix to ``server`` until ``stop()``."""

    def __init__(self, server: OpenKms, ledger: Ledger, clients: int, seed: int, tag: str):
        self.stop_event, self.dying = threading.Event(), threading.Event()
        self.threads = [Client(i, server, ledger, random.Random(f"{seed}/{i}"), self.stop_event,
                               self.dying, tag) for i in range(clients)]

    def start(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout: float = 60.0) -> int:
        """Stops the clients; the number of requests they sent."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
            assert not t.is_alive(), f"{t.name} did not stop within {timeout}s"
        return sum(t.sent for t in self.threads)


# ---------------------------------------------------------------------------------------
# verification


@dataclass
class Checked:
    writes: int = 0
    ciphertexts: int = 0
    lost: list = field(default_factory=list)


class Verifier:
    """Checks acknowledged items against a server, on several threads."""

    def __init__(self, server: OpenKms):
        self.server = server
        self.local = threading.local()

    def call(self, action: str, **params) -> dict:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = sdk_client(self.server)
        req = sdk_request(action, **params)
        req.set_endpoint("127.0.0.1")
        req.set_protocol_type(self.server.protocol)
        req.set_accept_format("JSON")
        return json.loads(client.do_action_with_exception(req))

    def key(self, key: Key) -> list:
        """What of ``key`` is missing (empty when nothing is)."""
        lost = []
        try:
            meta = self.call("DescribeKey", KeyId=key.key_id)["KeyMetadata"]
        except ServerException as exc:
            return [f"key {key.key_id}: DescribeKey answered {exc.get_error_code()}"]
        if meta["KeyState"] != "Enabled":
            lost.append(f"key {key.key_id}: {meta['KeyState']}")
        for alias in key.aliases:
            try:
                found = self.call("DescribeKey", KeyId=alias)["KeyMetadata"]["KeyId"]
            except ServerException as exc:
                found = exc.get_error_code()
            if found != key.key_id:
                lost.append(f"alias {alias} of {key.key_id}: {found}")
        if key.tags:
            rows = self.call("ListResourceTags", KeyId=key.key_id)["Tags"]["Tag"]
            have = {r["TagKey"]: r["TagValue"] for r in rows}
            lost += [f"tag {k}={v} of {key.key_id}" for k, v in key.tags.items() if have.get(k) != v]
        if len(key.versions) > 1:
            rows = self.call("ListKeyVersions", KeyId=key.key_id, PageSize=100)
            have = {v["KeyVersionId"] for v in rows["KeyVersions"]["KeyVersion"]}
            lost += [f"version {v} of {key.key_id}" for v in key.versions if v not in have]
        return lost

    def ciphertext(self, c: Ciphertext) -> list:
        params = {"CiphertextBlob": c.blob}
        if c.context:
            params["EncryptionContext"] = c.context
        try:
            reply = self.call("Decrypt", **params)
        except ServerException as exc:
            return [f"ciphertext of {c.key_id}: Decrypt answered {exc.get_error_code()}"]
        if (reply["Plaintext"], reply["KeyId"]) != (c.plaintext, c.key_id):
            return [f"ciphertext of {c.key_id}: decrypts to another plaintext or key"]
        return []


def key_writes(key: Key) -> int:
    """The acknowledged writes a key stands for: CreateKey, its aliases, tags, versions."""
    return 1 + len(key.aliases) + len(key.tags) + len(key.versions) - 1


def verify(server: OpenKms, ledger: Ledger, only_new: bool = False) -> Checked:
    """Checks every acknowledged item (or those not checked before) against ``server``."""
    with ledger.lock:
        keys = [Key(k.key_id, k.owner, list(k.aliases), dict(k.tags), list(k.versions))
                for k in ledger.keys.values()]
        ciphertexts = list(ledger.ciphertexts)
    if only_new:
        keys = [k for k in keys if fingerprint(k) not in ledger.marks]
        ciphertexts = [c for c in ciphertexts if c.blob not in ledger.marks]
    verifier, checked = Verifier(server), Checked()
    with ThreadPoolExecutor(VERIFY_THREADS) as pool:
        for key, lost in zip(keys, pool.map(verifier.key, keys)):
            checked.writes += key_writes(key)
            checked.lost += lost
        for lost in pool.map(verifier.ciphertext, ciphertexts):
            checked.ciphertexts += 1
            checked.lost += lost
    with ledger.lock:
        ledger.marks.update(fingerprint(k) for k in keys)
        ledger.marks.update(c.blob for c in ciphertexts)
    return checked


def fingerprint(key: Key) -> str:
    return json.dumps([key.key_id, key.aliases, sorted(key.tags.items()), key.versions])


# ---------------------------------------------------------------------------------------
# kill -9 cycles


@dataclass
class Cycle:
    number: int
    load_seconds: float
    sent: int
    writes: int
    ciphertexts: int
    in_flight: int
    restart_seconds: float
    checked: Checked

    def line(self) -> str:
        return (f"cycle {self.number}: killed after {self.load_seconds:.2f}s and {self.sent} "
                f"requests; acknowledged {self.writes} writes and {self.ciphertexts} "
                f"ciphertexts ({self.in_flight} in flight at the kill); restarted in "
                f"{self.restart_seconds:.1f}s; checked {self.checked.writes} writes and "
                f"{self.checked.ciphertexts} ciphertexts: {len(self.checked.lost)} lost")


def run_cycles(start, cycles: int, clients: int = 4, seed: int | None = None,
               load_seconds: tuple = (0.5, 3.0), report=print) -> tuple:
    """``cycles`` times: load from ``clients`` clients, SIGKILL at a random moment of
    ``load_seconds``, restart with ``start(data_dir)`` and check what was new. Then checks
    everything once more. ``start(None)`` makes the first server. Returns the ledger, the
    cycles and the final check."""
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    report(f"crash harness: {cycles} cycles, {clients} clients, seed {seed}")
    ledger, done = Ledger(), []
    server = start(None)
    for number in range(1, cycles + 1):
        before = (ledger.writes, len(ledger.ciphertexts), ledger.in_flight)
        load = Load(server, ledger, clients, rng.randrange(2**32), f"cycle-{number}").start()
        pause = rng.uniform(*load_seconds)
        time.sleep(pause)
        load.dying.set()
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=e2ehelp.STOP_TIMEOUT)
        sent = load.stop()
        started = time.monotonic()
        server = start(server.data_dir)
        restart = time.monotonic() - started
        cycle = Cycle(number, pause, sent, ledger.writes - before[0],
                      len(ledger.ciphertexts) - before[1], ledger.in_flight - before[2],
                      restart, verify(server, ledger, only_new=True))
        report(cycle.line())
        done.append(cycle)
    final = verify(server, ledger)
    report(f"final check of everything: {final.writes} writes and {final.ciphertexts} "
           f"ciphertexts, {len(final.lost)} lost")
    return ledger, done, final


def summary(ledger: Ledger, cycles: list, final: Checked) -> dict:
    return {
        "cycles": len(cycles),
        "writes_acknowledged": ledger.writes,
        "ciphertexts_acknowledged": len(ledger.ciphertexts),
        "acknowledged_by_action": dict(ledger.acks),
        "in_flight_at_kills": ledger.in_flight,
        "writes_checked_finally": final.writes,
        "ciphertexts_checked_finally": final.ciphertexts,
        "lost": len(final.lost) + sum(len(c.checked.lost) for c in cycles),
        "refused": {f"{s} {c}": n for (s, c), n in ledger.refused.items()},
        "server_errors": {f"{s} {c}": n for (s, c), n in ledger.internal.items()},
        "unavailable_503": ledger.unavailable,
        "dropped_while_running": len(ledger.dropped),
    }


def problems(ledger: Ledger, cycles: list, final: Checked) -> list:
    """Everything that should not have happened; empty when the run held."""
    out = [lost for c in cycles for lost in c.checked.lost] + list(final.lost)
    out += [f"dropped while the server ran: {d}" for d in ledger.dropped]
    out += [f"HTTP {s} {c} x{n}" for (s, c), n in ledger.internal.items()]
    out += [f"HTTP 503 x{ledger.unavailable}"] if ledger.unavailable else []
    if ledger.writes == 0 or not ledger.ciphertexts:
        out.append("nothing was acknowledged: the load did not run")
    return out


# ---------------------------------------------------------------------------------------
# a PostgreSQL cluster of our own


def postgres_bin() -> Path | None:
    """The directory of initdb/pg_ctl: $OPENKMS_E2E_PG_BIN, the newest
    /usr/lib/postgresql/<n>/bin, or the PATH's."""
    given = os.environ.get("OPENKMS_E2E_PG_BIN")
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """A PostgreSQL cluster in a temporary directory on a free port, run as the ``postgres``
    user when this process is root (initdb refuses root). Never the machine's own cluster."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="openkms-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")

    def run(self, *command, timeout: float = 120.0) -> subprocess.CompletedProcess:
        done = subprocess.run([*self.as_postgres, *command], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, command))} failed: {done.stderr.strip()}")
        return done

    def init(self) -> "PrivateCluster":
        self.run(self.bindir / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                 "-E", "UTF8", "--no-sync")
        return self.start()

    def start(self) -> "PrivateCluster":
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
        self.run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.dir / "postgres.log",
                 "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self.run(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        made = e2ehelp.psql(self.url(), f"CREATE DATABASE {name}")
        assert made.returncode == 0, made.stderr
        return self.url(name)

    def remove(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except AssertionError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# by hand: --cycles N


def standalone_start(base: Path, args: list, started: list):
    """start(data_dir) for run_cycles outside pytest: data dir and logs under ``base``; each
    server started is appended to ``started``."""

    def start(data_dir):
        server = OpenKms(data_dir=data_dir or base / "data",
                         log_path=base / f"server-{len(started) + 1}.log", args=list(args))
        started.append(server)
        return server.start()

    return start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--min-load", type=float, default=0.5, help="seconds before a kill, at least")
    parser.add_argument("--max-load", type=float, default=4.0, help="seconds before a kill, at most")
    parser.add_argument("--database-url", help="PostgreSQL admin URL: a fresh database there "
                        f"(as ${e2ehelp.E2E_DATABASE_ENV} does for the suite); default SQLite")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    opts = parser.parse_args(argv)
    if opts.database_url:
        os.environ[e2ehelp.E2E_DATABASE_ENV] = opts.database_url
    base = Path(tempfile.mkdtemp(prefix="openkms-crash-"))
    started: list[OpenKms] = []
    start = standalone_start(base, ["--account-id", ACCOUNT_ID], started)
    try:
        ledger, cycles, final = run_cycles(start, opts.cycles, opts.clients, opts.seed,
                                           (opts.min_load, opts.max_load))
    finally:
        for server in started:
            if server.running():
                server.stop(signal.SIGTERM)
        e2ehelp.release_database(base / "data")
    figures = summary(ledger, cycles, final)
    figures["store"] = "postgresql" if opts.database_url else "sqlite"
    print(json.dumps(figures, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps(figures, indent=2) + "\n")
    bad = problems(ledger, cycles, final)
    for line in bad:
        print(f"FAIL: {line}", file=sys.stderr)
    if not bad:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"data and server logs kept in {base}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
