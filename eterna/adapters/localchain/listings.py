"""List a pair on a venue: a real pool at a price and a USD depth, through its program.

The depth means what the Python sandbox meant by it, so routes and prices stay comparable:

- **raydium** (CP-Swap) holds half the depth on each side.
- **meteora** (DLMM) spreads half the depth in each token over the active bin and the 40
  bins on its side (bin step 20, or 1 for a stable pair; base factor 10,000: 0.2 % and
  0.01 %). The program decides what each bin holds: the active bin takes X and Y in the
  proportion it can, where the sandbox split it in two halves.
- **orca** (Whirlpool) holds the depth, valued at the opening price, in three positions of
  liquidity 1, 1/2 and 1/4 over ±1 %, ±5 % and ±20 % of the price (a tenth of that for a
  stable pair), each widened to the tick spacing (64, or 1 for a stable pair; fee 0.3 % or
  0.01 %): the liquidity is solved for the depth as the value is linear in it.

Programs order a pool's mints (the lower address is token 0, A or X). A pair given the
other way round is listed at the inverse price, with its Whirlpool ranges inverted, so the
pool is the same market either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from solders.pubkey import Pubkey

from eterna.adapters.localchain.cpswap_pools import create_pool, put_amm_config
from eterna.adapters.localchain.dlmm_pools import DlmmFees, DlmmPools
from eterna.adapters.localchain.pools import ChainPool, pool_accounts, program_of
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.whirlpool_pools import WhirlpoolSpec, create_whirlpool
from eterna.amm.clmm_math import tick_index_from_sqrt_price
from eterna.amm.whirlpool_positions import (
    DEFAULT_RANGES,
    position_amounts,
    positions_for_ranges,
    sqrt_price_x64,
)
from eterna.domain.tokens import USDC, USDT, Token

Prices = Mapping[Token, Fraction]
Ranges = Sequence[tuple[Fraction, Fraction, Fraction]]

STABLES = frozenset({USDC, USDT})
# Stable pairs sit ten times closer to their price than the default volatile-pair ranges.
STABLE_RANGES: tuple[tuple[Fraction, Fraction, Fraction], ...] = tuple(
    (1 - (1 - low) / 10, 1 + (high - 1) / 10, share) for low, high, share in DEFAULT_RANGES
)
# Raydium's standard config: a 0.25 % trade fee, 12 % of it to the protocol and 4 % to the fund.
CPSWAP_CONFIG_INDEX = 0
CPSWAP_TRADE_FEE_RATE = 2_500
CPSWAP_PROTOCOL_FEE_RATE = 120_000
CPSWAP_FUND_FEE_RATE = 40_000
DLMM_BINS_EACH_SIDE = 40
DLMM_BASE_FACTOR = 10_000
_PROBE_LIQUIDITY = 1 << 64


def units(token: Token, usd: Fraction, reference: Prices) -> int:
    """Return the base units of token worth usd at its reference price."""
    return int(usd / reference[token] * 10**token.decimals)


def is_stable(a: Token, b: Token) -> bool:
    """Tell whether both tokens are stablecoins (the venues list such pairs tighter)."""
    return a in STABLES and b in STABLES


def put_cpswap_config(chain: LocalChain) -> Pubkey:
    """Write the CP-Swap config every listed pool uses (Raydium's admin alone may make one)."""
    return put_amm_config(
        chain,
        CPSWAP_CONFIG_INDEX,
        trade_fee_rate=CPSWAP_TRADE_FEE_RATE,
        protocol_fee_rate=CPSWAP_PROTOCOL_FEE_RATE,
        fund_fee_rate=CPSWAP_FUND_FEE_RATE,
    )


def list_pair(
    chain: LocalChain,
    venue: str,
    pair: tuple[Token, Token],
    *,
    price: Fraction,
    depth_usd: Fraction,
    reference: Prices,
) -> ChainPool:
    """Create a pool of pair on venue at price (raw base units of B per A) and depth.

    :raises UnknownVenueError: for a venue the local chain does not run.
    :raises ValueError: for a price or depth that is not positive.
    :raises TransactionFailedError: when the program refuses a step.
    """
    program_of(venue)
    if price <= 0 or depth_usd <= 0:
        raise ValueError("price and depth must be positive")
    a, b = pair
    if bytes(_mint(a)) > bytes(_mint(b)):
        a, b, price = b, a, 1 / price
        inverted = True
    else:
        inverted = False
    if venue == "raydium":
        address = _list_cpswap(chain, (a, b), price, depth_usd, reference)
    elif venue == "orca":
        address = _list_whirlpool(chain, (a, b), price, depth_usd, reference, inverted=inverted)
    else:
        address = _list_dlmm(chain, (a, b), price, depth_usd, reference)
    return ChainPool(venue, address, a, b, pool_accounts(chain, venue, address))


def _mint(token: Token) -> Pubkey:
    return Pubkey.from_string(token.mint)


def _list_cpswap(
    chain: LocalChain,
    pair: tuple[Token, Token],
    price: Fraction,
    depth: Fraction,
    reference: Prices,
) -> Pubkey:
    a, b = pair
    config = put_cpswap_config(chain)
    reserve_a = max(1, units(a, depth / 2, reference))
    reserve_b = max(1, int(reserve_a * price))
    return create_pool(chain, config, (_mint(a), reserve_a), (_mint(b), reserve_b)).address


def _list_dlmm(
    chain: LocalChain,
    pair: tuple[Token, Token],
    price: Fraction,
    depth: Fraction,
    reference: Prices,
) -> Pubkey:
    x, y = pair
    pools = DlmmPools(chain)
    fees = DlmmFees(bin_step=1 if is_stable(x, y) else 20, base_factor=DLMM_BASE_FACTOR)
    lb_pair = pools.create_pair_at_price(_mint(x), _mint(y), fees, price)
    amount_x = max(1, units(x, depth / 2, reference))
    amount_y = max(1, units(y, depth / 2, reference))
    provider = chain.new_wallet()
    chain.fund(provider.pubkey(), _mint(x), amount_x)
    chain.fund(provider.pubkey(), _mint(y), amount_y)
    pools.spread(
        lb_pair,
        provider,
        bins_each_side=DLMM_BINS_EACH_SIDE,
        amount_x=amount_x,
        amount_y=amount_y,
    )
    return lb_pair


def _list_whirlpool(
    chain: LocalChain,
    pair: tuple[Token, Token],
    price: Fraction,
    depth: Fraction,
    reference: Prices,
    *,
    inverted: bool,
) -> Pubkey:
    a, b = pair
    stable = is_stable(a, b)
    ranges: Ranges = STABLE_RANGES if stable else DEFAULT_RANGES
    if inverted:  # the ranges were given around the price of the other token
        ranges = [(1 / high, 1 / low, share) for low, high, share in ranges]
    spacing = 1 if stable else 64
    liquidity = whirlpool_liquidity(price, units(b, depth, reference), spacing, ranges)
    spec = WhirlpoolSpec(
        mints=(_mint(a), _mint(b)),
        tick_spacing=spacing,
        fee_rate=100 if stable else 3_000,
        protocol_fee_rate=1_300,
        sqrt_price_x64=sqrt_price_x64(price),
        positions=positions_for_ranges(price, liquidity, spacing, ranges),
    )
    return create_whirlpool(chain, spec).address


def whirlpool_liquidity(price: Fraction, value_b: int, spacing: int, ranges: Ranges) -> int:
    """Return the liquidity L whose positions over ranges hold value_b (in B) at price.

    What the positions deposit is linear in L (up to rounding of a few base units), so one
    probe measures the value per unit of L.
    """
    sqrt_price = sqrt_price_x64(price)
    tick = tick_index_from_sqrt_price(sqrt_price)
    probe = positions_for_ranges(price, _PROBE_LIQUIDITY, spacing, ranges)
    amounts = [position_amounts(sqrt_price, tick, p) for p in probe]
    held = sum(a for a, _ in amounts) * price + sum(b for _, b in amounts)
    return max(1, int(_PROBE_LIQUIDITY * value_b / held))
