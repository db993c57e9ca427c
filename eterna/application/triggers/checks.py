"""The trigger checks: which resting orders fire now, decided on fresh routes.

LIMIT, per pair: route the pair's smallest resting amount. The average price of a swap falls
as its amount grows, so that price bounds what any resting order of the pair can get, and only
orders with ``limitPrice`` at or below it are candidates (a bisect in the book). The same rule
bounds them from below: the route for the largest candidate amount gives a price every
smaller amount beats, so candidates whose limit is at or below it fire with no further
route. The rest (and orders with a ``maxPriceImpactBps``) are confirmed with a route for
their whole amount (at most ``concurrency`` routes at once, one per distinct amount and
filter) and fire when that pays ``amountIn x limitPrice``, each as soon as it is confirmed.
A rounding that broke the rule by a base unit could fire an order a unit short of its
limit; the worker's fresh check before routing sends it back to WAITING then.

SNIPER, per awaited mint: the mint's pools must exist, hold ``minLiquidity`` of tokenIn
(pools pairing it with tokenIn directly) and route the whole amount within
``maxPriceImpactBps``.

STOPS, per pair (:mod:`eterna.domain.stops`): every stop of the pair is observed at its own
executable price, one route per distinct amount (and ``maxPriceImpactBps``), at most
``concurrency`` at once. A stop fires when its condition holds; a trailing stop whose best
price rose is reported (``raised``) so the watcher keeps and stores it.

A check only decides; the watcher writes (``fire``), and the worker checks again before it
trades.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eterna.application.ports import MarketData
from eterna.domain.errors import NoRouteError
from eterna.domain.orders import Order, OrderType
from eterna.domain.stop_book import GroupKey, StopGroup
from eterna.domain.stops import StopSeen, observe
from eterna.domain.tokens import Token, format_amount, price_of
from eterna.domain.triggers import MarketUpdate, liquidity_in, meets_limit
from eterna.routing.router import Router

PROBE_SLIPPAGE_BPS = 50  # any value: the checks compare outputs and never send
# How far outside the bounds of its pair's smallest and largest amounts a stop group's price
# is taken to possibly lie (see _widened).
BOUND_MARGIN_BPS = 10


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a pair or mint is checked, for the FIRE event's message and details."""

    text: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, update: MarketUpdate) -> Cause:
        """Describe a market update: the pool that changed or launched."""
        pool = update.pool
        launched = update.kind == "created"
        return cls(
            f"{pool.venue} pool {pool.address} {'launched' if launched else 'changed'}",
            {"pool": pool.address, "venue": pool.venue, "launched": launched}
            | {"updateSeq": update.seq},
        )


@dataclass(frozen=True, slots=True)
class Firing:
    """An order whose trigger holds: the FIRE event's message and details."""

    order: Order
    message: str
    details: dict[str, Any]
    token_out: Token | None = None  # a sniper's tokenOut as its pools describe it


Fire = Callable[[Firing], Awaitable[None]]
# Trailing stops whose best price an observation raised, with the new best.
Raised = Callable[[list[tuple[uuid.UUID, Decimal]]], Awaitable[None]]

# The FIRE event's ``trigger`` detail of each stop kind.
STOP_TRIGGERS = {
    OrderType.STOP_LOSS: "stopLoss",
    OrderType.TAKE_PROFIT: "takeProfit",
    OrderType.TRAILING_STOP: "trailingStop",
}


