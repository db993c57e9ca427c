"""What a worker remembers for adaptive slippage, and the choice of each attempt's tolerance.

The rule itself is pure (:mod:`eterna.domain.slippage`); this module gathers its inputs:

- :class:`PoolMoves` keeps, per pool, the last ``MOVES_KEPT`` absolute spot price changes the
  market data showed (at most ``MOVE_WINDOW`` old), and the slippage failures of the last
  ``FAILURE_WINDOW`` on routes through the pool. Both are small, bounded, in memory, and per
  worker: a worker that just started knows no moves and no failures, and picks from depth.
- :class:`AdaptiveSlippage` follows the market data (from the first adaptive order on, in a
  task of its own), counts each order's slippage failures while the order runs here, and
  turns an order's route into the route with the chosen floor. It also keeps what each pool
  of an order's route paid for the whole amount at the last attempt: on the next attempt the
  fresh quote of the same pool shows the adverse move there (the router may route around the
  pool that moved, so the route's own output understates it), and that move is recorded as
  the pool's too, before the market data reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction

from eterna.application.ports import MarketData
from eterna.domain.errors import EternaError
from eterna.domain.orders import Order
from eterna.domain.routes import Route
from eterna.domain.slippage import (
    SlippageChoice,
    SlippageInputs,
    adverse_move_bps,
    choose_tolerance,
)
from eterna.domain.triggers import MarketUpdate
from eterna.routing.router import RoutingDecision

log = logging.getLogger(__name__)

MOVES_KEPT = 16
MOVE_WINDOW = timedelta(minutes=2)
FAILURE_WINDOW = timedelta(minutes=1)
FAILURES_KEPT = 8
BPS = 10_000


def move_bps(before: Fraction, after: Fraction) -> int:
    """Return the absolute change from one spot price to the next, in bps rounded up."""
    if before <= 0:
        return 0
    change = abs(after - before) * BPS / before
    return -(-change.numerator // change.denominator)


class PoolMoves:
    """Recent price moves and slippage failures per pool, bounded."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._spot: dict[str, Fraction] = {}
        self._moves: dict[str, deque[tuple[datetime, int]]] = {}
        self._failures: dict[str, deque[tuple[datetime, int]]] = {}

    def observe(self, pool: str, price: Fraction | None) -> None:
        """Record the pool's spot price as the market data shows it now."""
        if price is None:
            return
        before = self._spot.get(pool)
        self._spot[pool] = price
        if before is None or before == price:
            return
        self.seen(pool, move_bps(before, price))

    def seen(self, pool: str, bps: int) -> None:
        """Record a move of the pool seen now."""
        moves = self._moves.setdefault(pool, deque(maxlen=MOVES_KEPT))
        moves.append((self._clock(), bps))

    def failed(self, pools: set[str], tolerance_bps: int) -> None:
        """Record a slippage failure of a route through these pools at this tolerance."""
        now = self._clock()
        for pool in pools:
            self._failures.setdefault(pool, deque(maxlen=FAILURES_KEPT)).append(
                (now, tolerance_bps)
            )

    def largest_move(self, pool: str) -> int:
        """Return the largest move of the pool within the window (0 when none)."""
        since = self._clock() - MOVE_WINDOW
        return max((bps for at, bps in self._moves.get(pool, ()) if at >= since), default=0)

    def largest_failure(self, pools: set[str]) -> int | None:
        """Return the widest tolerance that failed on one of the pools lately (None: none)."""
        since = self._clock() - FAILURE_WINDOW
        failed = [bps for pool in pools for at, bps in self._failures.get(pool, ()) if at >= since]
        return max(failed, default=None)


def route_move_bps(moves: PoolMoves, route: Route) -> int:
    """Return the recent move a route is exposed to: per hop the largest, hops summed."""
    hops: dict[str, int] = {}
    for leg in route.legs:
        hop = leg.token_in.mint
        hops[hop] = max(hops.get(hop, 0), moves.largest_move(leg.pool))
    return sum(hops.values())


