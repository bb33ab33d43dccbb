"""Fixtures: openkms servers on 127.0.0.1:0 in temporary data dirs, and SDK clients for them.

* ``server``: one TLS server for the whole session (root AccessKey from env, --account-id set).
  Tests that share it create their own keys and unique aliases, so they do not interfere.
* ``kms``: the old Python SDK (``e2ehelp.Kms``) pointed at ``server``.
* ``key``: a fresh key on ``server`` (its KeyMetadata).
* ``start_server``: a factory for tests that need their own server (restarts, plain HTTP,
  generated credentials); everything it started is stopped at the end of the test.

With $OPENKMS_E2E_DATABASE_URL set, every server runs on a fresh PostgreSQL database of its
own (one per data dir, so restarts keep their data); see e2ehelp's "the store".
"""

from __future__ import annotations

import signal

import pytest

import e2ehelp
from e2ehelp import (ACCOUNT_ID, E2E_DATABASE_ENV, Kms, OpenKms, new_server, postgres_admin_url,
                     redact, release_database, stop_or_fail)


def pytest_report_header(config):
    admin = postgres_admin_url()
    if admin is None:
        return "openkms store: embedded SQLite (set OPENKMS_E2E_DATABASE_URL for PostgreSQL)"
    return f"openkms store: PostgreSQL, one fresh database per server at {redact(admin)} ({E2E_DATABASE_ENV})"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = new_server(tmp_path_factory, "shared", args=["--account-id", ACCOUNT_ID])
    srv.start()
    yield srv
    stop_or_fail(srv, "the shared openkms server died during the run")


@pytest.fixture
def kms(server) -> Kms:
    return Kms(server)


@pytest.fixture
def key(kms) -> dict:
    """A fresh key on the shared server (CreateKey's KeyMetadata)."""
    return kms.create_key()


@pytest.fixture
def start_server(tmp_path_factory):
    """start_server(args=(), env=None, data_dir=None) -> a started OpenKms."""
    started: list[OpenKms] = []

    def start(args=(), env=None, data_dir=None) -> OpenKms:
        srv = new_server(tmp_path_factory, "own", args, env, data_dir)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        if srv.running():
            srv.stop(signal.SIGTERM)
    # every server of the test is stopped for good now: drop their databases (PostgreSQL)
    for data_dir in {srv.data_dir for srv in started}:
        release_database(data_dir)


@pytest.fixture(scope="session")
def rsa_pem() -> str:
    """A real, freshly generated RSA-4096 private key in PEM (about 3.2 KB)."""
    return e2ehelp.make_rsa_pem(4096)
