"""Real pools in the local chain: account dumps of a cluster's pools, loaded with ``set_account``.

A dump (:mod:`eterna.adapters.solana.account_dumps`) holds a pool's own accounts as a
cluster returned them; the real programs then swap on the pool as they would there. Public
dumps often hold the pool account alone, so the loader completes what a swap needs and the
dump lacks, each consistent with the pool's own state:

- a mint missing: written at its real address with its real decimals (from the manifest, or
  the well-known tokens), the local faucet as its mint authority;
- a vault missing: a token account at the pool's vault address, owned as the program owns
  it, holding what the pool's state says it must:
  Whirlpool: the fees owed to the protocol plus the most that a swap in the direction paying
  that token can take out of the liquidity within the tick arrays the program walks (found
  with our math); DLMM: the amounts of every bin of the dumped bin arrays plus the protocol
  fees; CP-Swap: the reserves the manifest gives plus the fees owed (the pool account does not
  hold its reserves, so a dump without vaults must say them);
- a DLMM pair's oracle missing: an empty oracle as the program's own ``initialize`` leaves it.

Tick arrays and bin arrays the dump lacks stay absent: the program reads an absent tick array
as holding no initialized tick, and a DLMM swap walks only the arrays the quote read.

Dumps are test data, looked for in the folder ``ETERNA_SNAPSHOTS_DIR`` names, else
``../shared/mainnet-snapshots`` beside the repository, one sub-folder per dump.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from solders.pubkey import Pubkey

from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.account_dumps import MANIFEST, Dump, DumpError, read_dump
from eterna.adapters.solana.anchor import account_discriminator
from eterna.adapters.solana.clusters import Cluster, programs_on
from eterna.adapters.solana.discovery import pool_mints
from eterna.adapters.solana.dlmm import decode_bin_array, decode_lb_pair, oracle_address
from eterna.adapters.solana.ids import DLMM_PROGRAM, WSOL_MINT
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.spl import (
    TOKEN_ACCOUNT_LEN,
    AccountState,
    TokenAccountInfo,
    decode_mint,
    encode_token_account,
)
from eterna.adapters.solana.whirlpool import (
    decode_tick_array,
    decode_whirlpool,
    tick_array_address,
)
from eterna.adapters.solana.whirlpool_math import pool_math, quote_array_starts
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.domain.tokens import WELL_KNOWN, Token

SNAPSHOTS_DIR_ENV: Final = "ETERNA_SNAPSHOTS_DIR"
_REPOSITORY_ROOT: Final = Path(__file__).resolve().parents[3]
DEFAULT_SNAPSHOTS_DIR: Final = _REPOSITORY_ROOT.parent / "shared" / "mainnet-snapshots"
# The DLMM program's oracle length at initialize (``DEFAULT_OBSERVATION_LENGTH``), and the
# size of one observation (cumulative active bin id i128, created_at i64, last_updated_at i64).
DLMM_ORACLE_LENGTH: Final = 100
DLMM_OBSERVATION_LEN: Final = 32
U64_MAX: Final = 2**64 - 1


@dataclass(frozen=True, slots=True)
class LoadedPool:
    """A dumped pool on the chain: its registry entry and what the loader had to add."""

    entry: PoolEntry
    added: tuple[str, ...]


def locate_snapshots(configured: Path | None = None) -> Path:
    """Return the folder of the dumps (``ETERNA_SNAPSHOTS_DIR``, else the shared folder).

    :raises DumpError: when it does not exist, with the fix in the message.
    """
    if configured is None:
        env = os.environ.get(SNAPSHOTS_DIR_ENV)
        configured = Path(env) if env else DEFAULT_SNAPSHOTS_DIR
    if not configured.is_dir():
        raise DumpError(
            f"no pool dumps at {configured}: set {SNAPSHOTS_DIR_ENV} to a folder of dumps "
            "(one sub-folder each, made by `eterna snapshots fetch`)"
        )
    return configured


def dump_folders(root: Path) -> list[Path]:
    """Return the dump folders under root (those holding a manifest), sorted by name."""
    return sorted(p.parent for p in root.glob(f"*/{MANIFEST}"))


def load_dump(chain: LocalChain, dump: Dump) -> list[LoadedPool]:
    """Put every account of the dump on the chain, complete each pool, return the pools.

    :raises DumpError: when a pool is not one of the three programs' pools, or a CP-Swap
        pool lacks its vaults and the manifest its reserves.
    """
    for account in dump.accounts.values():
        chain.put_account(
            account.address,
            account.data,
            account.owner,
            lamports=account.lamports,
            executable=account.executable,
        )
    return [_complete(chain, dump, pool) for pool in dump.pools]


def _complete(chain: LocalChain, dump: Dump, pool: Pubkey) -> LoadedPool:
    account = dump.accounts[pool]
    program = account.owner
    # The local chain runs the programs at their local (mainnet) ids: a pool dumped from
    # devnet's CP-Swap has an owner no program here answers to.
    venue = programs_on(Cluster.LOCALNET).venue_of(program)
    if venue is None:
        raise DumpError(f"pool {pool} is owned by {program}, not a DEX program Eterna trades on")
    added: list[str] = []
    mint_a, mint_b = pool_mints(venue, account.data)
    tokens = (_token(chain, dump, mint_a, added), _token(chain, dump, mint_b, added))
    entry = PoolEntry(venue, program, pool, *tokens)
    if venue == "orca":
        _whirlpool_vaults(chain, pool, added)
    elif venue == "meteora":
        _dlmm_accounts(chain, dump, pool, added)
    else:
        _cpswap_vaults(chain, dump, pool, added)
    return LoadedPool(entry, tuple(added))


def _token(chain: LocalChain, dump: Dump, mint: Pubkey, added: list[str]) -> Token:
    known = {t.mint: t for t in WELL_KNOWN}.get(str(mint))
    note = dump.mints.get(mint)
    symbol = note.symbol if note is not None else known.symbol if known is not None else None
    existing = chain.account(mint)
    if existing is not None:
        return Token(str(mint), symbol, decode_mint(existing.data).decimals)
    if note is not None:
        decimals = note.decimals
    elif known is not None:
        decimals = known.decimals
    else:
        raise DumpError(f"mint {mint} is neither dumped nor given decimals in the manifest")
    chain.put_mint(mint, decimals)
    added.append(f"mint {mint} ({decimals} decimals)")
    return Token(str(mint), symbol, decimals)


def put_token_account(
    chain: LocalChain, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: int
) -> None:
    """Write a token account at address holding amount of mint, owned by owner.

    A wrapped-SOL account holds its amount in lamports above its rent, as the token program
    keeps it.
    """
    if not 0 <= amount <= U64_MAX:
        raise DumpError(f"vault {address} cannot hold {amount}")
    rent = chain.rent_exempt(TOKEN_ACCOUNT_LEN)
    native = mint == WSOL_MINT
    state = TokenAccountInfo(
        mint=mint,
        owner=owner,
        amount=amount,
        delegate=None,
        state=AccountState.INITIALIZED,
        native_reserve=rent if native else None,
        delegated_amount=0,
        close_authority=None,
    )
    program = chain.token_program_of(mint)
    lamports = rent + amount if native else rent
    chain.put_account(address, encode_token_account(state), program, lamports=lamports)


def _whirlpool_vaults(chain: LocalChain, pool: Pubkey, added: list[str]) -> None:
    state = decode_whirlpool(chain.account_data(pool))
    if chain.account(state.vault_a) is not None and chain.account(state.vault_b) is not None:
        return
    arrays = {}
    for start in quote_array_starts(state):
        found = chain.account(tick_array_address(pool, start))
        arrays[start] = (
            decode_tick_array(found.data, state.tick_spacing) if found and found.data else None
        )
    math = pool_math(pool, state, arrays, balance_a=U64_MAX, balance_b=U64_MAX)
    out_a = _most_out(math, a_to_b=False)  # B -> A takes A out
    out_b = _most_out(math, a_to_b=True)
    amounts = {
        state.vault_a: (state.mint_a, state.protocol_fee_owed_a + out_a),
        state.vault_b: (state.mint_b, state.protocol_fee_owed_b + out_b),
    }
    for vault, (mint, amount) in amounts.items():
        if chain.account(vault) is None:
            put_token_account(chain, vault, mint, pool, amount)
            added.append(f"vault {vault}: {amount} of {mint}")


def _most_out(pool: WhirlpoolPool, *, a_to_b: bool) -> int:
    """Return the most a swap in one direction can take out of the pool (0 when none)."""
    rich = replace(pool, balance_a=U64_MAX, balance_b=U64_MAX)
    low, high = 0, U64_MAX
    while low < high:  # the largest amount in that our math fills
        middle = (low + high + 1) // 2
        (result,) = rich.quote_amounts([middle], a_to_b=a_to_b)
        if result is None:
            high = middle - 1
        else:
            low = middle
    if low == 0:
        return 0
    (result,) = rich.quote_amounts([low], a_to_b=a_to_b)
    return 0 if result is None else result.amount_out


def _dlmm_accounts(chain: LocalChain, dump: Dump, pool: Pubkey, added: list[str]) -> None:
    pair = decode_lb_pair(chain.account_data(pool))
    total_x = total_y = 0
    for account in dump.accounts.values():
        if account.owner != DLMM_PROGRAM or account.data[:8] != _BIN_ARRAY:
            continue
        array = decode_bin_array(account.data)
        if array.lb_pair == pool:
            total_x += sum(b.amount_x for b in array.bins)
            total_y += sum(b.amount_y for b in array.bins)
    reserves = {
        pair.reserve_x: (pair.token_x_mint, total_x + pair.protocol_fee_x),
        pair.reserve_y: (pair.token_y_mint, total_y + pair.protocol_fee_y),
    }
    for vault, (mint, amount) in reserves.items():
        if chain.account(vault) is None:
            put_token_account(chain, vault, mint, pool, amount)
            added.append(f"reserve {vault}: {amount} of {mint}")
    if pair.oracle != oracle_address(pool):
        raise DumpError(f"pair {pool} names oracle {pair.oracle}, not its PDA")
    if chain.account(pair.oracle) is None:
        header = _ORACLE + struct.pack("<QQQ", 0, 0, DLMM_ORACLE_LENGTH)
        chain.put_account(
            pair.oracle, header + bytes(DLMM_ORACLE_LENGTH * DLMM_OBSERVATION_LEN), DLMM_PROGRAM
        )
        added.append(f"empty oracle {pair.oracle}")


_BIN_ARRAY: Final = account_discriminator("BinArray")
_ORACLE: Final = account_discriminator("Oracle")


def _cpswap_vaults(chain: LocalChain, dump: Dump, pool: Pubkey, added: list[str]) -> None:
    state = cpswap.decode_pool_state(chain.account_data(pool))
    vaults = (state.token_0_vault, state.token_1_vault)
    if all(chain.account(v) is not None for v in vaults):
        return
    reserves = dump.reserves.get(pool)
    if reserves is None:
        raise DumpError(f"CP-Swap pool {pool}: no vaults dumped and no reserves in the manifest")
    owed = (
        state.protocol_fees_token_0 + state.fund_fees_token_0,
        state.protocol_fees_token_1 + state.fund_fees_token_1,
    )
    mints = (state.token_0_mint, state.token_1_mint)
    for vault, mint, reserve, fees in zip(vaults, mints, reserves, owed, strict=True):
        if chain.account(vault) is None:
            put_token_account(chain, vault, mint, cpswap.authority_address(), reserve + fees)
            added.append(f"vault {vault}: {reserve + fees} of {mint}")


def iter_dumps(root: Path) -> Iterator[tuple[str, Dump]]:
    """Yield each dump under root with its folder's name."""
    for folder in dump_folders(root):
        yield folder.name, read_dump(folder)


__all__ = [
    "DEFAULT_SNAPSHOTS_DIR",
    "SNAPSHOTS_DIR_ENV",
    "LoadedPool",
    "dump_folders",
    "iter_dumps",
    "load_dump",
    "locate_snapshots",
    "put_token_account",
]
