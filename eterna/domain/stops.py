"""Stop orders: when a stop-loss, a take-profit or a trailing stop fires.

Every stop sells ``amountIn`` of tokenIn for tokenOut. Its **price** is the executable price
of the order's own size, as limit orders measure it: what the best route pays for the whole
``amountIn``, in tokenOut per 1 tokenIn (:func:`eterna.domain.triggers.price_of`). Not the
spot price, and not the price of some smaller probe amount: a large stop sees its own
price impact.

- STOP_LOSS fires at the first observation where ``price <= triggerPrice``.
- TAKE_PROFIT fires at the first observation where ``price >= triggerPrice``.
- TRAILING_STOP keeps ``best``, the highest price observed since placement, and fires at the
  first observation where ``price <= best x (1 - trailBps / 10 000)``. ``best`` only ever
  rises, so the trigger never moves down. The observation that raises ``best`` cannot fire
  (the price is then above its own trailing trigger).

The condition is a level, checked at every observation (every market update touching the
pair's routes, and the first look at placement): a stop placed beyond its trigger fires at
once, as a limit order already met does. Once fired, a stop trades as a market order with
its slippage floor and, when it has a ``limitPrice``, never below ``amountIn x limitPrice``;
it does not go back to WAITING if the price recovers.
"""

from __future__ import annotations

import functools
from decimal import ROUND_FLOOR, Decimal
from typing import NamedTuple

from eterna.domain.orders import Order
from eterna.domain.status import OrderType
from eterna.domain.tokens import EXACT, PRICE_QUANTUM

BPS = 10_000
MAX_TRAIL_BPS = 5_000


# Every update observes every trailing stop of a pair, and most share a best price (the
# update that raised them): cached, a trigger costs a lookup instead of three Decimal steps.
@functools.lru_cache(maxsize=65_536)
def trail_trigger(best: Decimal, trail_bps: int) -> Decimal:
    """Return a trailing stop's trigger: ``trailBps`` below the best price, rounded down."""
    raw = EXACT.multiply(best, EXACT.divide(Decimal(BPS - trail_bps), Decimal(BPS)))
    return raw.quantize(PRICE_QUANTUM, rounding=ROUND_FLOOR, context=EXACT)


class StopSeen(NamedTuple):
    """What one observation of a stop's price decided (a tuple: made for every stop, often).

    ``best``: a trailing stop's best price after the observation (None for the others);
    ``raised``: whether the observation raised it (it is then worth persisting);
    ``trigger``: the trigger price the observation was compared with.
    """

    fires: bool
    trigger: Decimal
    best: Decimal | None = None
    raised: bool = False


def observe(
    kind: OrderType,
    price: Decimal,
    *,
    trigger_price: Decimal | None = None,
    trail_bps: int | None = None,
    best: Decimal | None = None,
) -> StopSeen:
    """Decide whether a stop fires at this executable price (and raise a trailing best).

    :raises ValueError: for an order that is not a stop, or lacks the field its kind needs.
    """
    if kind is OrderType.TRAILING_STOP:
        if trail_bps is None:
            raise ValueError("a TRAILING_STOP needs trailBps")
        after = price if best is None or price > best else best
        trigger = trail_trigger(after, trail_bps)
        return StopSeen(price <= trigger, trigger, after, after != best)
    if trigger_price is None:
        raise ValueError(f"a {kind.value} needs a triggerPrice")
    if kind is OrderType.STOP_LOSS:
        return StopSeen(price <= trigger_price, trigger_price)
    if kind is OrderType.TAKE_PROFIT:
        return StopSeen(price >= trigger_price, trigger_price)
    raise ValueError(f"{kind.value} is not a stop")


def observe_order(order: Order, price: Decimal) -> StopSeen:
    """Observe a stop order at an executable price (its stored fields say what it is)."""
    return observe(
        order.type,
        price,
        trigger_price=order.trigger_price,
        trail_bps=order.trail_bps,
        best=order.trail_best,
    )
