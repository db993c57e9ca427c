"""Pre-trade checks of limit, sniper and stop orders: whether the trigger still holds right now.

The trigger watcher fires an order when a market update shows its trigger; the worker that
claims it checks again here on a fresh quote, because the market may have moved in between
(or the order was just placed and nobody looked yet). The verdict is one of:

- :class:`Expired`: ``expiresAt`` has passed; the order ends EXPIRED. An order already past
  this check (ROUTING and later) finishes its execution even if it expires meanwhile: it
  fired in time.
- :class:`Rest`: the trigger does not hold now (limit not met, no pool for the mint, too
  little liquidity, nothing routes within ``maxPriceImpactBps``); the order goes back to
  WAITING. That is not a failure: a limit or sniper order is a standing instruction.
- :class:`Go`: route now. For a LIMIT the route's ``minAmountOut`` is raised to the limit
  floor (``amountIn x limitPrice``) when that is above the slippage floor, so the chain
  refuses a fill below the limit even if the price moves after the quote. For a SNIPER the
  verdict carries tokenOut as its pools describe it (symbol, decimals).

- :class:`Refuse`: a fired stop whose best route pays less than its ``limitPrice`` floor
  (``amountIn x limitPrice``); the order ends FAILED (BELOW_LIMIT_PRICE) with nothing sent.

Stops (:mod:`eterna.domain.stops`): until the order fired (``firedAt``, set by the FIRE
step) or was routed after a first look where it held, the trigger is checked on the order's
own executable price, and the order rests unless it holds. Once fired (and on every retry
after) a stop trades as a market order: no trigger check, the slippage floor, raised to the
limit floor when it has a ``limitPrice``.

An order giving ``maxSlippageBps`` has its :class:`Go` route's floor set by the tolerance
:class:`~eterna.application.slippage.AdaptiveSlippage` picks for the attempt (never below a
limit floor already applied), and the choice on the verdict's details (``slippage``).

A market order always gets :class:`Go`. Errors propagate: the engine retries transient ones
(a venue or the market data unreachable) and fails an order on a permanent one, as ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from eterna.application.ports import MarketData
from eterna.application.slippage import AdaptiveSlippage
from eterna.domain.errors import NoRouteError
from eterna.domain.failures import FailureKind
from eterna.domain.fills import largest_fill
from eterna.domain.orders import Order, OrderType
from eterna.domain.stops import observe_order
from eterna.domain.tokens import Token, format_amount, price_of
from eterna.domain.triggers import limit_floor, liquidity_in, meets_limit
from eterna.routing.router import Router, RoutingDecision


@dataclass(frozen=True, slots=True)
class Expired:
    """The order's expiresAt has passed."""

    message: str


@dataclass(frozen=True, slots=True)
class Rest:
    """The trigger does not hold now: wait for it."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    token_out: Token | None = None


@dataclass(frozen=True, slots=True)
class Go:
    """Route now: the decision (floor applied) and what the ROUTING event says about it."""

    decision: RoutingDecision
    note: str
    details: dict[str, Any] = field(default_factory=dict)
    token_out: Token | None = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Do not trade: the order fails with this kind, nothing sent."""

    message: str
    failure: FailureKind
    details: dict[str, Any] = field(default_factory=dict)


Verdict = Expired | Rest | Go | Refuse


