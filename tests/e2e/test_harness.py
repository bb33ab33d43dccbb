"""Self-tests of the suite's harness (no server needed)."""

from e2ehelp import READY_RE, OpenKms


def test_ready_line_pattern():
    assert READY_RE.match("openkms: ready on https://127.0.0.1:43211").groups() == ("https", "43211")
    assert READY_RE.match("openkms: ready on http://127.0.0.1:8080").groups() == ("http", "8080")
    assert not READY_RE.match("openkms: ready on https://0.0.0.0:1")


def test_server_object_helper_rejects_a_missing_binary(tmp_path):
    """The suite itself: a missing binary is a clear failure, not a hang."""
    srv = OpenKms(data_dir=tmp_path / "d", log_path=tmp_path / "log",
                  binary=tmp_path / "no-such-openkms")
    try:
        srv.start(timeout=5)
    except AssertionError as e:
        assert "not found" in str(e)
    else:
        raise AssertionError("start() succeeded without a binary")


def test_console_line_is_recognised():
    from e2ehelp import CONSOLE_RE
    assert CONSOLE_RE.match("openkms: console on https://127.0.0.1:43212/console/").group(1) == \
        "https://127.0.0.1:43212/console/"
    assert not CONSOLE_RE.match("openkms: ready on https://127.0.0.1:1")
