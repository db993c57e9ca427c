"""Whirlpools on the local chain, made through the program's own instructions.

A pool gets its own config and fee tier (the build Eterna runs lets anyone create a config),
so every pool can carry its own fee and protocol fee rates; then the pool at its sqrt price,
the tick arrays its positions end in (and any others asked for), and each position opened and
filled by a liquidity provider the faucet funds with exactly what the positions deposit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.whirlpool import WhirlpoolState, position_pda, whirlpool_address
from eterna.adapters.solana.whirlpool_math import load_pool
from eterna.adapters.solana.whirlpool_setup import (
    Deposit,
    increase_liquidity,
    initialize_config,
    initialize_fee_tier,
    initialize_pool,
    initialize_tick_array,
    open_position,
)
from eterna.amm.clmm_math import tick_index_from_sqrt_price
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_positions import (
    DEFAULT_RANGES,
    Position,
    position_amounts,
    positions_for_ranges,
    sqrt_price_x64,
)
from eterna.amm.whirlpool_reach import tick_array_start

U64_MAX = (1 << 64) - 1
_ARRAYS_PER_TX = 4
_SETUP_COMPUTE_UNITS = 1_400_000


@dataclass(frozen=True, slots=True)
class WhirlpoolSpec:
    """A pool to create: mints (any order), tick spacing, fee rates, sqrt price, positions.

    ``fee_rate`` is in hundredths of a bp (at most 60_000), ``protocol_fee_rate`` in bps of
    the fee (at most 2_500); ``extra_arrays`` are tick-array start indexes to initialize
    although no position ends in them.
    """

    mints: tuple[Pubkey, Pubkey]
    tick_spacing: int
    fee_rate: int
    protocol_fee_rate: int
    sqrt_price_x64: int
    positions: Sequence[Position]
    extra_arrays: Sequence[int] = field(default=())


@dataclass(frozen=True, slots=True)
class ChainWhirlpool:
    """A pool on the local chain: its address, config, mints, vaults and position accounts."""

    address: Pubkey
    config: Pubkey
    mint_a: Pubkey
    mint_b: Pubkey
    vault_a: Pubkey
    vault_b: Pubkey
    tick_spacing: int
    positions: tuple[Pubkey, ...] = ()


def spec_from_price(
    mints: tuple[Pubkey, Pubkey],
    price: Fraction,
    liquidity: int,
    *,
    tick_spacing: int = 64,
    fee_rate: int = 3_000,
    protocol_fee_rate: int = 1_300,
    ranges: Sequence[tuple[Fraction, Fraction, Fraction]] = DEFAULT_RANGES,
) -> WhirlpoolSpec:
    """Return the spec of a pool at price (raw B per A, mints in A, B order) with ranges.

    The same positions :meth:`WhirlpoolPool.from_price` models, so both hold the same state.
    """
    return WhirlpoolSpec(
        mints=mints,
        tick_spacing=tick_spacing,
        fee_rate=fee_rate,
        protocol_fee_rate=protocol_fee_rate,
        sqrt_price_x64=sqrt_price_x64(price),
        positions=positions_for_ranges(price, liquidity, tick_spacing, ranges),
    )


def create_whirlpool(chain: LocalChain, spec: WhirlpoolSpec) -> ChainWhirlpool:
    """Create the pool of spec through the program's instructions, positions filled.

    :raises TransactionFailedError: when the program refuses a step (a fee rate above its
        maximum, a position off the tick spacing, an amount past a u64).
    """
    mint_a, mint_b = sorted(spec.mints, key=bytes)
    pool = _create_pool(chain, spec, mint_a, mint_b)
    starts = {tick_array_start(tick, spec.tick_spacing) for p in spec.positions for tick in p[:2]}
    _initialize_arrays(chain, pool.address, sorted(starts | set(spec.extra_arrays)))
    return replace(pool, positions=_add_positions(chain, pool, spec))


def read_whirlpool(chain: LocalChain, pool: Pubkey) -> tuple[WhirlpoolState, WhirlpoolPool]:
    """Return the pool at address decoded, and as our math quotes it."""

    def fetch(keys: Sequence[Pubkey]) -> list[bytes | None]:
        return [None if (a := chain.account(key)) is None else a.data for key in keys]

    return load_pool(fetch, pool)


def _create_pool(
    chain: LocalChain, spec: WhirlpoolSpec, mint_a: Pubkey, mint_b: Pubkey
) -> ChainWhirlpool:
    faucet = chain.faucet.pubkey()
    config, vault_a, vault_b = chain.new_keypair(), chain.new_keypair(), chain.new_keypair()
    spacing = spec.tick_spacing
    setup = [
        initialize_config(config.pubkey(), faucet, faucet, spec.protocol_fee_rate),
        initialize_fee_tier(config.pubkey(), faucet, faucet, spacing, spec.fee_rate),
    ]
    chain.send(setup, [config]).check()
    vaults = (vault_a.pubkey(), vault_b.pubkey())
    create = initialize_pool(
        config.pubkey(),
        (mint_a, mint_b),
        vaults,
        faucet,
        tick_spacing=spacing,
        sqrt_price_x64=spec.sqrt_price_x64,
    )
    chain.send([create], [vault_a, vault_b]).check()
    return ChainWhirlpool(
        address=whirlpool_address(config.pubkey(), mint_a, mint_b, spacing),
        config=config.pubkey(),
        mint_a=mint_a,
        mint_b=mint_b,
        vault_a=vault_a.pubkey(),
        vault_b=vault_b.pubkey(),
        tick_spacing=spacing,
    )


def _initialize_arrays(chain: LocalChain, pool: Pubkey, starts: Sequence[int]) -> None:
    faucet = chain.faucet.pubkey()
    for at in range(0, len(starts), _ARRAYS_PER_TX):
        batch = [initialize_tick_array(pool, faucet, s) for s in starts[at : at + _ARRAYS_PER_TX]]
        chain.send(batch, compute_unit_limit=_SETUP_COMPUTE_UNITS).check()


def _add_positions(
    chain: LocalChain, pool: ChainWhirlpool, spec: WhirlpoolSpec
) -> tuple[Pubkey, ...]:
    provider = chain.new_wallet()
    tick = tick_index_from_sqrt_price(spec.sqrt_price_x64)
    needs = [position_amounts(spec.sqrt_price_x64, tick, p) for p in spec.positions]
    deposit = Deposit(
        owner=provider.pubkey(),
        owner_account_a=chain.fund(provider.pubkey(), pool.mint_a, sum(a for a, _ in needs)),
        owner_account_b=chain.fund(provider.pubkey(), pool.mint_b, sum(b for _, b in needs)),
        vault_a=pool.vault_a,
        vault_b=pool.vault_b,
    )
    return tuple(_add_position(chain, pool, provider, deposit, p) for p in spec.positions)


def _add_position(
    chain: LocalChain,
    pool: ChainWhirlpool,
    provider: Keypair,
    deposit: Deposit,
    position: Position,
) -> Pubkey:
    mint = chain.new_keypair()
    lower, upper, liquidity = position
    spacing = pool.tick_spacing
    opening = open_position(
        pool.address, chain.faucet.pubkey(), provider.pubkey(), mint.pubkey(), (lower, upper)
    )
    filling = increase_liquidity(
        pool.address,
        mint.pubkey(),
        deposit,
        range_arrays=(tick_array_start(lower, spacing), tick_array_start(upper, spacing)),
        liquidity=liquidity,
        token_max=(U64_MAX, U64_MAX),
    )
    chain.send(
        [opening, filling], [provider, mint], compute_unit_limit=_SETUP_COMPUTE_UNITS
    ).check()
    return position_pda(mint.pubkey())[0]
