"""Quote from a Whirlpool's accounts: decoded pool, tick arrays and vaults to our math.

A swap in either direction reads at most the three tick arrays the program derives from the
pool's current tick (:mod:`eterna.amm.whirlpool_reach`); :func:`quote_array_starts` names the
arrays both directions need, and :func:`pool_math` builds :class:`WhirlpoolPool` from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from solders.pubkey import Pubkey

from eterna.adapters.solana.spl import decode_token_account
from eterna.adapters.solana.whirlpool import (
    TickArrayState,
    WhirlpoolState,
    decode_tick_array,
    decode_whirlpool,
    tick_array_address,
)
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_reach import swap_array_starts
from eterna.domain.errors import EternaError

# Reads several accounts at once (as getMultipleAccounts does): their data, None where absent.
AccountsFetcher = Callable[[Sequence[Pubkey]], Sequence[bytes | None]]


class TickArraysError(EternaError):
    """The tick arrays given for a pool are missing one a swap reads, or belong elsewhere."""


class PoolNotFoundError(EternaError):
    """No Whirlpool account (or one of its vaults) exists at the address read."""


def quote_array_starts(state: WhirlpoolState) -> tuple[int, ...]:
    """Return the start indexes of every tick array a swap from this state may read."""
    down = swap_array_starts(state.tick_current, state.tick_spacing, a_to_b=True)
    up = swap_array_starts(state.tick_current, state.tick_spacing, a_to_b=False)
    return tuple(sorted(set(down) | set(up)))


def pool_math(
    address: Pubkey,
    state: WhirlpoolState,
    arrays: Mapping[int, TickArrayState | None],
    *,
    balance_a: int,
    balance_b: int,
) -> WhirlpoolPool:
    """Return our math's view of the pool at address.

    ``arrays`` maps each start in :func:`quote_array_starts` to its decoded tick array, or
    to None where that account does not exist (the program reads it as empty); the balances
    are the vaults' token amounts.

    :raises TickArraysError: when a needed array is not in arrays or is another pool's.
    """
    ticks: list[tuple[int, int]] = []
    for start in quote_array_starts(state):
        if start not in arrays:
            raise TickArraysError(f"tick array {start} of {address} was not read")
        array = arrays[start]
        if array is None:
            continue
        if array.whirlpool != address or array.start_tick_index != start:
            raise TickArraysError(f"tick array {start} given for {address} is not that pool's")
        ticks.extend((tick.index, tick.liquidity_net) for tick in array.ticks)
    return WhirlpoolPool(
        sqrt_price_x64=state.sqrt_price_x64,
        liquidity=state.liquidity,
        tick_current=state.tick_current,
        tick_spacing=state.tick_spacing,
        fee_rate=state.fee_rate,
        ticks=tuple(ticks),
        balance_a=balance_a,
        balance_b=balance_b,
        protocol_fee_rate=state.protocol_fee_rate,
        protocol_fee_owed_a=state.protocol_fee_owed_a,
        protocol_fee_owed_b=state.protocol_fee_owed_b,
        fee_growth_global_a=state.fee_growth_global_a,
        fee_growth_global_b=state.fee_growth_global_b,
    )


def load_pool(fetch: AccountsFetcher, address: Pubkey) -> tuple[WhirlpoolState, WhirlpoolPool]:
    """Read the pool at address, its vaults and tick arrays; return it decoded and as our math.

    Two round trips: the pool, then its vaults and every tick array a swap may read.

    :raises PoolNotFoundError: when the pool or a vault does not exist.
    :raises AccountLayoutError: when an account is not what it should be.
    """
    (pool_data,) = fetch([address])
    if pool_data is None:
        raise PoolNotFoundError(f"no Whirlpool at {address}")
    state = decode_whirlpool(pool_data)
    starts = quote_array_starts(state)
    keys = [state.vault_a, state.vault_b, *(tick_array_address(address, s) for s in starts)]
    vault_a, vault_b, *array_data = fetch(keys)
    if vault_a is None or vault_b is None:
        raise PoolNotFoundError(f"a vault of the Whirlpool at {address} does not exist")
    arrays = {
        # An empty account (lamports sent to the PDA) is uninitialized for the program too.
        start: decode_tick_array(data, state.tick_spacing) if data else None
        for start, data in zip(starts, array_data, strict=True)
    }
    math = pool_math(
        address,
        state,
        arrays,
        balance_a=decode_token_account(vault_a).amount,
        balance_b=decode_token_account(vault_b).amount,
    )
    return state, math
