"""A pool read from its accounts: our math's state, and what its swap instruction needs.

Each program says which accounts a quote needs (:func:`needed_keys`) from what was read so
far - the pool account first, then the vaults, tick or bin arrays its state points to - and
turns them into a :class:`PoolSnapshot` (:func:`snapshot`). The reader
(:mod:`eterna.adapters.solana.reader`) fetches until the set is complete, usually at once:
it asks again for the accounts the pool needed last time.

A DLMM pair is quoted on the bin arrays a swap in either direction walks, at most
:data:`DLMM_ARRAYS_PER_SIDE` of them; its ``swap2`` lists the same arrays, so the program
walks exactly the bins the quote saw.

A pool is read by its venue, not its program's id: the entry's program is the one of its
cluster (CP-Swap's differs on devnet), checked when the pool was listed or discovered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from solders.pubkey import Pubkey

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.anchor import AccountLayoutError
from eterna.adapters.solana.dlmm import (
    LbPair,
    bin_array_address,
    bitmap_extension_address,
    decode_bin_array,
    decode_bitmap_extension,
    decode_lb_pair,
)
from eterna.adapters.solana.dlmm_swap import (
    PairNotTradableError,
    UnsupportedPairError,
    bin_arrays_for_swap,
    check_tradable,
    liquid_bin_arrays,
    pool_state,
)
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.rpc import AccountInfo
from eterna.adapters.solana.spl import decode_token_account
from eterna.adapters.solana.whirlpool import (
    WhirlpoolState,
    decode_tick_array,
    decode_whirlpool,
    tick_array_address,
)
from eterna.adapters.solana.whirlpool_math import TickArraysError, pool_math, quote_array_starts
from eterna.amm.base import PoolMath
from eterna.domain.errors import VenueError

DLMM_ARRAYS_PER_SIDE: Final = 3
Accounts = Mapping[Pubkey, AccountInfo | None]


class PoolStateError(VenueError):
    """A pool's account is missing or is not what its program writes; it cannot be quoted."""


@dataclass(frozen=True, slots=True)
class DlmmSwapAccounts:
    """What ``swap2`` needs beyond the pair: the arrays each direction walks, the extension."""

    pair: LbPair
    arrays_for_y: tuple[int, ...]  # X -> Y, in swap order
    arrays_for_x: tuple[int, ...]  # Y -> X, in swap order
    extension: Pubkey | None


@dataclass(frozen=True, slots=True)
class WhirlpoolSwapAccounts:
    """What ``swap_v2`` needs beyond the pool: its state and the vaults' token programs."""

    state: WhirlpoolState
    token_program_a: Pubkey
    token_program_b: Pubkey


