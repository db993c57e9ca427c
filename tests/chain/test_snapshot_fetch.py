"""``eterna snapshots fetch`` against the local chain's JSON-RPC, and its dump loaded back.

The command reads a pool of each program and every account a swap on it needs with
getMultipleAccounts, at one slot; the dump then goes into a fresh chain (``set_account``),
where the engine's path quotes and swaps on it exactly as on the chain it came from. This is
the path a dump of mainnet takes on a machine with internet; here the local chain stands in.
Also here: getProgramAccounts with the filters pool discovery uses.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.fidelity import mainnet
from eterna.adapters.localchain.mainnet_pools import load_dump, locate_snapshots
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import PROGRAMS_DIR_ENV, ProgramFile
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.account_dumps import (
    DumpedAccount,
    DumpError,
    MintNote,
    fetch_dump,
    read_dump,
    write_dump,
)
from eterna.adapters.solana.anchor import account_discriminator
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS
from eterna.adapters.solana.discovery import pool_kinds
from eterna.adapters.solana.ids import WSOL_MINT
from eterna.adapters.solana.pool_list import MINT_OFFSETS
from eterna.adapters.solana.rpc import DataSizeFilter, MemcmpFilter
from eterna.adapters.solana.spl import decode_token_account
from eterna.domain.tokens import BONK, SOL, USDC
from eterna.entrypoints.cli import main
from tests.chain.node_support import manual_node, pool_of
from tests.chain.rpc_support import http_rpc, served

pytestmark = pytest.mark.anyio


async def test_the_command_dumps_pools_that_swap_alike_in_a_fresh_chain(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    node = manual_node(program_files)
    pools = {v: pool_of(node, v, SOL, USDC).address for v in ("raydium", "orca", "meteora")}
    folders = {v: tmp_path / v for v in pools}
    async with served(node) as url:
        for venue, pool in pools.items():
            command = [sys.executable, "-m", "eterna", "snapshots", "fetch", str(pool)]
            command += ["--rpc", url, "--out", str(folders[venue]), "--cluster", "localchain"]
            process = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            assert b"accounts at slot" in out

    manifest = json.loads((folders["raydium"] / "snapshot.json").read_text())
    assert manifest["pools"] == [str(pools["raydium"])]
    assert manifest["slot"] > 0
    assert url.split("//")[1].split(":")[0] in (folders["raydium"] / "SOURCE.md").read_text()
    for venue, folder in folders.items():
        dump = read_dump(folder)
        chain = LocalChain(program_files)
        (loaded,) = load_dump(chain, dump)
        assert loaded.added == ()  # the dump holds every account a swap needs
        report = mainnet.run(chain, loaded, swaps=200, seed=7)
        detail = "\n".join(map(str, report.outcome.mismatches))
        assert not report.outcome.mismatches, f"{venue}:\n{detail}"
        assert report.outcome.filled >= 150, venue


async def test_a_dump_is_one_slot_of_the_chain(program_files: list[ProgramFile]) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "meteora", SOL, USDC).address
    async with http_rpc(node) as (rpc, _):
        fetched = await fetch_dump(rpc, [pool], programs=MAINNET_PROGRAMS)
        slot = await rpc.get_slot()
    assert fetched.slot == slot
    by_key = {a.address: a for a in fetched.accounts}
    assert pool in by_key
    assert by_key[pool].data == node.account(pool).data  # type: ignore[union-attr]
    assert {m.decimals for m in fetched.mints.values()} == {SOL.decimals, USDC.decimals}


async def test_program_accounts_are_listed_with_size_and_memcmp_filters(
    program_files: list[ProgramFile],
) -> None:
    node = manual_node(program_files)
    async with http_rpc(node) as (rpc, client):
        bad = {"encoding": "base64", "filters": [{"memcmp": {"bytes": "x"}}]}
        body = {"jsonrpc": "2.0", "id": 1, "method": "getProgramAccounts"}
        answer = await client.post("/", json={**body, "params": [str(WSOL_MINT), bad]})
        assert answer.json()["error"]["code"] == -32602
        plain = await client.post(
            "/", json={**body, "params": [str(MAINNET_PROGRAMS.raydium), {"encoding": "base64"}]}
        )
        assert isinstance(plain.json()["result"], list)  # no context unless asked, as a node
        for kind in pool_kinds(MAINNET_PROGRAMS):
            everything = await rpc.get_program_accounts(kind.program)
            pools = await rpc.get_program_accounts(kind.program, kind.filters)
            listed = {k.address for k in pools.value}
            assert listed
            assert all(len(k.account.data) == kind.size for k in pools.value)
            assert listed < {k.address for k in everything.value}
            none = await rpc.get_program_accounts(
                kind.program,
                [DataSizeFilter(kind.size), MemcmpFilter(0, account_discriminator("Nothing"))],
            )
            assert none.value == []


def test_the_command_refuses_an_address_that_is_not_one(
    program_files: list[ProgramFile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv(PROGRAMS_DIR_ENV, str(program_files[0].path.parent))
    with pytest.raises(SystemExit, match="not a pool address"):
        main(
            [
                "snapshots",
                "fetch",
                "nope",
                "--out",
                str(tmp_path / "x"),
                "--rpc",
                "http://127.0.0.1:9",
            ]
        )


async def _dump_of(node: LocalNode, pool: Pubkey, folder: Path) -> None:
    async with http_rpc(node) as (rpc, _):
        fetched = await fetch_dump(rpc, [pool], programs=MAINNET_PROGRAMS)
    write_dump(
        folder,
        fetched.accounts,
        pools=[pool],
        mints=fetched.mints,
        cluster="localchain",
        slot=fetched.slot,
        source="test\n",
    )


async def test_a_cpswap_dump_without_vaults_takes_its_reserves_from_the_manifest(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "raydium", SOL, USDC).address
    await _dump_of(node, pool, tmp_path)
    state = cpswap.decode_pool_state(node.account(pool).data)  # type: ignore[union-attr]
    vaults = (state.token_0_vault, state.token_1_vault)
    held = tuple(decode_token_account(node.account(v).data).amount for v in vaults)  # type: ignore[union-attr]
    owed = (
        state.protocol_fees_token_0 + state.fund_fees_token_0,
        state.protocol_fees_token_1 + state.fund_fees_token_1,
    )
    for vault in vaults:
        (tmp_path / "accounts" / f"{vault}.json").unlink()
    with pytest.raises(DumpError, match="no reserves in the manifest"):
        load_dump(LocalChain(program_files), read_dump(tmp_path))

    manifest = json.loads((tmp_path / "snapshot.json").read_text())
    manifest["reserves"] = {str(pool): [held[0] - owed[0], held[1] - owed[1]]}
    (tmp_path / "snapshot.json").write_text(json.dumps(manifest))
    chain = LocalChain(program_files)
    (loaded,) = load_dump(chain, read_dump(tmp_path))

    assert [a.split(":")[0] for a in loaded.added] == [f"vault {v}" for v in vaults]
    assert tuple(chain.token_balance(v) for v in vaults) == held
    report = mainnet.run(chain, loaded, swaps=60, seed=3)
    assert not report.outcome.mismatches
    assert report.outcome.filled > 30


async def test_a_dump_missing_a_mint_needs_its_decimals(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    node = manual_node(program_files)
    pool = pool_of(node, "orca", BONK, SOL).address
    await _dump_of(node, pool, tmp_path)
    (tmp_path / "accounts" / f"{BONK.mint}.json").unlink()
    chain = LocalChain(program_files)
    (loaded,) = load_dump(chain, read_dump(tmp_path))  # BONK is a well-known token
    assert f"mint {BONK.mint} ({BONK.decimals} decimals)" in loaded.added
    assert chain.mint(Pubkey.from_string(BONK.mint)).decimals == BONK.decimals

    # A mint nobody knows: the manifest must give its decimals.
    dump = read_dump(tmp_path)
    stranger = Pubkey.new_unique()
    offset = MINT_OFFSETS["orca"][0]
    data = bytearray(dump.accounts[pool].data)
    data[offset : offset + 32] = bytes(stranger)
    accounts = {**dump.accounts, pool: replace(dump.accounts[pool], data=bytes(data))}
    with pytest.raises(DumpError, match="neither dumped nor given decimals"):
        load_dump(LocalChain(program_files), replace(dump, accounts=accounts))
    noted = replace(dump, accounts=accounts, mints={stranger: MintNote(3, "NEW")})
    (loaded,) = load_dump(LocalChain(program_files), noted)
    assert (loaded.entry.token_a.symbol, loaded.entry.token_a.decimals) == ("NEW", 3)


def test_dump_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(DumpError, match="no pool dumps"):
        locate_snapshots(tmp_path / "absent")
    with pytest.raises(DumpError):
        DumpedAccount.from_json({"pubkey": "x", "account": {}})
    with pytest.raises(DumpError, match="base64"):
        DumpedAccount.from_json(
            {
                "pubkey": str(WSOL_MINT),
                "account": {"lamports": 1, "data": ["", "base58"], "owner": str(WSOL_MINT)},
            }
        )
    account = DumpedAccount(WSOL_MINT, 5, b"\x01\x02", WSOL_MINT)
    assert DumpedAccount.from_json(account.to_json()) == account
    write_dump(tmp_path, [account], pools=[Pubkey.new_unique()], source="x\n")
    with pytest.raises(DumpError, match="no account file of pool"):
        read_dump(tmp_path)
