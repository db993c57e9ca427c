"""`eterna chain` as its own process: JSON-RPC, subscriptions and admin on one port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.programs import ProgramFile, locate_programs
from eterna.adapters.solana.http_rpc import HttpRpc

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def chain_url(program_files: list[ProgramFile], tmp_path: Path) -> Iterator[str]:
    """Run `eterna chain` with manual slots on a free port; yield its URL."""
    port = _free_port()
    env = {
        **os.environ,
        "ETERNA_PROGRAMS_DIR": str(program_files[0].path.parent),
        "ETERNA_DATA_DIR": str(tmp_path),
        "ETERNA_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "eterna", "chain", "--port", str(port), "--slot-ms", "0"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    with httpx.Client() as client:
        for _ in range(STARTUP_SECONDS * 10):
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"eterna chain exited: {output}")
            try:
                if client.get(url + "health").text == "ok":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise AssertionError("eterna chain never became healthy")


async def test_eterna_chain_serves_rpc_subscriptions_and_admin(chain_url: str) -> None:
    async with httpx.AsyncClient() as http:
        rpc = HttpRpc(http, chain_url)
        await rpc.get_health()
        start = await rpc.get_slot()
        async with rpc.slot_updates() as slots:
            advanced = await http.post(chain_url + "admin/advance", json={"slots": 2})
            async with asyncio.timeout(10):
                first, second = await anext(slots), await anext(slots)
        pools = (await http.get(chain_url + "admin/pools")).json()
        accounts = await rpc.get_multiple_accounts([Pubkey.from_string(pools[0]["address"])])
    assert advanced.json()["slot"] == start + 2
    assert (first.slot, second.slot) == (start + 1, start + 2)
    assert len(pools) >= 20
    assert accounts.value[0] is not None


def _eterna(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run an ``eterna`` command with its own data folder; return what it did."""
    environment = {**os.environ, "ETERNA_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "eterna", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )


async def test_programs_fetch_dumps_the_tested_builds_from_a_chain_and_prints_their_hashes(
    chain_url: str, program_files: list[ProgramFile], tmp_path: Path
) -> None:
    # The chain serves its programs as a cluster does: upgradeable, behind ProgramData.
    data_dir = tmp_path / "fetched"
    done = await asyncio.to_thread(_eterna, ["programs", "fetch", "--rpc", chain_url], data_dir)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(program_files)
    for line, program in zip(lines, program_files, strict=True):
        digest, path = line.split()[:2]
        assert digest == program.spec.sha256
        assert Path(path) == data_dir / "programs" / program.spec.filename
    # What it wrote is what the chain finds in the data folder, hash-checked.
    found = locate_programs(data_dir / "programs")
    assert [p.spec for p in found] == [p.spec for p in program_files]


def test_eterna_chain_without_its_programs_exits_with_one_line_naming_the_fetch(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    done = _eterna(["chain", "--port", str(_free_port())], tmp_path, ETERNA_PROGRAMS_DIR=str(empty))

    assert done.returncode != 0
    message = done.stderr.strip().splitlines()
    assert len(message) == 1, done.stderr
    assert "eterna programs fetch" in message[0]
