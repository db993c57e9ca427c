"""Real mainnet pools in the local chain: decoded, quoted and swapped with the real programs.

The dumps (``ETERNA_SNAPSHOTS_DIR``, else ``../shared/mainnet-snapshots``; their sources in
each folder's SOURCE.md) are loaded with ``set_account``; the engine's own reader, math and
transaction builder then quote and swap on them, at least 200 swaps per program, and the
pool's vaults must move by exactly the quote. The dumps are chain data taken from public
repositories, which this repository does not hold: without the folder these checks are
skipped, with the reason and the fix in the test report; a malformed or empty folder fails.
A program none of the dumps holds a pool of skips its swap check, naming the program.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.fidelity import mainnet
from eterna.adapters.localchain.mainnet_pools import (
    SNAPSHOTS_DIR_ENV,
    LoadedPool,
    load_dump,
    locate_snapshots,
)
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.account_dumps import Dump, DumpError, read_dump
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.whirlpool import decode_whirlpool
from eterna.amm.whirlpool import WhirlpoolPool

SWAPS_PER_POOL = 250
SEED = 20_261_207
PROGRAM_NAMES = {WHIRLPOOL_PROGRAM: "Whirlpool", DLMM_PROGRAM: "DLMM", CPSWAP_PROGRAM: "CP-Swap"}


@pytest.fixture(scope="module")
def dumps() -> dict[str, Dump]:
    configured = os.environ.get(SNAPSHOTS_DIR_ENV)
    try:
        root = locate_snapshots(Path(configured) if configured else None)
    except DumpError as exc:
        # The dumps are public chain data that the repository must not hold; a checkout
        # without them cannot run these checks, and says so in the test report.
        pytest.skip(str(exc))
    try:
        found = {p.parent.name: read_dump(p.parent) for p in sorted(root.glob("*/snapshot.json"))}
    except DumpError as exc:
        pytest.fail(str(exc), pytrace=False)
    if not found:
        pytest.fail(f"no dumps in {root}", pytrace=False)
    return found


def _load(programs: list[ProgramFile], dump: Dump) -> tuple[LocalChain, LoadedPool]:
    chain = LocalChain(programs)
    (pool,) = load_dump(chain, dump)
    return chain, pool


def test_the_dumps_hold_real_mainnet_pools_among_them_whirlpools(dumps: dict[str, Dump]) -> None:
    owners = {d.accounts[p].owner for d in dumps.values() for p in d.pools}
    assert owners <= {WHIRLPOOL_PROGRAM, DLMM_PROGRAM, CPSWAP_PROGRAM}
    assert WHIRLPOOL_PROGRAM in owners  # the checks below on ticks and tokens need one
    assert all(d.cluster == "mainnet-beta" for d in dumps.values())


def test_a_whole_dump_needs_nothing_added_and_holds_ticks_a_swap_crosses(
    program_files: list[ProgramFile], dumps: dict[str, Dump]
) -> None:
    crossing = 0
    for dump in dumps.values():
        if dump.accounts[dump.pools[0]].owner != WHIRLPOOL_PROGRAM:
            continue
        chain, pool = _load(program_files, dump)
        math = mainnet.read(chain, pool.entry).math
        if isinstance(math, WhirlpoolPool) and math.ticks:
            crossing += 1
            assert not any(a.startswith("vault") for a in pool.added)
    assert crossing >= 1


def test_a_loaded_pool_decodes_to_the_dumped_state_with_real_tokens(
    program_files: list[ProgramFile], dumps: dict[str, Dump]
) -> None:
    dump = next(d for d in dumps.values() if d.accounts[d.pools[0]].owner == WHIRLPOOL_PROGRAM)
    chain, pool = _load(program_files, dump)
    dumped = decode_whirlpool(dump.accounts[pool.entry.address].data)
    read = mainnet.read(chain, pool.entry)
    assert read.tradable
    assert read.state.state == dumped  # type: ignore[union-attr]
    assert read.math.spot_price(a_to_b=True) > 0
    for token in (pool.entry.token_a, pool.entry.token_b):
        mint = chain.mint(Pubkey.from_string(token.mint))
        assert mint.decimals == token.decimals
    # The vaults the loader wrote hold the fees owed plus what the walkable liquidity pays.
    assert read.reserves[0] > dumped.protocol_fee_owed_a
    assert read.reserves[1] > dumped.protocol_fee_owed_b


@pytest.mark.parametrize(
    "program",
    [WHIRLPOOL_PROGRAM, DLMM_PROGRAM, CPSWAP_PROGRAM],
    ids=["whirlpool", "dlmm", "cpswap"],
)
def test_every_swap_on_real_pools_fills_exactly_what_our_math_quotes(
    program_files: list[ProgramFile], dumps: dict[str, Dump], program: Pubkey
) -> None:
    mine = {n: d for n, d in dumps.items() if d.accounts[d.pools[0]].owner == program}
    if not mine:
        # Public dumps of some programs' mainnet pools are rare (decision 0031): the checks
        # on the others still run, and the report names what is missing.
        pytest.skip(f"none of the mainnet pool dumps holds a {PROGRAM_NAMES[program]} pool")
    filled = refused = 0
    for name, dump in mine.items():
        chain, pool = _load(program_files, dump)
        report = mainnet.run(chain, pool, swaps=SWAPS_PER_POOL, seed=SEED)
        mismatches = "\n".join(str(m) for m in report.outcome.mismatches)
        assert not report.outcome.mismatches, f"{name}:\n{mismatches}"
        assert report.outcome.swaps == SWAPS_PER_POOL
        filled += report.outcome.filled
        refused += report.outcome.refused
        # A swap our math refuses lands only when it pays nothing (Whirlpool keeps the input).
        assert all(z.taken > 0 for z in report.zero_fills)
        if program != WHIRLPOOL_PROGRAM:
            assert not report.zero_fills
    assert filled >= 200
    assert refused > 0  # single units that pay nothing are among the swaps
