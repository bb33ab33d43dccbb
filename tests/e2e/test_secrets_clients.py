"""Alibaba's two secrets clients read a secret from openkms over TLS and pick up a new value
after PutSecretValue within their refresh interval (alibaba-kms-api-next.md §6):

* ``aliyun-secret-manager-client`` 0.1.5 (v1): the old SDK core, V1 signature, always HTTPS
  with verification off; pointed at openkms with ``RegionInfo(region_id, endpoint="host:port")``;
* ``alibabacloud-secretsmanager-client-v2`` 2.0.0: the Tea SDK, V3 signature, HTTPS verified;
  pointed at openkms with a full ``Config(endpoint="host:port", protocol="https", ca=<ca.pem>)``.

Each client's pins conflict with the main e2e venv (v1 pins cryptography<=38), so each runs in a
venv of its own, built here on first use from ``secrets_clients/requirements-v*.txt`` under
``target/`` (kept for later runs), as a subprocess (``secrets_clients/watch_v*.py``) that prints
every value it sees.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from e2ehelp import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID, sdk_request, unique_name

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent.parent / "target"
TTL_MS = 2000
# the refresh is scheduled TTL after the last read; a little slack for the scheduler and a
# busy machine
PICKUP_SECONDS = TTL_MS / 1000 + 8


def client_python(kind: str) -> Path:
    """The interpreter of the venv for client ``kind`` (v1 or v2), built when missing."""
    venv = VENVS / f"e2e-secrets-{kind}-venv"
    python = venv / "bin" / "python"
    marker = venv / "installed"
    if marker.is_file():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    env = {**os.environ, "MULTIDICT_NO_EXTENSIONS": "1"}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                    str(HERE / "secrets_clients" / f"requirements-{kind}.txt")],
                   check=True, env=env, timeout=900)
    marker.write_text("ok\n")
    return python


class Watcher:
    """A client subprocess; its stdout lines (the values it saw) in a queue."""

    def __init__(self, argv: list):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_value(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            err = self.proc.stderr.read()[-3000:]
            raise AssertionError(f"the client printed nothing in {timeout}s; stderr:\n{err}")

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_secrets_client_reads_and_refreshes(kind, server, kms):
    python = client_python(kind)
    name = f"clients/{unique_name(kind)}"
    kms.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1",
                         SecretData='{"user":"app","password":"first"}'))
    script = str(HERE / "secrets_clients" / f"watch_{kind}.py")
    creds = [ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID, name, str(TTL_MS)]
    argv = [str(python), script, str(server.port)]
    argv += [str(server.ca_path)] if kind == "v2" else []
    watcher = Watcher(argv + creds)
    try:
        assert watcher.next_value(60) == '{"user":"app","password":"first"}'
        started = time.monotonic()
        kms.call(sdk_request("PutSecretValue", SecretName=name, VersionId="v2",
                             SecretData='{"user":"app","password":"second"}'))
        assert watcher.next_value(PICKUP_SECONDS) == '{"user":"app","password":"second"}'
        assert time.monotonic() - started <= PICKUP_SECONDS
    finally:
        watcher.stop()
