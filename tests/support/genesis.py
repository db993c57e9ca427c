"""The pure-Python opening market of the router's tests (the local chain's genesis lists
the same pairs on the same venues): real tokens, three venues, seeded prices and depths.

Prices start from round reference values in USD; each pool gets its own small price offset
(up to ±0.3 %) and depth (0.6x to 1.4x), drawn from a generator seeded by (seed, venue,
pair), so venues disagree slightly the way real ones do and adding a venue or a pair leaves
every other pool as it was.

A pool's "USD depth" is the value it holds at its opening price, on every venue: Raydium
holds half on each side; Meteora spreads it over 81 bins; Orca's liquidity L is solved for
it (:func:`orca_pool`). Equal value does not mean equal slippage: a constant-product pool
spreads its value over every price, so the concentrated venues are far deeper near the spot.

Not every venue lists every pair: six pairs (SOL/USDC among them) trade on all three, RAY/USDC
and BONK/USDC on Raydium and Meteora, RAY/SOL only on Raydium, and BONK/JUP or JUP/RAY on
none: they route in two hops through SOL or USDC.

Launches (:func:`launch_pool`) add a pool for a new token later, priced in a well-known quote
token: the pool holds ``liquidity`` of the quote token and the same value of the new one.
The new token's mint is derived from the seed and the launch number (:func:`launch_mint`),
or chosen by the caller (a test that placed a sniper order for a mint launches exactly it).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Protocol

from eterna.amm.base import PoolMath
from eterna.amm.constant_product import ConstantProductPool
from eterna.amm.dlmm import DlmmPool
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_positions import DEFAULT_RANGES
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token, b58encode
from tests.support.market import ModelClock, ModelMarket, Pool, pool_address

# What each venue is, by the program its pools stand for.
VENUE_KINDS = {
    "raydium": "constant product (Raydium CP-Swap)",
    "meteora": "dynamic liquidity bins (Meteora DLMM)",
    "orca": "concentrated liquidity (Orca Whirlpool)",
}

REFERENCE_USD: dict[Token, Fraction] = {
    SOL: Fraction(150),
    USDC: Fraction(1),
    USDT: Fraction(1),
    BONK: Fraction(2, 100_000),
    JUP: Fraction(4, 5),
    RAY: Fraction(5, 2),
}

STABLES = frozenset({USDC, USDT})

# Stable pairs sit ten times closer to their price than the default volatile-pair ranges.
STABLE_RANGES: tuple[tuple[Fraction, Fraction, Fraction], ...] = tuple(
    (1 - (1 - low) / 10, 1 + (high - 1) / 10, share) for low, high, share in DEFAULT_RANGES
)
# Any L will do: the pool's value is linear in L, so one build at this L gives the scale.
_PROBE_LIQUIDITY = 1 << 80


Prices = Mapping[Token, Fraction]


def _units(token: Token, usd: Fraction, reference: Prices = REFERENCE_USD) -> int:
    """Return the base units of token worth usd at the reference price."""
    return int(usd / reference[token] * 10**token.decimals)


class PoolBuilder(Protocol):
    """Builds one venue's pool math for a pair at a raw price and a USD depth."""

    def __call__(
        self,
        a: Token,
        b: Token,
        price: Fraction,
        depth_usd: Fraction,
        reference: Prices = REFERENCE_USD,
    ) -> PoolMath:
        """Return the pool math."""
        ...


def raydium_pool(
    a: Token, b: Token, price: Fraction, depth_usd: Fraction, reference: Prices = REFERENCE_USD
) -> PoolMath:
    """Build a constant-product pool holding half the depth on each side."""
    reserve_a = _units(a, depth_usd / 2, reference)
    return ConstantProductPool(reserve_a=reserve_a, reserve_b=int(reserve_a * price))


