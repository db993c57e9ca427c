"""The metric families of one process, and what updates them.

Per step the cost is a few dictionary look-ups and two or three additions
(``bench/metrics_overhead.py`` measures it): the families a step touches are
:mod:`.tally`'s plain counters and histograms, and every series a step can touch is created
once, up front or on first use.

Gauges that describe shared state (orders in the database, the queue) are read when
Prometheus scrapes, by :meth:`Metrics.refresh`, each source within a timeout so that a scrape
still answers while Postgres or Redis does not; ``eterna_scrape_source_up`` says whether the
last read of each source worked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Gauge,
    Info,
    disable_created_metrics,
)

from eterna.adapters.metrics.operations import (
    KNOWN_REASONS,
    OperationFamilies,
    PoolUse,
    at_zero,
    watch_pools,
    watch_websockets,
)
from eterna.adapters.metrics.tally import Tally
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.routes import RouteKind
from eterna.domain.state_machine import TRANSITIONS

log = logging.getLogger(__name__)

# One step of an order takes milliseconds against the local chain in the process, and
# up to tens of seconds on a real chain (confirmation, backoff before a retry); a resting
# limit order's WAITING -> PENDING can take days and lands in +Inf.
STEP_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
# Placement to a terminal status: milliseconds for a market order on the local chain, up to the
# longest expiry (30 days by default) for a limit or sniper order.
ORDER_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0, 21600.0, 86400.0, 604800.0, 2592000.0,
)  # fmt: skip
SOURCE_TIMEOUT_SECONDS = 2.0
# A reason label is the first word of the error ("VenueUnavailableError: ...",
# "BlockhashExpired"): the error classes and chain error names, a bounded set.
_REASON = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

OrderCounts = Mapping[tuple[OrderType, OrderStatus], int]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """The order queue now: messages no worker has read yet, and read but unfinished."""

    lag: int
    pending: int


def reason_of(error: str | None) -> str:
    """Return the label value of a retry or failure reason: the error's first word."""
    found = _REASON.match(error or "")
    return found.group(0) if found else "unknown"


