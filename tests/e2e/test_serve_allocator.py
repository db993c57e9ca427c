"""`eterna serve` runs on the C library's allocator, in the process it was started as."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import free_port


def _environment_of_serve(tmp_path: Path, **extra: str) -> bytes:
    """Start an embedded `eterna serve`, wait until it answers, return its environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "PYTHONMALLOC"}
    }
    env.update(ETERNA_DATA_DIR=str(tmp_path / "data"), ETERNA_LOG_LEVEL="WARNING", **extra)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eterna", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        # The pid the caller holds is the server's: the new image replaced the process.
        return Path(f"/proc/{proc.pid}/environ").read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, b"PYTHONMALLOC=malloc"),
        ({"ETERNA_SYSTEM_ALLOCATOR": "false"}, None),
        ({"PYTHONMALLOC": "pymalloc"}, b"PYTHONMALLOC=pymalloc"),
    ],
)
def test_serve_chooses_its_allocator_as_configured(
    tmp_path: Path, extra: dict[str, str], expected: bytes | None
) -> None:
    variables = _environment_of_serve(tmp_path, **extra).split(b"\0")
    found = [v for v in variables if v.startswith(b"PYTHONMALLOC=")]
    assert found == ([expected] if expected else [])
