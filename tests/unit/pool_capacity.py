"""The size of trade that drains a pool, for strategies that aim near it."""

from __future__ import annotations

from eterna.amm.base import PoolMath


def capacity(pool: PoolMath, *, a_to_b: bool) -> int:
    """Roughly the input that would drain the output side at the spot price (at least 1).

    An empty pool has no spot price; its output reserve (zero or not) stands in.
    """
    reserve_out = pool.reserve_b if a_to_b else pool.reserve_a
    try:
        spot = pool.spot_price(a_to_b=a_to_b)
    except ZeroDivisionError:  # an empty constant-product pool
        return max(1, reserve_out)
    return max(1, int(reserve_out / spot)) if spot > 0 else max(1, reserve_out)
