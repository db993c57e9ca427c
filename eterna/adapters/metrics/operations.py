"""The API's families: GraphQL operations, refusals, websockets, and the pools in use.

Operation names are chosen by clients, so they are bounded twice: a name is kept only if it
looks like an identifier (else ``invalid``), and after :data:`MAX_OPERATION_NAMES` distinct
names a process counts every new one as ``other``: a client cannot grow the scrape without
limit by naming each request differently.

Refusals are created at zero for every code, and so are the retry and failure series of the
reasons an order can fail with most often, so ``rate()`` over them is defined from the
first scrape rather than from the first incident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from eterna.adapters.metrics.tally import CounterFamily, CounterSeries, HistogramSeries, Tally
from eterna.domain.errors import (
    NoRouteError,
    RejectionCode,
    StorageUnavailableError,
    VenueError,
    VenueUnavailableError,
)

MAX_OPERATION_NAMES = 100
OTHER = "other"
INVALID = "invalid"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# GraphQL operations: a cached quote or order read takes about a millisecond; a placement a
# few; a subscription's "duration" is its whole life and lands in the top buckets.
OPERATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 600.0,
)  # fmt: skip
# Reasons that exist from the start (the first word of an order's error).
KNOWN_REASONS = tuple(
    e.__name__ for e in (VenueUnavailableError, VenueError, NoRouteError, StorageUnavailableError)
)


@dataclass(frozen=True, slots=True)
class PoolUse:
    """Connections of one pool: open in all, and lent out right now."""

    size: int
    in_use: int


def at_zero(family: CounterFamily, values: Sequence[str]) -> None:
    """Create one series per value of the family's only label, so it is exported at zero."""
    for value in values:
        family.labels(value)


class OperationFamilies:
    """Requests, latency and errors per GraphQL operation; refusals by code."""

    def __init__(self, tally: Tally) -> None:
        self._requests = tally.counter(
            "eterna_graphql_operations",
            "GraphQL operations run by this API process, by operation name and type.",
            ["operation", "type"],
        )
        self._latency = tally.histogram(
            "eterna_graphql_operation_duration_seconds",
            "Time to run a GraphQL operation, by operation name and type (a subscription: "
            "its whole life).",
            ["operation", "type"],
            OPERATION_BUCKETS,
        )
        self._errors = tally.counter(
            "eterna_graphql_errors",
            "Errors in GraphQL results, by operation name, type and extensions.code "
            "(UNEXPECTED for a masked error).",
            ["operation", "type", "code"],
        )
        self._refusals = tally.counter(
            "eterna_refusals",
            "Requests refused with a code, as a result (OrderRejected, CancelRejected) or "
            "as an error, by code.",
            ["code"],
        )
        self._refused_by = {c.value: self._refusals.labels(c.value) for c in RejectionCode}
        self._names: set[str] = set()
        self._series: dict[tuple[str, str], tuple[CounterSeries, HistogramSeries]] = {}

    def operation(
        self,
        name: str,
        kind: str,
        seconds: float,
        errors: Sequence[str],
        refusals: Sequence[str],
    ) -> None:
        """Record one finished operation (the schema's ObservedOperation calls this)."""
        label = self._bounded(name)
        series = self._series.get((label, kind))
        if series is None:
            series = self._series[(label, kind)] = (
                self._requests.labels(label, kind),
                self._latency.labels(label, kind),
            )
        series[0].inc()
        series[1].observe(seconds)
        for code in errors:
            self._errors.labels(label, kind, code).inc()
            if (refused := self._refused_by.get(code)) is not None:
                refused.inc()
        for code in refusals:
            if (refused := self._refused_by.get(code)) is not None:
                refused.inc()

    def _bounded(self, name: str) -> str:
        if not _NAME.fullmatch(name):
            return INVALID
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        return name


def watch_websockets(registry: CollectorRegistry, open_now: Callable[[], int]) -> None:
    """Report the websockets this API process holds open, at each scrape."""
    Gauge(
        "eterna_websocket_connections",
        "Websocket connections open on this API process.",
        registry=registry,
    ).set_function(lambda: float(open_now()))


Pools = dict[str, Callable[[], PoolUse | None]]


def watch_pools(registry: CollectorRegistry, pools: Pools) -> None:
    """Report each pool's size and connections in use (``pool``: database, redis)."""
    size = Gauge(
        "eterna_pool_connections",
        "Connections a pool of this process holds open, by pool (database, redis).",
        ["pool"],
        registry=registry,
    )
    in_use = Gauge(
        "eterna_pool_connections_in_use",
        "Connections of a pool lent out right now, by pool (database, redis).",
        ["pool"],
        registry=registry,
    )
    for name, read in pools.items():
        size.labels(name).set_function(_reader(read, "size"))
        in_use.labels(name).set_function(_reader(read, "in_use"))


def _reader(read: Callable[[], PoolUse | None], name: str) -> Callable[[], float]:
    def value() -> float:
        use = read()
        return float(getattr(use, name)) if use is not None else 0.0

    return value