class TriggerChecks:
    """Route candidates and decide which orders fire."""

    def __init__(self, router: Router, market: MarketData, *, concurrency: int) -> None:
        self._router = router
        self._market = market
        self._gate = asyncio.Semaphore(concurrency)

    async def pays(
        self, token_in: Token, token_out: Token, amount: Decimal, impact: int | None
    ) -> Decimal | None:
        """Return what the best route pays for amount, or None when nothing routes."""
        async with self._gate:
            try:
                decision = await self._router.route(
                    token_in,
                    token_out,
                    amount,
                    slippage_bps=PROBE_SLIPPAGE_BPS,
                    max_price_impact_bps=impact,
                )
            except NoRouteError:
                return None
        return decision.route.amount_out

    async def limits(
        self,
        tokens: tuple[Token, Token],
        smallest: Decimal,
        candidates: Callable[[Decimal], list[Order]],
        cause: Cause,
        fire: Fire,
    ) -> None:
        """Fire the pair's limit orders whose whole amount (or least fill) now meets the limit."""
        routes: dict[tuple[Decimal, int | None], asyncio.Future[Decimal | None]] = {}

        def output(amount: Decimal, impact: int | None) -> asyncio.Future[Decimal | None]:
            if (amount, impact) not in routes:
                routes[(amount, impact)] = asyncio.ensure_future(self.pays(*tokens, amount, impact))
            return routes[(amount, impact)]

        probe = await output(smallest, None)
        if probe is None:
            return

        found = [o for o in candidates(price_of(smallest, probe)) if o.limit_price is not None]
        plain = [o.least_fill_in for o in found if o.max_price_impact_bps is None]
        assured = Decimal(0)  # every unfiltered candidate gets at least this price
        if plain:
            largest = max(plain)
            paid = await output(largest, None)
            assured = Decimal(0) if paid is None else price_of(largest, paid)

        async def confirm(order: Order) -> None:
            limit = order.limit_price
            if limit is None:
                return
            # What must meet the limit: all that remains, or the least fill of an order
            # filling in parts (its worker then finds the largest part that does).
            amount = order.least_fill_in
            if order.max_price_impact_bps is None and limit <= assured:
                price, bound = assured, "at least "
            else:
                paid = await output(amount, order.max_price_impact_bps)
                if paid is None or not meets_limit(amount, paid, limit, tokens[1]):
                    return
                price, bound = price_of(amount, paid), ""
            whole = "the whole amount" if amount == order.remaining_in else "a part"
            await fire(
                Firing(
                    order,
                    f"limit {limit} reached: the best route pays {bound}{format_amount(price)} "
                    f"{tokens[1].label} per {tokens[0].label} for {whole} "
                    f"({cause.text})",
                    {"trigger": "limit", "price": format_amount(price)}
                    | {"limitPrice": format_amount(limit)}
                    | cause.details,
                )
            )

        _raise_first(await asyncio.gather(*map(confirm, found), return_exceptions=True))

    async def stops(
        self,
        tokens: tuple[Token, Token],
        groups: list[tuple[GroupKey, StopGroup]],
        orders: Callable[[uuid.UUID], Order | None],
        *,
        cause: Cause,
        fire: Fire,
        raised: Raised,
        only: set[uuid.UUID] | None = None,
    ) -> None:
        """Observe the pair's stops at their own prices: fire those that hold, raise trails.

        One route per group (the stops sharing an amount and impact filter), then the
        group's index (:mod:`eterna.domain.stop_book`) names the stops that fire and the
        trailing bests that rise, so thousands of stops cost a few routes and bisects.
        Each stop named to fire is confirmed by the rule itself (:func:`observe`).
        """
        higher: list[tuple[uuid.UUID, Decimal]] = []

        async def check(key: GroupKey, group: StopGroup) -> Decimal | None:
            paid = await self.pays(*tokens, *key)
            if paid is None:
                return None
            price = price_of(key[0], paid)
            best_before = {i: group.best_of(i) for i in (only or ()) if i in group}
            seen_now = group.observe(price, only)
            higher.extend(seen_now.raised)
            firings: list[Firing] = []
            for order_id in seen_now.fires:
                order = orders(order_id)
                if order is None:
                    continue
                best = best_before.get(order_id, group.best_of(order_id))
                seen = observe(
                    order.type,
                    price,
                    trigger_price=order.trigger_price,
                    trail_bps=order.trail_bps,
                    best=best,
                )
                if seen.fires:
                    firings.append(_stop_firing(order, tokens, price, seen, cause))
            # Fired as soon as the group is decided, not after every group's route.
            _raise_first(await asyncio.gather(*map(fire, firings), return_exceptions=True))
            return price

        first, rest = groups, []
        plain = sorted((k for k, _ in groups if k[1] is None), key=lambda k: k[0])
        if only is None and len(plain) > 2:
            ends = {plain[0], plain[-1]}
            first = [(k, g) for k, g in groups if k in ends]
            rest = [(k, g) for k, g in groups if k not in ends]
        results = await asyncio.gather(*(check(k, g) for k, g in first), return_exceptions=True)
        if rest:
            bounds = [r for r in results if isinstance(r, Decimal)]
            if len(bounds) == 2:
                low, high = _widened(min(bounds), max(bounds))
                rest = [(k, g) for k, g in rest if k[1] is not None or g.may_act(low, high)]
            results += await asyncio.gather(*(check(k, g) for k, g in rest), return_exceptions=True)
        if higher:
            await raised(higher)
        _raise_first(results)

    async def snipers(self, mint: str, orders: list[Order], cause: Cause, fire: Fire) -> None:
        """Fire the sniper orders awaiting mint that can buy it now within their filters."""
        pools = await self._market.pools_of(mint)
        found = [t for p in pools if (t := p.token(mint)) is not None]
        if not found:
            return
        token_out = found[0]
        if "pool" not in cause.details:  # not a market update: name a pool that trades it
            cause = Cause(
                f"{pools[0].venue} pool {pools[0].address} trades it ({cause.text})",
                {"pool": pools[0].address, "venue": pools[0].venue},
            )

        async def check(order: Order) -> None:
            held = liquidity_in(pools, order.token_in.mint, mint)
            if order.min_liquidity is not None and held < order.min_liquidity:
                return
            impact = order.max_price_impact_bps
            if await self.pays(order.token_in, token_out, order.amount_in, impact) is None:
                return
            await fire(
                Firing(
                    order,
                    f"{token_out.label} is tradeable: {cause.text}; pools of "
                    f"{order.token_in.label}/{token_out.label} hold {format_amount(held)} "
                    f"{order.token_in.label}",
                    {"trigger": "sniper", "liquidity": format_amount(held)} | cause.details,
                    token_out if token_out != order.token_out else None,
                )
            )

        _raise_first(await asyncio.gather(*map(check, orders), return_exceptions=True))