ProgramState = cpswap.PoolState | WhirlpoolSwapAccounts | DlmmSwapAccounts


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A pool at one slot: our math's state, the program's decoded state, tradable or why not.

    ``unix_time`` is the chain clock's, for math whose fees depend on time (DLMM);
    ``vaults`` the addresses of the pool's vaults of A and B, ``reserves`` what they hold.
    """

    entry: PoolEntry
    slot: int
    unix_time: int
    math: PoolMath
    state: ProgramState
    vaults: tuple[Pubkey, Pubkey]
    reserves: tuple[int, int]
    closed_reason: str | None = None

    @property
    def tradable(self) -> bool:
        """Tell whether the program accepts swaps on the pool now."""
        return self.closed_reason is None

    @property
    def watched(self) -> tuple[Pubkey, Pubkey, Pubkey]:
        """Return the accounts every swap and deposit changes: the pool and its vaults."""
        return (self.entry.address, *self.vaults)


def _data(accounts: Accounts, key: Pubkey, what: str, entry: PoolEntry) -> bytes:
    account = accounts.get(key)
    if account is None:
        raise PoolStateError(f"{entry.venue} pool {entry.address}: no {what} account at {key}")
    return account.data


def _owner(accounts: Accounts, key: Pubkey) -> Pubkey:
    account = accounts.get(key)
    if account is None:  # checked by the caller's _data first
        raise PoolStateError(f"no account at {key}")
    return account.owner


def needed_keys(entry: PoolEntry, accounts: Accounts) -> list[Pubkey]:
    """Return every account a quote of the pool needs, given the accounts read so far.

    :raises PoolStateError: when the pool's own account is missing or does not decode.
    """
    if entry.address not in accounts:
        return [entry.address]
    data = _data(accounts, entry.address, "pool", entry)
    try:
        if entry.venue == "raydium":
            pool = cpswap.decode_pool_state(data)
            return [entry.address, pool.amm_config, pool.token_0_vault, pool.token_1_vault]
        if entry.venue == "orca":
            state = decode_whirlpool(data)
            arrays = [tick_array_address(entry.address, s) for s in quote_array_starts(state)]
            return [entry.address, state.vault_a, state.vault_b, *arrays]
        return _dlmm_keys(entry, decode_lb_pair(data), accounts)
    except AccountLayoutError as exc:
        raise PoolStateError(f"{entry.venue} pool {entry.address}: {exc}") from exc


def _dlmm_keys(entry: PoolEntry, pair: LbPair, accounts: Accounts) -> list[Pubkey]:
    extension_key = bitmap_extension_address(entry.address)
    keys = [entry.address, pair.reserve_x, pair.reserve_y, extension_key]
    if extension_key not in accounts:
        return keys
    extension = accounts[extension_key]
    bitmap = None if extension is None else decode_bitmap_extension(extension.data)
    for swap_for_y in (True, False):
        indexes = bin_arrays_for_swap(
            pair, swap_for_y=swap_for_y, count=DLMM_ARRAYS_PER_SIDE, extension=bitmap
        )
        keys += [bin_array_address(entry.address, i) for i in indexes]
    return list(dict.fromkeys(keys))


def snapshot(entry: PoolEntry, accounts: Accounts, *, slot: int, unix_time: int) -> PoolSnapshot:
    """Return the pool's snapshot from every account :func:`needed_keys` named.

    :raises PoolStateError: when an account is missing or does not decode, or the pool uses
        a feature our math does not model.
    """
    try:
        if entry.venue == "raydium":
            return _cpswap(entry, accounts, slot=slot, unix_time=unix_time)
        if entry.venue == "orca":
            return _whirlpool(entry, accounts, slot=slot, unix_time=unix_time)
        if entry.venue == "meteora":
            return _dlmm(entry, accounts, slot=slot, unix_time=unix_time)
    except (AccountLayoutError, TickArraysError, UnsupportedPairError, ValueError) as exc:
        raise PoolStateError(f"{entry.venue} pool {entry.address}: {exc}") from exc
    raise PoolStateError(f"{entry.venue} pool {entry.address}: unknown venue {entry.venue!r}")


def _cpswap(entry: PoolEntry, accounts: Accounts, *, slot: int, unix_time: int) -> PoolSnapshot:
    pool = cpswap.decode_pool_state(_data(accounts, entry.address, "pool", entry))
    config = cpswap.decode_amm_config(_data(accounts, pool.amm_config, "config", entry))
    vault_0 = decode_token_account(_data(accounts, pool.token_0_vault, "vault", entry))
    vault_1 = decode_token_account(_data(accounts, pool.token_1_vault, "vault", entry))
    closed = None
    if not pool.swap_enabled:
        closed = "swaps are disabled"
    elif unix_time < pool.open_time:  # the program's NotApproved before the open time
        closed = f"the pool opens at {pool.open_time}"
    math = cpswap.pool_math(pool, config, vault_0.amount, vault_1.amount)
    vaults = (pool.token_0_vault, pool.token_1_vault)
    return PoolSnapshot(
        entry, slot, unix_time, math, pool, vaults, (vault_0.amount, vault_1.amount), closed
    )


def _whirlpool(entry: PoolEntry, accounts: Accounts, *, slot: int, unix_time: int) -> PoolSnapshot:
    state = decode_whirlpool(_data(accounts, entry.address, "pool", entry))
    vault_a = decode_token_account(_data(accounts, state.vault_a, "vault", entry))
    vault_b = decode_token_account(_data(accounts, state.vault_b, "vault", entry))
    arrays = {}
    for start in quote_array_starts(state):
        array = accounts.get(tick_array_address(entry.address, start))
        # An absent or empty account is an uninitialized array: the program reads no ticks.
        data = None if array is None else array.data
        arrays[start] = decode_tick_array(data, state.tick_spacing) if data else None
    math = pool_math(
        entry.address, state, arrays, balance_a=vault_a.amount, balance_b=vault_b.amount
    )
    swap = WhirlpoolSwapAccounts(
        state, _owner(accounts, state.vault_a), _owner(accounts, state.vault_b)
    )
    vaults = (state.vault_a, state.vault_b)
    return PoolSnapshot(
        entry, slot, unix_time, math, swap, vaults, (vault_a.amount, vault_b.amount)
    )


def _dlmm(entry: PoolEntry, accounts: Accounts, *, slot: int, unix_time: int) -> PoolSnapshot:
    pair = decode_lb_pair(_data(accounts, entry.address, "pair", entry))
    extension_key = bitmap_extension_address(entry.address)
    extension = accounts.get(extension_key)
    bitmap = None if extension is None else decode_bitmap_extension(extension.data)
    sides = [
        tuple(bin_arrays_for_swap(pair, swap_for_y=y, count=DLMM_ARRAYS_PER_SIDE, extension=bitmap))
        for y in (True, False)
    ]
    indexes = sorted(set(sides[0]) | set(sides[1]))
    arrays = [
        decode_bin_array(_data(accounts, bin_array_address(entry.address, i), "bin array", entry))
        for i in indexes
    ]
    # The vaults hold the fees outside the bins; they add up only when every bin was read.
    whole = set(liquid_bin_arrays(pair, bitmap)) <= set(indexes)
    vault_x = decode_token_account(_data(accounts, pair.reserve_x, "reserve", entry)).amount
    vault_y = decode_token_account(_data(accounts, pair.reserve_y, "reserve", entry)).amount
    math = pool_state(
        pair, arrays, vault_x=vault_x if whole else None, vault_y=vault_y if whole else None
    )
    closed = None
    try:
        check_tradable(pair, slot=slot, unix_time=unix_time)
    except PairNotTradableError as exc:
        closed = str(exc)
    swap = DlmmSwapAccounts(pair, sides[0], sides[1], None if extension is None else extension_key)
    vaults = (pair.reserve_x, pair.reserve_y)
    return PoolSnapshot(entry, slot, unix_time, math, swap, vaults, (vault_x, vault_y), closed)
