"""The first hour of a new user or operator: every failure is one line with its fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from eterna.entrypoints.cli import main
from tests.conftest import PG_ADMIN_URL, REDIS_URL

pytestmark = pytest.mark.e2e

SECRET = "first-hour-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
UNSET = ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ETERNA_SOLANA_RPC_URL", "ETERNA_LOG_LEVEL")


def eterna(*argv: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command with only the given settings; return what it did."""
    base = {k: v for k, v in os.environ.items() if k not in UNSET}
    return subprocess.run(
        [sys.executable, "-m", "eterna", *argv],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one line and no traceback; return it."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def listening() -> Iterator[int]:
    """A port another process already listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_serve_on_a_port_in_use_says_so_before_starting_anything(
    listening: int, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    done = eterna("serve", "--port", str(listening), ETERNA_DATA_DIR=str(data))
    line = one_line(done)
    assert line.startswith(f"eterna serve: port {listening} on 127.0.0.1 is in use")
    assert f"--port {listening + 1}" in line
    assert done.stdout == ""  # no banner, no token
    assert not data.exists()  # no database, no secret: nothing started


def test_token_refuses_to_invent_a_secret_no_server_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "elsewhere"
    monkeypatch.setenv("ETERNA_DATA_DIR", str(data))
    with pytest.raises(SystemExit) as refused:
        main(["token", "alice"])
    message = str(refused.value.code)
    assert message.startswith(f"eterna token: no secret at {data.resolve() / 'jwt_secret'}")
    assert "ETERNA_DATA_DIR" in message
    assert "JWT_SECRET" in message
    assert not data.exists()

    # Where a server has run, the token is signed with its secret, and it says which.
    data.mkdir()
    (data / "jwt_secret").write_text(SECRET)
    main(["token", "alice"])
    out, err = capsys.readouterr()
    assert out.count(".") == 2  # a JWT, alone on stdout for $(eterna token alice)
    assert err.strip() == f"signed with the secret in {data.resolve() / 'jwt_secret'}"


def test_worker_without_jwt_secret_is_one_line() -> None:
    done = eterna("worker", DATABASE_URL=PG_ADMIN_URL, REDIS_URL=REDIS_URL)
    assert one_line(done) == (
        "eterna worker: the distributed mode needs JWT_SECRET (at least 32 characters) "
        "(--debug shows the traceback)"
    )


def test_worker_with_redis_down_is_one_line_and_does_not_start() -> None:
    done = eterna(
        "worker",
        DATABASE_URL=PG_ADMIN_URL,
        REDIS_URL="redis://127.0.0.1:1/0",
        JWT_SECRET=SECRET,
        ETERNA_METRICS_PORT="0",
    )
    line = one_line(done)
    assert line.startswith("eterna worker: cannot reach Redis at redis://127.0.0.1:1/0 (")
    assert "worker ready" not in done.stdout


def test_migrate_on_a_missing_database_is_one_line_and_the_traceback_is_for_debug() -> None:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    missing = f"{base}/eterna_missing_{uuid.uuid4().hex[:8]}"
    line = one_line(eterna("migrate", DATABASE_URL=missing))
    assert line.startswith("eterna migrate: the database of DATABASE_URL (")
    assert "does not exist: create it" in line
    debug = eterna("migrate", "--debug", DATABASE_URL=missing)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr
