"""A real `eterna serve` process and headless Chromium, for the order page's test."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from eterna.adapters.auth import JwtAuth
from eterna.core.clock import utcnow

CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Headless and quiet: no sandbox (CI runs as root), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_LINK = re.compile(r"order page, signed in as 'dev': (\S+)")


def free_port() -> int:
    """Return a port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """A running `eterna serve` and the ready link it printed."""

    url: str
    link: str
    data_dir: Path
    log: Path

    @property
    def token(self) -> str:
        return self.link.partition("#token=")[2]

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Run a GraphQL document outside the browser, as the dev user or the token's."""
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def token_for(self, user: str) -> str:
        """Issue a token for another user, signed with the secret the server generated."""
        secret = (self.data_dir / "jwt_secret").read_text().strip()
        return JwtAuth(secret).issue(user, now=utcnow(), ttl=timedelta(hours=1))


@contextlib.contextmanager
def serve(data_dir: Path, log: Path, port: int | None = None) -> Iterator[Served]:
    """Run `eterna serve` in the embedded mode (on a free port) until the block ends."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ETERNA_SOLANA_RPC_URL"}
    }
    env.update(
        ETERNA_DATA_DIR=str(data_dir),
        ETERNA_LOG_LEVEL="WARNING",
        ETERNA_ORDER_PAGE="true",
    )
    port = port or free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eterna", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        link = _wait_ready(url, log, proc)
        yield Served(url=url, link=link, data_dir=data_dir, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(url: str, log: Path, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"eterna serve exited:\n{log.read_text()}")
        found = PAGE_LINK.search(log.read_text())
        with contextlib.suppress(httpx.HTTPError):
            if found and httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"eterna serve did not come up:\n{log.read_text()}")


def chromium_path() -> Path | None:
    """Return the browser to drive: $CHROMIUM if set, else the first Chromium on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return Path(configured)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


@contextlib.contextmanager
def chromium(extra_args: tuple[str, ...] = ()) -> Iterator[Browser]:
    """Launch Chromium ($CHROMIUM or PATH) through Playwright; a missing one fails the test."""
    executable = chromium_path()
    if executable is None or not executable.exists():
        # Never skipped: CI's test command installs it (scripts/chromium.sh).
        pytest.fail(
            f"no Chromium ({executable or 'none on PATH'}): set CHROMIUM to its path or run "
            "`bash scripts/chromium.sh`"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()
