"""The sandbox's opening market: real tokens, several venues, seeded prices and depths.

Prices start from round reference values in USD; each pool gets its own small price offset
(up to ±0.3 %) and depth (0.6x to 1.4x), drawn from the seed, so venues disagree slightly the
way real ones do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

from eterna.amm.base import PoolMath
from eterna.amm.constant_product import ConstantProductPool
from eterna.amm.dlmm import DlmmPool
from eterna.sandbox.market import MarketSandbox, Pool, SandboxClock, pool_address
from eterna.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token

REFERENCE_USD: dict[Token, Fraction] = {
    SOL: Fraction(150),
    USDC: Fraction(1),
    USDT: Fraction(1),
    BONK: Fraction(2, 100_000),
    JUP: Fraction(4, 5),
    RAY: Fraction(5, 2),
}

# (token A, token B, USD depth of a typical pool)
PAIRS: tuple[tuple[Token, Token, int], ...] = (
    (SOL, USDC, 20_000_000),
    (SOL, USDT, 6_000_000),
    (USDC, USDT, 10_000_000),
    (BONK, SOL, 3_000_000),
    (JUP, USDC, 4_000_000),
    (JUP, SOL, 2_000_000),
    (RAY, USDC, 3_000_000),
    (RAY, SOL, 2_000_000),
    (BONK, USDC, 1_500_000),
)

STABLES = frozenset({USDC, USDT})


def _units(token: Token, usd: Fraction) -> int:
    """Return the base units of token worth usd at the reference price."""
    return int(usd / REFERENCE_USD[token] * 10**token.decimals)


def raydium_pool(a: Token, b: Token, price: Fraction, depth_usd: Fraction) -> PoolMath:
    """Build a constant-product pool holding half the depth on each side."""
    reserve_a = _units(a, depth_usd / 2)
    return ConstantProductPool(reserve_a=reserve_a, reserve_b=int(reserve_a * price))


def meteora_pool(a: Token, b: Token, price: Fraction, depth_usd: Fraction) -> PoolMath:
    """Build a DLMM pair with its depth spread over the bins on either side."""
    stable = a in STABLES and b in STABLES
    bins_each_side = 40
    per_bin = max(1, _units(a, depth_usd / 2) // bins_each_side)
    return DlmmPool.from_price(
        price,
        liquidity_a_per_bin=per_bin,
        bin_step=1 if stable else 20,
        bins_each_side=bins_each_side,
    )


VENUE_BUILDERS: dict[str, Callable[[Token, Token, Fraction, Fraction], PoolMath]] = {
    "raydium": raydium_pool,
    "meteora": meteora_pool,
}


def genesis_pools(seed: int, venues: tuple[str, ...] | None = None) -> list[Pool]:
    """Return the opening pools for the seed."""
    rng = random.Random(seed)
    pools = []
    for venue, build in VENUE_BUILDERS.items():
        if venues is not None and venue not in venues:
            continue
        for a, b, depth in PAIRS:
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


def genesis_market(seed: int, *, slot_ms: int) -> MarketSandbox:
    """Return a sandbox with the opening pools of the seed."""
    return MarketSandbox(genesis_pools(seed), seed=seed, clock=SandboxClock(slot_ms=slot_ms))