def tolerance_of(route: Route) -> int:
    """Return the tolerance a route's floor allows, in bps (rounded down)."""
    if route.amount_out <= 0:
        return 0
    share = (route.amount_out - route.min_amount_out) * BPS / route.amount_out
    return max(int(share), 0)


@dataclass(frozen=True, slots=True)
class Adapted:
    """A route with the floor of the chosen tolerance, and the choice."""

    route: Route
    choice: SlippageChoice


class AdaptiveSlippage:
    """Pick each attempt's tolerance for orders that give ``maxSlippageBps``."""

    def __init__(self, clock: Callable[[], datetime], *, retry_seconds: float = 1.0) -> None:
        self.moves = PoolMoves(clock)
        self._slipped: dict[uuid.UUID, int] = {}
        # Per order: what each pool of its last route paid for the whole amount (base units).
        self._quoted: dict[uuid.UUID, dict[str, int]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._retry_seconds = retry_seconds

    def follow(self, market: MarketData | None) -> None:
        """Start following the market's pool updates, once (nothing without market data)."""
        if market is None or self._follower is not None:
            return
        self._follower = asyncio.get_running_loop().create_task(
            self._follow(market), name="slippage-moves"
        )

    async def close(self) -> None:
        """Stop following the market."""
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    async def _follow(self, market: MarketData) -> None:
        while True:
            try:
                cursor = await market.cursor()
                async for update in market.updates(cursor):
                    self._observe(update)
            except EternaError as exc:
                log.warning("pool moves: market data unavailable (%s); retrying", exc)
                await asyncio.sleep(self._retry_seconds)

    def _observe(self, update: MarketUpdate) -> None:
        self.moves.observe(update.pool.address, update.pool.price)

    def slipped(self, order: Order) -> None:
        """Record that the order's attempt failed on slippage (its route's floor was missed).

        Any order's failure counts for the pools, a fixed-slippage one's too: the move that
        beat its tolerance is there for the adaptive orders that come next.
        """
        self._slipped[order.id] = self._slipped.get(order.id, 0) + 1
        route = order.route
        if route is not None:
            self.moves.failed({leg.pool for leg in route.legs}, tolerance_of(route))

    def forget(self, order_id: uuid.UUID) -> None:
        """Drop what was counted for an order that left this worker."""
        self._slipped.pop(order_id, None)
        self._quoted.pop(order_id, None)

    def adapt(self, order: Order, decision: RoutingDecision, cap_bps: int) -> Adapted:
        """Return the decision's route with the floor of this attempt's tolerance, and why.

        ``order.route`` is the previous attempt's route when this is a retry: its floor
        gives the previous tolerance, and its expected output against the fresh one the
        adverse move since; so do the fresh quotes of the pools it went through.
        """
        route = decision.route
        whole = {q.pool: q.amount_out for q in decision.pool_quotes}
        adverse = 0
        for pool, before in self._quoted.get(order.id, {}).items():
            if pool in whole and (moved := adverse_move_bps(before, whole[pool])) > 0:
                self.moves.seen(pool, moved)
                adverse = max(adverse, moved)
        self._quoted[order.id] = {
            leg.pool: whole[leg.pool] for leg in route.legs if leg.pool in whole
        }
        previous = order.route if order.attempts > 0 else None
        units_now = route.token_out.to_base_units(route.amount_out)
        previous_bps = None
        if previous is not None:
            previous_bps = tolerance_of(previous)
            if previous.token_out.mint == route.token_out.mint:
                before = previous.token_out.to_base_units(previous.amount_out)
                adverse = max(adverse, adverse_move_bps(before, units_now))
        pools = {leg.pool for leg in route.legs}
        choice = choose_tolerance(
            SlippageInputs(
                cap_bps=cap_bps,
                impact_bps=route.price_impact_bps,
                recent_move_bps=route_move_bps(self.moves, route),
                failed_tolerance_bps=self.moves.largest_failure(pools),
                previous_bps=previous_bps,
                slippage_failures=self._slipped.get(order.id, 0),
                adverse_move_bps=adverse,
            )
        )
        floor_units = units_now * (BPS - choice.bps) // BPS
        floor = route.token_out.from_base_units(floor_units)
        return Adapted(replace(route, min_amount_out=floor), choice)
