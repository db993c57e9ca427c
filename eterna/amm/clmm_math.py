"""Orca Whirlpool Q64.64 tick and token math, ported to Python integers.

Sources (orca-so/whirlpools ``programs/whirlpool/src/math/``):

- ``tick_math.rs``: ``sqrt_price_from_tick_index`` (bit-decomposition of 1.0001^(tick/2) with
  the program's precomputed Q96/Q64 constants, copied verbatim) and ``MIN/MAX_SQRT_PRICE_X64``;
- ``token_math.rs``: ``get_amount_delta_a``, ``get_amount_delta_b``, ``get_next_sqrt_price``::

    delta_a = (L * (sqrt_hi - sqrt_lo)) << 64  /  (sqrt_hi * sqrt_lo)
    delta_b = (L * (sqrt_hi - sqrt_lo)) >> 64
    a->b    next = ceil((L * sqrt) << 64  /  ((L << 64) + amount * sqrt))
    b->a    next = sqrt + floor((amount << 64) / L)

``tick_index_from_sqrt_price`` is a binary search for the largest tick whose sqrt price is at
most the given one: the property Orca's log-approximation version is tested against, so both
agree for every sqrt price in range.
"""

from __future__ import annotations

from functools import lru_cache

Q64 = 1 << 64
MIN_TICK_INDEX = -443_636
MAX_TICK_INDEX = 443_636
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_515_401_279_992_447_579_055

# sqrt(1.0001)^(2^k) in Q96 for k = 1..18; bit 0 is chosen separately below.
_POSITIVE_BIT_RATIOS_X96 = (
    79236085330515764027303304731,
    79244008939048815603706035061,
    79259858533276714757314932305,
    79291567232598584799939703904,
    79355022692464371645785046466,
    79482085999252804386437311141,
    79736823300114093921829183326,
    80248749790819932309965073892,
    81282483887344747381513967011,
    83390072131320151908154831281,
    87770609709833776024991924138,
    97234110755111693312479820773,
    119332217159966728226237229890,
    179736315981702064433883588727,
    407748233172238350107850275304,
    2098478828474011932436660412517,
    55581415166113811149459800483533,
    38992368544603139932233054999993551,
)
# 1 / sqrt(1.0001)^(2^k) in Q64 for k = 1..18.
_NEGATIVE_BIT_RATIOS_X64 = (
    18444899583751176498,
    18443055278223354162,
    18439367220385604838,
    18431993317065449817,
    18417254355718160513,
    18387811781193591352,
    18329067761203520168,
    18212142134806087854,
    17980523815641551639,
    17526086738831147013,
    16651378430235024244,
    15030750278693429944,
    12247334978882834399,
    8131365268884726200,
    3584323654723342297,
    696457651847595233,
    26294789957452057,
    37481735321082,
)


@lru_cache(maxsize=65_536)
def sqrt_price_from_tick_index(tick: int) -> int:
    """Return sqrt(1.0001^tick) in Q64.64, bit for bit as the Whirlpool program computes it."""
    if not MIN_TICK_INDEX <= tick <= MAX_TICK_INDEX:
        raise ValueError(f"tick {tick} is out of range")
    if tick >= 0:
        ratio = 79232123823359799118286999567 if tick & 1 else 1 << 96
        for bit, factor in enumerate(_POSITIVE_BIT_RATIOS_X96, start=1):
            if tick & (1 << bit):
                ratio = (ratio * factor) >> 96
        return ratio >> 32
    abs_tick = -tick
    ratio = 18445821805675392311 if abs_tick & 1 else Q64
    for bit, factor in enumerate(_NEGATIVE_BIT_RATIOS_X64, start=1):
        if abs_tick & (1 << bit):
            ratio = (ratio * factor) >> 64
    return ratio


def tick_index_from_sqrt_price(sqrt_price_x64: int) -> int:
    """Return the largest tick whose sqrt price is at most sqrt_price_x64."""
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 <= MAX_SQRT_PRICE_X64:
        raise ValueError("sqrt price is out of range")
    low, high = MIN_TICK_INDEX, MAX_TICK_INDEX
    while low < high:
        mid = (low + high + 1) // 2
        if sqrt_price_from_tick_index(mid) <= sqrt_price_x64:
            low = mid
        else:
            high = mid - 1
    return low


def amount_delta_a(sqrt_0: int, sqrt_1: int, liquidity: int, *, round_up: bool) -> int:
    """Return the token A amount between two sqrt prices: L * (1/sqrt_lo - 1/sqrt_hi)."""
    lower, upper = min(sqrt_0, sqrt_1), max(sqrt_0, sqrt_1)
    numerator = (liquidity * (upper - lower)) << 64
    denominator = upper * lower
    return -(-numerator // denominator) if round_up else numerator // denominator


def amount_delta_b(sqrt_0: int, sqrt_1: int, liquidity: int, *, round_up: bool) -> int:
    """Return the token B amount between two sqrt prices: L * (sqrt_hi - sqrt_lo)."""
    product = liquidity * abs(sqrt_1 - sqrt_0)
    return -(-product >> 64) if round_up else product >> 64


def next_sqrt_price_exact_in(sqrt_price: int, liquidity: int, amount: int, *, a_to_b: bool) -> int:
    """Return the sqrt price after adding amount of the input token to the range.

    The rounding always favours the pool: adding A rounds the (falling) price up, adding B
    rounds the (rising) price down, so the trader never gets more output than paid for.
    """
    if amount == 0:
        return sqrt_price
    if a_to_b:
        numerator = (liquidity * sqrt_price) << 64
        denominator = (liquidity << 64) + amount * sqrt_price
        return -(-numerator // denominator)
    return sqrt_price + (amount << 64) // liquidity