class PreTrade:
    """Check a limit or sniper order's trigger on fresh quotes."""

    def __init__(
        self,
        router: Router,
        market: MarketData | None,
        slippage: AdaptiveSlippage | None = None,
    ) -> None:
        self._router = router
        self._market = market
        self._slippage = slippage

    async def check(self, order: Order, now: datetime) -> Verdict:
        """Return whether the order expires, rests or routes now (a market order routes)."""
        verdict = await self._check(order, now)
        cap = order.max_slippage_bps
        if not isinstance(verdict, Go) or cap is None or self._slippage is None:
            return verdict
        route = verdict.decision.route
        adapted = self._slippage.adapt(order, verdict.decision, cap)
        choice = adapted.choice
        # A limit floor applied already stays: the chosen tolerance only raises the floor.
        floor = max(adapted.route.min_amount_out, route.min_amount_out)
        decision = replace(verdict.decision, route=replace(route, min_amount_out=floor))
        note = f"{verdict.note}; slippage {choice.bps} bps of at most {cap}: {choice.reason}"
        details = {**verdict.details, "slippage": choice.to_json()}
        return replace(verdict, decision=decision, note=note, details=details)

    async def _check(self, order: Order, now: datetime) -> Verdict:
        if order.type is OrderType.MARKET:
            decision = await self._route(order, order.token_out)
            if order.limit_price is None:
                return Go(decision, "")
            return _floored(order, decision, "", {})  # a TWAP's slice with a limit
        if order.expires_at is not None and now >= order.expires_at:
            return Expired(f"expired at {order.expires_at.isoformat()} before it could trade")
        if order.type is OrderType.SNIPER:
            return await self._sniper(order)
        if order.type.is_stop:
            return await self._stop(order)
        return await self._limit(order)

    async def _stop(self, order: Order) -> Verdict:
        """Check a stop's trigger on its first look; once fired, trade it above its floor."""
        pair = f"{order.token_out.label} per {order.token_in.label}"
        # Neither fired by the watcher nor routed after a first look that held: check it.
        first_look = order.fired_at is None and order.route is None
        try:
            decision = await self._route(order, order.token_out)
        except NoRouteError as exc:
            if not first_look:
                raise
            return Rest(f"nothing routes now ({exc}); waiting for the {_stop_name(order)}")
        route = decision.route
        price = price_of(order.amount_in, route.amount_out)
        shown = format_amount(price)
        if first_look:
            seen = observe_order(order, price)
            details = {"price": shown, "triggerPrice": format_amount(seen.trigger)}
            if not seen.fires:
                return Rest(
                    f"waiting: the best route pays {shown} {pair}; the {_stop_name(order)} "
                    f"fires at {format_amount(seen.trigger)}",
                    details,
                )
        else:
            details = {"price": shown}
        note = f"; {_stop_name(order)} trading at {shown} {pair}"
        return _floored(order, decision, note, details)

    async def _limit(self, order: Order) -> Verdict:
        limit = order.limit_price
        if limit is None:  # validation requires it; an order without one trades as a market one
            return Go(await self._route(order, order.token_out), "")
        pair = f"{order.token_out.label} per {order.token_in.label}"
        remaining = order.remaining_in
        try:
            decision = await self._route(order, order.token_out)
        except NoRouteError as exc:
            if order.min_fill is None:
                return Rest(f"nothing routes now ({exc}); waiting for limit {limit} {pair}")
            return await self._part(order, limit, f"nothing routes it ({exc})")
        route = decision.route
        price = price_of(remaining, route.amount_out)
        shown = format_amount(price)
        details = {"price": shown, "limitPrice": format_amount(limit)}
        if not meets_limit(remaining, route.amount_out, limit, order.token_out):
            below = f"the best route pays {shown} {pair}, below the limit {limit}"
            if order.min_fill is None:
                return Rest(f"waiting: {below}", details)
            return await self._part(order, limit, below)
        return Go(
            _limit_floored(decision, remaining, limit, order.token_out),
            f"; limit {limit} met at {shown} {pair}",
            details,
        )

    async def _part(self, order: Order, limit: Decimal, below: str) -> Verdict:
        """Trade the largest part of what remains that meets the limit, or rest.

        The whole remaining amount does not meet it (``below`` says why); the part is at
        least the order's least fill (:func:`eterna.domain.fills.largest_fill`) and leaves at
        least that much to rest.
        """
        token_in, token_out = order.token_in, order.token_out
        remaining, least = order.remaining_in, order.least_fill_in
        pair = f"{token_out.label} per {token_in.label}"

        decisions: dict[Decimal, RoutingDecision] = {}  # the routes found, by amount
        quoted: list[Decimal] = []

        async def output(amount: Decimal) -> Decimal | None:
            quoted.append(amount)
            try:
                decisions[amount] = await self._route(order, token_out, amount)
            except NoRouteError:
                return None
            return decisions[amount].route.amount_out

        # A part leaves at least a least fill resting: never a remainder too small to trade.
        most = remaining - least
        part = None
        if least <= most:
            paid = await output(most)
            if paid is not None and meets_limit(most, paid, limit, token_out):
                part = most
            else:
                part = await largest_fill(
                    least, most, limit=limit, token_in=token_in, output=output
                )
        details: dict[str, Any] = {
            "limitPrice": format_amount(limit),
            "leastFill": format_amount(least),
        }
        if part is None:
            whole = f"for the whole {format_amount(remaining)} {token_in.label} {below}"
            if least > most:
                why = f"what remains is less than two least fills of {format_amount(least)}"
            else:
                why = f"no part of at least {format_amount(least)} meets limit {limit} {pair}"
            return Rest(f"waiting: {whole}, and {why}", details)
        decision = decisions[part]
        shown = format_amount(price_of(part, decision.route.amount_out))
        rest = remaining - part
        details |= {
            "price": shown,
            "fillAmountIn": format_amount(part),
            "restingAmountIn": format_amount(rest),
            "searchQuotes": len(quoted),
        }
        return Go(
            _limit_floored(decision, part, limit, token_out),
            f"; limit {limit} met at {shown} {pair} for {format_amount(part)} of "
            f"{format_amount(remaining)} {token_in.label}: a partial fill, "
            f"{format_amount(rest)} rests",
            details,
        )

    async def _sniper(self, order: Order) -> Verdict:
        mint_in, mint_out = order.token_in.mint, order.token_out.mint
        token_out = order.token_out
        details: dict[str, Any] = {}
        if self._market is not None:
            pools = await self._market.pools_of(mint_out)
            known = [t for p in pools if (t := p.token(mint_out)) is not None]
            if not known:
                return Rest(f"waiting: {token_out.label} does not trade on any venue yet")
            token_out = known[0]
            if order.min_liquidity is not None:
                held = liquidity_in(pools, mint_in, mint_out)
                details["liquidity"] = format_amount(held)
                if held < order.min_liquidity:
                    return Rest(
                        f"waiting: pools of {order.token_in.label}/{token_out.label} hold "
                        f"{held} {order.token_in.label}, below minLiquidity "
                        f"{order.min_liquidity}",
                        details,
                        _changed(token_out, order.token_out),
                    )
        try:
            decision = await self._route(order, token_out)
        except NoRouteError as exc:
            return Rest(f"waiting: {exc}", details, _changed(token_out, order.token_out))
        return Go(
            decision,
            f"; {token_out.label} is tradeable",
            details,
            _changed(token_out, order.token_out),
        )

    async def _route(
        self, order: Order, token_out: Token, amount: Decimal | None = None
    ) -> RoutingDecision:
        """Route ``amount`` of tokenIn (by default all the order has not filled yet)."""
        return await self._router.route(
            order.token_in,
            token_out,
            order.remaining_in if amount is None else amount,
            slippage_bps=order.slippage_bps,
            max_price_impact_bps=order.max_price_impact_bps,
        )