def meteora_pool(
    a: Token, b: Token, price: Fraction, depth_usd: Fraction, reference: Prices = REFERENCE_USD
) -> PoolMath:
    """Build a DLMM pair with its depth spread over the bins on either side."""
    stable = a in STABLES and b in STABLES
    bins_each_side = 40
    per_bin = max(1, _units(a, depth_usd / 2, reference) // bins_each_side)
    return DlmmPool.from_price(
        price,
        liquidity_a_per_bin=per_bin,
        bin_step=1 if stable else 20,
        bins_each_side=bins_each_side,
    )


def orca_pool(
    a: Token, b: Token, price: Fraction, depth_usd: Fraction, reference: Prices = REFERENCE_USD
) -> PoolMath:
    """Build a Whirlpool whose positions hold depth_usd at the opening price.

    A position of liquidity L from price·lo to price·hi holds, valued in B at the price,
    ``L·sqrt(price)·(2 - 1/sqrt(hi) - sqrt(lo))``: linear in L. So one build at a probe L
    measures the value per unit of L (after the program's tick rounding and the widening of
    each range to the tick spacing), and ``L = probe · target / value`` hits the target to
    within the rounding of a few base units, far inside ±5 %.
    """
    stable = a in STABLES and b in STABLES

    def build(liquidity: int) -> WhirlpoolPool:
        return WhirlpoolPool.from_price(
            price,
            liquidity=liquidity,
            tick_spacing=1 if stable else 64,
            fee_rate=100 if stable else 3_000,
            ranges=STABLE_RANGES if stable else DEFAULT_RANGES,
        )

    probe = build(_PROBE_LIQUIDITY)
    held = probe.balance_a * price + probe.balance_b
    return build(max(1, int(_PROBE_LIQUIDITY * _units(b, depth_usd, reference) / held)))


VENUE_BUILDERS: dict[str, PoolBuilder] = {
    "raydium": raydium_pool,
    "meteora": meteora_pool,
    "orca": orca_pool,
}

_ALL = frozenset(VENUE_BUILDERS)

# (token A, token B, USD depth of a typical pool, venues listing the pair)
PAIRS: tuple[tuple[Token, Token, int, frozenset[str]], ...] = (
    (SOL, USDC, 20_000_000, _ALL),
    (SOL, USDT, 6_000_000, _ALL),
    (USDC, USDT, 10_000_000, _ALL),
    (BONK, SOL, 3_000_000, _ALL),
    (JUP, USDC, 4_000_000, _ALL),
    (JUP, SOL, 2_000_000, _ALL),
    (RAY, USDC, 3_000_000, frozenset({"raydium", "meteora"})),
    (RAY, SOL, 2_000_000, frozenset({"raydium"})),
    (BONK, USDC, 1_500_000, frozenset({"raydium", "meteora"})),
)


def genesis_pools(seed: int, venues: tuple[str, ...] | None = None) -> list[Pool]:
    """Return the opening pools for the seed."""
    pools = []
    for venue, build in VENUE_BUILDERS.items():
        if venues is not None and venue not in venues:
            continue
        for a, b, depth, listed_on in PAIRS:
            if venue not in listed_on:
                continue
            rng = random.Random(f"{seed}/{venue}/{a.mint}/{b.mint}")
            offset = Fraction(1) + Fraction(rng.randint(-30, 30), 10_000)
            scale = Fraction(rng.randint(60, 140), 100)
            # Raw price: base units of B per base unit of A.
            price = REFERENCE_USD[a] / REFERENCE_USD[b] * Fraction(10**b.decimals, 10**a.decimals)
            pools.append(
                Pool(
                    venue=venue,
                    address=pool_address(seed, venue, a, b),
                    token_a=a,
                    token_b=b,
                    math=build(a, b, price * offset, Fraction(depth) * scale),
                )
            )
    return pools


def genesis_market(seed: int, *, slot_ms: int) -> ModelMarket:
    """Return a model market with the opening pools of the seed."""
    return ModelMarket(genesis_pools(seed), seed=seed, clock=ModelClock(slot_ms=slot_ms))


def launch_mint(seed: int, number: int, symbol: str) -> str:
    """Derive the mint of the seed's n-th launched token: a base58 32-byte address."""
    return b58encode(hashlib.sha256(f"launch/{seed}/{number}/{symbol}".encode()).digest())


def launch_pool(
    seed: int,
    venue: str,
    token: Token,
    quote: Token,
    *,
    price: Fraction,
    liquidity: Fraction,
) -> Pool:
    """Return a new pool of token against quote.

    ``price`` is in quote per 1 token, ``liquidity`` in quote token units: the pool holds
    that much of the quote token and the same value of the new one.

    :raises ValueError: for an unknown venue, a quote token without a reference price, or a
        price or liquidity that is not positive.
    """
    build = VENUE_BUILDERS.get(venue)
    if build is None:
        raise ValueError(f"unknown venue {venue!r}")
    if quote not in REFERENCE_USD:
        raise ValueError(f"{quote.label} cannot quote a launch (use SOL, USDC, USDT ...)")
    if price <= 0 or liquidity <= 0:
        raise ValueError("price and liquidity must be positive")
    reference = {**REFERENCE_USD, token: price * REFERENCE_USD[quote]}
    raw_price = price * Fraction(10**quote.decimals, 10**token.decimals)
    depth_usd = 2 * liquidity * REFERENCE_USD[quote]
    return Pool(
        venue=venue,
        address=pool_address(seed, venue, token, quote),
        token_a=token,
        token_b=quote,
        math=build(token, quote, raw_price, depth_usd, reference),
    )
