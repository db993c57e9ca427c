"""Dumping a program from a cluster's RPC: ProgramData parsing, the hash gate, RPC failures.

The RPC is a fake transport answering getAccountInfo with real layouts (the upgradeable
loader's Program and ProgramData accounts around the tested binary); there is no network.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.programs import (
    CPSWAP,
    DLMM,
    PROGRAMDATA_HEADER_LEN,
    UPGRADEABLE_LOADER,
    ProgramFetchError,
    ProgramFile,
    ProgramHashMismatchError,
    fetch_program,
    locate_programs,
)

RPC = "http://rpc.test"
PROGRAMDATA = Pubkey.new_unique()
Accounts = dict[str, tuple[Pubkey, bytes] | None]


def _program_account() -> bytes:
    return struct.pack("<I", 2) + bytes(PROGRAMDATA)


def _programdata_account(image: bytes, padding: int = 10_000) -> bytes:
    authority = b"\x01" + bytes(Pubkey.new_unique())
    header = struct.pack("<IQ", 3, 312_000_000) + authority
    assert len(header) == PROGRAMDATA_HEADER_LEN
    return header + image + bytes(padding)


def _client(accounts: Accounts, requests: list[dict[str, Any]] | None = None) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if requests is not None:
            requests.append(body)
        assert body["method"] == "getAccountInfo"
        assert body["params"][1] == {"encoding": "base64"}
        found = accounts[body["params"][0]]
        value = None
        if found is not None:
            owner, data = found
            value = {
                "owner": str(owner),
                "data": [base64.b64encode(data).decode(), "base64"],
                "lamports": 1,
                "executable": False,
            }
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": {"value": value}})

    return httpx.Client(transport=httpx.MockTransport(answer))


def _cpswap_accounts(image: bytes, program_id: Pubkey = CPSWAP.program_id) -> Accounts:
    return {
        str(program_id): (UPGRADEABLE_LOADER, _program_account()),
        str(PROGRAMDATA): (UPGRADEABLE_LOADER, _programdata_account(image)),
    }


@pytest.fixture
def cpswap_image(program_files: list[ProgramFile]) -> bytes:
    return next(p for p in program_files if p.spec == CPSWAP).path.read_bytes()


def test_fetch_writes_the_tested_build_without_header_or_padding(
    cpswap_image: bytes, tmp_path: Path
) -> None:
    requests: list[dict[str, Any]] = []
    with _client(_cpswap_accounts(cpswap_image), requests) as client:
        fetched = fetch_program(client, RPC, CPSWAP, tmp_path)
    assert fetched.path == tmp_path / "programs" / CPSWAP.filename
    assert fetched.path.read_bytes() == cpswap_image
    assert [r["params"][0] for r in requests] == [str(CPSWAP.program_id), str(PROGRAMDATA)]
    # What fetch writes is what the chain then finds in the data folder.
    found = locate_programs(tmp_path / "programs", specs=[CPSWAP])
    assert found[0].path == fetched.path


def test_fetch_of_another_build_raises_and_writes_nothing(
    cpswap_image: bytes, tmp_path: Path
) -> None:
    with (
        # A cluster whose DLMM id runs another program (here: the CP-Swap binary).
        _client(_cpswap_accounts(cpswap_image, DLMM.program_id)) as client,
        pytest.raises(ProgramHashMismatchError, match="not the tested Meteora DLMM build"),
    ):
        fetch_program(client, RPC, DLMM, tmp_path)
    assert not (tmp_path / "programs" / DLMM.filename).exists()


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ({str(CPSWAP.program_id): None}, "no account"),
        (
            {str(CPSWAP.program_id): (Pubkey.new_unique(), _program_account())},
            "no upgradeable program",
        ),
        (
            {
                str(CPSWAP.program_id): (UPGRADEABLE_LOADER, _program_account()),
                str(PROGRAMDATA): (UPGRADEABLE_LOADER, struct.pack("<I", 1) + bytes(100)),
            },
            "no ProgramData account",
        ),
    ],
)
def test_fetch_refuses_what_is_no_upgradeable_program(
    accounts: Accounts, message: str, tmp_path: Path
) -> None:
    with _client(accounts) as client, pytest.raises(ProgramFetchError, match=message):
        fetch_program(client, RPC, CPSWAP, tmp_path)


def _failing(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(answer))


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda r: httpx.Response(503, text="busy"), "503"),
        (lambda r: httpx.Response(200, text="<html>"), "failed"),
        (
            lambda r: httpx.Response(
                200, json={"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "slow"}}
            ),
            "slow",
        ),
        (lambda r: httpx.Response(200, json={"result": {"value": {"data": "x"}}}), "unexpected"),
        (_refuse, "connection refused"),
    ],
)
def test_rpc_failures_become_one_typed_error(
    answer: Callable[[httpx.Request], httpx.Response], message: str, tmp_path: Path
) -> None:
    with _failing(answer) as client, pytest.raises(ProgramFetchError, match=message):
        fetch_program(client, RPC, CPSWAP, tmp_path)
    assert not (tmp_path / "programs").exists()