def _limit_floored(
    decision: RoutingDecision, amount: Decimal, limit: Decimal, token_out: Token
) -> RoutingDecision:
    """Raise the route's minimum out to the limit floor of ``amount`` when it is higher."""
    route = decision.route
    floor = limit_floor(amount, limit, token_out)
    if floor > route.min_amount_out:
        return replace(decision, route=replace(route, min_amount_out=floor))
    return decision


def _floored(
    order: Order, decision: RoutingDecision, note: str, details: dict[str, Any]
) -> Verdict:
    """Trade at or above the order's ``limitPrice`` floor, if it has one; refuse below it.

    A fired stop, and a TWAP's slice whose parent has a limit: a fresh quote below the floor
    fails the order BELOW_LIMIT_PRICE with nothing sent (a TWAP's slice is then skipped).
    """
    limit = order.limit_price
    if limit is None:
        return Go(decision, note, details)
    route = decision.route
    floor = limit_floor(order.remaining_in, limit, order.token_out)
    details = {**details, "limitPrice": format_amount(limit)}
    if route.amount_out < floor:
        shown = format_amount(price_of(order.remaining_in, route.amount_out))
        pair = f"{order.token_out.label} per {order.token_in.label}"
        return Refuse(
            f"the best route pays {shown} {pair}, below the limitPrice {limit}: nothing sent",
            FailureKind.BELOW_LIMIT_PRICE,
            details,
        )
    return Go(_limit_floored(decision, order.remaining_in, limit, order.token_out), note, details)


def _stop_name(order: Order) -> str:
    """Name a stop's kind for people: "stop-loss", "take-profit", "trailing stop"."""
    return order.type.value.lower().replace("_", "-").replace("trailing-", "trailing ")


def _changed(found: Token, stored: Token) -> Token | None:
    return found if found != stored else None