def _stop_firing(
    order: Order, tokens: tuple[Token, Token], price: Decimal, seen: StopSeen, cause: Cause
) -> Firing:
    """Return a stop's FIRE: the price seen, the trigger it crossed, the pool that moved."""
    shown, trigger = format_amount(price), format_amount(seen.trigger)
    unit = f"{tokens[1].label} per {tokens[0].label}"
    details: dict[str, Any] = {
        "trigger": STOP_TRIGGERS[order.type],
        "price": shown,
        "triggerPrice": trigger,
    }
    text = f"{order.type.value.lower().replace('_', ' ')} {trigger} reached"
    if seen.best is not None:
        details |= {"bestPrice": format_amount(seen.best), "trailBps": order.trail_bps}
        text += f" ({order.trail_bps} bps below the best {format_amount(seen.best)})"
    return Firing(
        order,
        f"{text}: the best route pays {shown} {unit} for the whole amount ({cause.text})",
        details | cause.details,
    )


def _widened(low: Decimal, high: Decimal) -> tuple[Decimal, Decimal]:
    """Widen the price bounds of the smallest and largest stop amounts by a margin.

    The executable price falls as the amount grows, so the prices of every amount in
    between lie within them; the margin covers what routing on a grid and rounding to base
    units may break of that rule.
    """
    margin = Decimal(BOUND_MARGIN_BPS) / 10_000
    return low - low * margin, high + high * margin


def _raise_first(results: Sequence[object]) -> None:
    """Raise the first error of gathered checks, once all of them finished."""
    for result in results:
        if isinstance(result, BaseException):
            raise result
