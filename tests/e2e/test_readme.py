"""README.md's commands, run in order as written, in a fresh directory, as a new user would.

The fenced ```bash and ```python blocks of README.md are taken in order and run in one bash
session (a python block is saved to a file and run with that session's ``python3``, so the
exports of the blocks before it hold). Only these substitutions are made, each checked to apply
exactly where expected, so a changed README fails here instead of being skipped silently:

* ``cargo run --release --locked -p openkms -- server`` -> the built binary ($OPENKMS_BIN) is
  started before the first block, in the background, with its data dir where the README says
  (``./openkms-data`` of the directory the commands run in) and on a free port instead of 8443,
  so the run cannot collide with anything else on the machine;
* therefore ``port=8443`` in the Python block -> the free port, and the CLI, whose default
  endpoint is https://127.0.0.1:8443, gets ``OPENKMS_ENDPOINT`` for that port;
* ``./scripts/test.sh`` -> skipped (this test is part of that very run);
* ``python3 -m venv .venv && . .venv/bin/activate`` -> activates the venv running this test, and
  ``pip install ...`` -> skipped: that venv holds the SDKs already, and the versions the README
  pins are asserted to be the ones installed;
* ``cargo install --locked --path crates/openkms`` -> a directory holding an ``openkms`` symlink
  to $OPENKMS_BIN is put first on PATH.

Nothing of the caller's OPENKMS_* or ALIBABA_CLOUD_* environment leaks in, and HOME is the test's
own. Checked: the seed's promise (``./certs/decrypted_key.pem`` is byte for byte
``./certs/key.pem``), the CLI's decrypt-file output equals its input (of encrypt-file and of the
seed's bare ``key.pem.cipher``), and the least-privilege section creates its two users.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from e2ehelp import OpenKms, openkms_binary, server_env

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK_RE = re.compile(r"^```(bash|python)\n(.*?)^```$", re.M | re.S)
SCRIPT_TIMEOUT = 150.0

# (what a README line starts with, what the test runs instead: None drops the line)
SERVER_LINE = "cargo run --release --locked -p openkms -- server"
VENV_LINE = "python3 -m venv .venv && . .venv/bin/activate"
PIP_LINE = "pip install "
TESTS_LINE = "./scripts/test.sh"
INSTALL_LINE = "cargo install --locked --path crates/openkms"
README_PORT = "port=8443"


@dataclass
class ReadmeServer(OpenKms):
    """`openkms server` as the README starts it (default settings, generated root AccessKey),
    but on a free port; the data dir is the run directory's ./openkms-data."""

    def command(self) -> list:
        return [str(self.binary), "server", "--data-dir", str(self.data_dir),
                "--listen", "127.0.0.1:0"]


def readme_blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK_RE.finditer(README.read_text())]


def substitute_line(line: str, venv: Path, seen: dict) -> str | None:
    """The line to run for one README bash line (None: dropped); counts what was replaced."""
    command = line.strip()
    for prefix, replacement in ((SERVER_LINE, None), (TESTS_LINE, None), (PIP_LINE, None),
                                (INSTALL_LINE, None), (VENV_LINE, f". {venv}/bin/activate")):
        if command.startswith(prefix):
            seen[prefix] = seen.get(prefix, 0) + 1
            if prefix == PIP_LINE:
                assert_pins_installed(command)
            return replacement
    return line


def assert_pins_installed(pip_line: str) -> None:
    pins = [arg.split("==") for arg in pip_line.split()[2:]]
    assert pins and all(len(p) == 2 for p in pins), f"README pins no versions: {pip_line}"
    for name, version in pins:
        assert importlib.metadata.version(name) == version, \
            f"README pins {name}=={version}; the e2e venv has {importlib.metadata.version(name)}"


def build_script(run_dir: Path, port: int) -> str:
    """The README's blocks as one bash script, with the substitutions above."""
    venv = Path(sys.prefix)
    assert sys.prefix != sys.base_prefix, "the e2e suite runs in a venv"
    seen: dict = {}
    parts = ["set -e -o pipefail",
             "trap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR",
             f"cd {run_dir}"]
    for n, (kind, text) in enumerate(readme_blocks()):
        if kind == "python":
            assert text.count(README_PORT) == 1, f"python block {n} does not say {README_PORT}"
            path = run_dir / f".readme-block-{n}.py"
            path.write_text(text.replace(README_PORT, f"port={port}"))
            parts.append(f"python3 {path}")
            continue
        lines = (substitute_line(line, venv, seen) for line in text.splitlines())
        parts.extend(line for line in lines if line is not None)
    assert seen == {SERVER_LINE: 1, TESTS_LINE: 1, VENV_LINE: 1, PIP_LINE: 1, INSTALL_LINE: 1}, \
        f"README lines substituted: {seen}"
    return "\n".join(parts) + "\n"


def user_env(run_dir: Path, bin_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENKMS_", "ALIBABA_CLOUD_", "VIRTUAL_ENV"))}
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(run_dir / ".home"),
        "XDG_CONFIG_HOME": str(run_dir / ".home" / ".config"),
        "OPENKMS_ENDPOINT": f"https://127.0.0.1:{port}",
    })
    return env


def test_readme_commands_run_in_order_as_written(tmp_path):
    run_dir, bin_dir = tmp_path / "checkout", tmp_path / "bin"
    run_dir.mkdir()
    bin_dir.mkdir()
    (bin_dir / "openkms").symlink_to(openkms_binary().resolve())
    srv = ReadmeServer(data_dir=run_dir / "openkms-data", log_path=tmp_path / "server.log",
                       env=server_env(credentials=False))
    srv.start()
    try:
        script = build_script(run_dir, srv.port)
        done = subprocess.run(["bash", "-c", script], env=user_env(run_dir, bin_dir, srv.port),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=SCRIPT_TIMEOUT)
        assert done.returncode == 0, (f"README commands failed ({done.returncode}):\n"
                                      f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}")
        assert srv.running(), "the server died during the README's commands"
    finally:
        srv.stop()

    certs = run_dir / "certs"
    original = (certs / "key.pem").read_bytes()
    assert original.startswith(b"-----BEGIN ")
    assert (certs / "decrypted_key.pem").read_bytes() == original, "the seed's promise"
    assert (certs / "key.pem.cipher").read_bytes() != original
    assert (certs / "key.pem.enc").read_bytes() != original
    assert (certs / "key.pem.dec").read_bytes() == original, "CLI decrypt-file of encrypt-file"
    assert (certs / "key.pem.from-cipher").read_bytes() == original, "CLI decrypt-file of the blob"
    for user in ("build-host", "apollo-servers"):
        assert f'"{user}"' in done.stdout, f"least privilege: no {user} created"