class Metrics:
    """The registry of one process with every Eterna family, and the methods that feed them."""

    def __init__(
        self,
        *,
        role: str,
        mode: str,
        version: str,
        count_orders: Callable[[], Awaitable[OrderCounts]] | None = None,
        queue_depth: Callable[[], Awaitable[QueueDepth]] | None = None,
        orders_ttl_seconds: float = 5.0,
    ) -> None:
        # A ``_created`` series beside every counter and histogram doubles the output for a
        # figure Prometheus's own queries do not use (process-wide switch, ours to set).
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        reg = self.registry
        Info("eterna_build", "Version, role and run mode of this process.", registry=reg).info(
            {"version": version, "role": role, "mode": mode}
        )
        self._count_orders = count_orders
        self._queue_depth = queue_depth
        self._orders_ttl = orders_ttl_seconds
        self._orders_read_at = -float("inf")

        self._orders = Gauge(
            "eterna_orders",
            "Orders in the database by type and status, counted at scrape time (the same "
            "figure on every process: aggregate with max, not sum).",
            ["type", "status"],
            registry=reg,
        )
        tally = Tally()
        reg.register(tally)
        self._placed = tally.counter(
            "eterna_orders_placed", "Orders placed (new, not repeats) by type.", ["type"]
        )
        self._transitions = tally.counter(
            "eterna_order_transitions",
            "Order steps persisted by this process, by order type and the status reached "
            "(placement counts as PENDING).",
            ["type", "status"],
        )
        self._retries = tally.counter(
            "eterna_order_retries", "Retries after a transient failure, by reason.", ["reason"]
        )
        self._failures = tally.counter(
            "eterna_order_failures", "Orders that ended FAILED, by reason.", ["reason"]
        )
        at_zero(self._retries, KNOWN_REASONS)
        at_zero(self._failures, KNOWN_REASONS)
        # Per GraphQL operation and refusal (the API's; idle families elsewhere).
        self.graphql = OperationFamilies(tally)
        self._steps = tally.histogram(
            "eterna_order_step_duration_seconds",
            "Time from an order's previous step to this one, by the two statuses.",
            ["from_status", "to_status"],
            STEP_BUCKETS,
        )
        self._durations = tally.histogram(
            "eterna_order_duration_seconds",
            "Time from placement to a terminal status, by order type and that status.",
            ["type", "status"],
            ORDER_BUCKETS,
        )
        self._routes = tally.counter(
            "eterna_routes", "Routing decisions by kind of route.", ["kind"]
        )
        self._venue_uses = tally.counter(
            "eterna_route_venue_uses",
            "Routing decisions that send some of the order through the venue, by kind of route.",
            ["venue", "kind"],
        )
        self._queue_lag = Gauge(
            "eterna_queue_lag_messages",
            "Order messages waiting in the users' lanes, taken by no worker yet.",
            registry=reg,
        )
        self._queue_pending = Gauge(
            "eterna_queue_pending_messages",
            "Order messages this process took from the lanes and has not finished yet.",
            registry=reg,
        )
        self._source_up = Gauge(
            "eterna_scrape_source_up",
            "Whether the last scrape-time read of a source worked (1) or not (0).",
            ["source"],
            registry=reg,
        )

        # Children every step may touch, made once (label validation is the costly part).
        self._placed_of = {t: self._placed.labels(t.value) for t in OrderType}
        self._transitions_of = {
            (t, s): self._transitions.labels(t.value, s.value)
            for t in OrderType
            for s in OrderStatus
        }
        # By (type, status reached): its transitions, and its lifetimes when it is terminal.
        self._reached = {
            (t, s): (
                self._transitions_of[(t, s)],
                self._durations.labels(t.value, s.value) if s.is_terminal else None,
            )
            for t in OrderType
            for s in OrderStatus
        }
        self._steps_of = {
            (before, after): self._steps.labels(before.value, after.value)
            for (before, _), after in TRANSITIONS.items()
        }
        self._routes_of = {k: self._routes.labels(k.value) for k in RouteKind}

    # -- the hot path: placements and steps -------------------------------------------

    def placed(self, orders: Iterable[Order]) -> None:
        """Count newly placed orders (each is a PENDING transition too)."""
        for order in orders:
            self._placed_of[order.type].inc()
            self._transitions_of[(order.type, OrderStatus.PENDING)].inc()

    def recorded(self, before: Order, after: Order, event: OrderEvent) -> None:
        """Observe one persisted step: ``before`` and ``after`` are the order around it."""
        status = event.status
        transitions, lifetimes = self._reached[(before.type, status)]
        transitions.inc()
        # Clocks of different processes may disagree a little: never a negative duration.
        since_last = max((event.at - before.updated_at).total_seconds(), 0.0)
        self._steps_of[(before.status, status)].observe(since_last)
        if status is OrderStatus.PENDING and event.error is not None:  # a retry
            self._retries.labels(reason_of(event.error)).inc()
        elif status is OrderStatus.ROUTING and event.route is not None:
            kind = event.route.kind
            self._routes_of[kind].inc()
            for venue in {leg.venue for leg in event.route.legs}:
                self._venue_uses.labels(venue, kind.value).inc()
        if lifetimes is not None:  # a terminal status
            lifetimes.observe(max((event.at - before.created_at).total_seconds(), 0.0))
            if status is OrderStatus.FAILED:
                self._failures.labels(reason_of(event.error)).inc()

    # -- gauges read at scrape time ---------------------------------------------------

    def watch_subscriptions(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Report the open subscriptions, by kind, from ``counts`` at each scrape."""
        family = Gauge(
            "eterna_subscriptions",
            "Open GraphQL subscriptions served by this API process, by kind (order: "
            "orderEvents, user: myOrderEvents).",
            ["kind"],
            registry=self.registry,
        )
        for kind in ("order", "user"):
            family.labels(kind).set_function(_reader(counts, kind))

    def watch_engine(self, in_flight: Callable[[], int]) -> None:
        """Report the orders the engine of this process runs right now."""
        Gauge(
            "eterna_engine_orders_in_flight",
            "Orders the execution engine of this process is running right now.",
            registry=self.registry,
        ).set_function(in_flight)

    def watch_watcher(self, active: Callable[[], bool], resting: Callable[[], int]) -> None:
        """Report whether this process runs the trigger watcher, and the orders it holds."""
        Gauge(
            "eterna_watcher_active",
            "1 while this process runs the trigger watcher (one process at a time does).",
            registry=self.registry,
        ).set_function(lambda: 1.0 if active() else 0.0)
        Gauge(
            "eterna_watcher_resting_orders",
            "Resting limit and sniper orders in the trigger watcher's book (0 elsewhere).",
            registry=self.registry,
        ).set_function(resting)

    def watch_websockets(self, open_now: Callable[[], int]) -> None:
        """Report the websockets this process holds open, at each scrape."""
        watch_websockets(self.registry, open_now)

    def watch_pools(self, pools: dict[str, Callable[[], PoolUse | None]]) -> None:
        """Report the size and use of each connection pool, at each scrape."""
        watch_pools(self.registry, pools)

    async def refresh(self) -> None:
        """Read the scrape-time sources: orders in the database (cached), the queue's depth."""
        now = time.monotonic()
        if self._count_orders is not None and now - self._orders_read_at >= self._orders_ttl:
            counts = await self._read("database", self._count_orders)
            if counts is None:
                self._orders.clear()  # no figure rather than a stale one
            else:
                self._orders_read_at = now
                for t in OrderType:
                    for s in OrderStatus:
                        self._orders.labels(t.value, s.value).set(counts.get((t, s), 0))
        if self._queue_depth is not None:
            depth = await self._read("queue", self._queue_depth)
            if depth is not None:
                self._queue_lag.set(depth.lag)
                self._queue_pending.set(depth.pending)

    async def _read(self, source: str, read: Callable[[], Awaitable[T]]) -> T | None:
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_SECONDS):
                value = await read()
        except Exception as exc:  # the scrape answers anyway; the source is marked down
            log.warning("metrics: reading the %s failed (%s)", source, type(exc).__name__)
            self._source_up.labels(source).set(0)
            return None
        self._source_up.labels(source).set(1)
        return value


def _reader(counts: Callable[[], Mapping[str, int]], key: str) -> Callable[[], float]:
    return lambda: float(counts().get(key, 0))
