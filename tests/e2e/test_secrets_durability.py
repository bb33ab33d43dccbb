"""Durability of secrets: an acknowledged PutSecretValue is never lost to a SIGKILL.

Writers put new versions of a few secrets as fast as they are acknowledged while the server is
killed with SIGKILL mid-stream; after a restart on the same data directory (SQLite, or the
PostgreSQL database of the run), every acknowledged version reads back by its VersionId with
its value, and the version each secret had last acknowledged is current or newer (one request
was in flight per writer at most).
"""

from __future__ import annotations

import signal
import threading
import time

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

from e2ehelp import ACCOUNT_ID, Kms, sdk_request, unique_name


def writer(kms: Kms, name: str, acked: list, stop: threading.Event) -> None:
    n = 1
    while not stop.is_set():
        n += 1
        req = sdk_request("PutSecretValue", SecretName=name, VersionId=f"v{n}",
                          SecretData=f"value {n} of {name}")
        kms.prepare(req)
        try:
            kms.client.do_action_with_exception(req)
        except (ClientException, ServerException, OSError):
            return
        acked.append(n)


def test_acknowledged_put_secret_value_survives_sigkill(start_server):
    first = start_server(args=["--account-id", ACCOUNT_ID])
    root = Kms(first)
    names = [f"crash/{unique_name('dur')}-{i}" for i in range(3)]
    for name in names:
        root.call(sdk_request("CreateSecret", SecretName=name, VersionId="v1",
                              SecretData=f"value 1 of {name}"))
    acked = {name: [] for name in names}
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(Kms(first), n, acked[n], stop))
               for n in names]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while min(len(a) for a in acked.values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=20)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert all(len(a) >= 5 for a in acked.values()), f"too few writes before the kill: {acked}"

    second = start_server(args=["--account-id", ACCOUNT_ID], data_dir=first.data_dir)
    kms = Kms(second)
    for name, done in acked.items():
        last = done[-1]
        current = kms.call(sdk_request("GetSecretValue", SecretName=name))
        assert int(current["VersionId"][1:]) >= last, (name, current["VersionId"], last)
        for n in done[-9:]:
            got = kms.call(sdk_request("GetSecretValue", SecretName=name, VersionId=f"v{n}"))
            assert got["SecretData"] == f"value {n} of {name}"
