"""Metrics without services: the families, the repository decorator and scrape-time reads."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from eterna.adapters.metrics import Metrics, QueueDepth
from eterna.adapters.metrics.families import STEP_BUCKETS, reason_of
from eterna.adapters.metrics.tally import Tally
from eterna.application.ports import take_step
from eterna.domain.errors import LeaseLostError
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderStatus, OrderType, PlaceOrder
from eterna.domain.tokens import SOL, USDC
from models.memory import MemoryOrderStore
from tests.prometheus_text import Scrape
from tests.support import steps

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _order(status: OrderStatus = OrderStatus.PENDING, **changes: Any) -> Order:
    order = Order(
        id=uuid.uuid4(),
        user_id="alice",
        type=OrderType.MARKET,
        status=status,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(1),
        slippage_bps=50,
        created_at=T0,
        updated_at=T0,
        last_seq=1,
    )
    return replace(order, **changes)


def _scrape(metrics: Metrics) -> Scrape:
    return Scrape.parse(generate_latest(metrics.registry).decode())


def _metrics(**kwargs: Any) -> Metrics:
    return Metrics(role="worker", mode="distributed", version="test", **kwargs)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("VenueUnavailableError: injected RPC error", "VenueUnavailableError"),
        ("BlockhashExpired", "BlockhashExpired"),
        (
            "SlippageToleranceExceeded: got 1 (gave up after 3 attempts)",
            "SlippageToleranceExceeded",
        ),
        ("", "unknown"),
        (None, "unknown"),
        ("  leading space", "unknown"),
        ("x" * 500, "x" * 64),
    ],
)
def test_reason_labels_are_the_first_word_of_the_error(error: str | None, reason: str) -> None:
    assert reason_of(error) == reason


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=60))
def test_tally_histograms_read_exactly_like_prometheus_client_ones(values: list[float]) -> None:
    tally = Tally()
    ours = tally.histogram("h_seconds", "h", ["k"], STEP_BUCKETS)
    registry = CollectorRegistry()
    registry.register(tally)
    theirs = Histogram("p_seconds", "p", ["k"], buckets=STEP_BUCKETS, registry=registry).labels("v")
    for value in [*values, *STEP_BUCKETS]:  # every bound itself too: buckets are "<="
        ours.labels("v").observe(value)
        theirs.observe(value)
    scrape = Scrape.parse(generate_latest(registry).decode())
    for bound in [*STEP_BUCKETS, float("inf")]:
        le = "+Inf" if bound == float("inf") else repr(bound)
        assert scrape.value("h_seconds_bucket", le=le) == scrape.value("p_seconds_bucket", le=le)
    assert scrape.value("h_seconds_count") == scrape.value("p_seconds_count")
    assert scrape.value("h_seconds_sum") == pytest.approx(scrape.value("p_seconds_sum"))


def test_a_step_is_observed_with_the_time_since_the_last_one() -> None:
    metrics = _metrics()
    order = _order(OrderStatus.SUBMITTED, updated_at=T0 + timedelta(seconds=2))
    metrics.recorded(order, *order.apply(steps.confirmed(), T0 + timedelta(seconds=2.3)))
    scrape = _scrape(metrics)
    labels = {"from_status": "SUBMITTED", "to_status": "CONFIRMED"}
    assert scrape.value("eterna_order_step_duration_seconds_sum", **labels) == pytest.approx(0.3)
    assert scrape.value("eterna_order_step_duration_seconds_bucket", le="0.25", **labels) == 0
    assert scrape.value("eterna_order_step_duration_seconds_bucket", le="0.5", **labels) == 1
    lifetime = {"type": "MARKET", "status": "CONFIRMED"}
    assert scrape.value("eterna_order_duration_seconds_sum", **lifetime) == pytest.approx(2.3)
    assert scrape.value("eterna_order_transitions_total", status="CONFIRMED", type="MARKET") == 1


def test_a_step_stamped_before_the_last_one_counts_as_zero_seconds() -> None:
    metrics = _metrics()
    order = _order(updated_at=T0 + timedelta(seconds=1))  # another host's clock ran ahead
    step = steps.retried("VenueUnavailableError: down", FailureKind.VENUE_UNAVAILABLE)
    metrics.recorded(order, *order.apply(step, T0))
    scrape = _scrape(metrics)
    labels = {"from_status": "PENDING", "to_status": "PENDING"}
    assert scrape.value("eterna_order_step_duration_seconds_sum", **labels) == 0
    assert scrape.value("eterna_order_retries_total", reason="VenueUnavailableError") == 1


async def test_a_step_refused_by_its_guard_is_not_counted() -> None:
    metrics = _metrics()
    store = MemoryOrderStore(observer=metrics)
    command = PlaceOrder("alice", OrderType.MARKET, SOL, USDC, Decimal(1))
    (placed,) = await store.place([command], T0)
    await take_step(store, placed.order, steps.routed(), owner=None, now=T0, lease_until=T0)
    counted = _scrape(metrics).total("eterna_order_transitions_total")
    with pytest.raises(LeaseLostError):  # a stale writer: the order moved on
        await take_step(store, placed.order, steps.cancelled(), owner=None, now=T0, lease_until=T0)
    assert _scrape(metrics).total("eterna_order_transitions_total") == counted


async def test_only_new_placements_are_counted() -> None:
    metrics = _metrics()
    store = MemoryOrderStore(observer=metrics)
    command = PlaceOrder("alice", OrderType.MARKET, SOL, USDC, Decimal(1), client_order_id="k")
    await store.place([command, command], T0)  # the second one repeats the first
    scrape = _scrape(metrics)
    assert scrape.value("eterna_orders_placed_total", type="MARKET") == 1
    assert scrape.value("eterna_order_transitions_total", type="MARKET", status="PENDING") == 1


async def test_orders_are_counted_again_only_after_their_ttl() -> None:
    calls = 0

    async def count() -> dict[tuple[OrderType, OrderStatus], int]:
        nonlocal calls
        calls += 1
        return {(OrderType.LIMIT, OrderStatus.WAITING): 7}

    metrics = _metrics(count_orders=count, orders_ttl_seconds=60)
    await metrics.refresh()
    await metrics.refresh()
    assert calls == 1
    scrape = _scrape(metrics)
    assert scrape.value("eterna_orders", type="LIMIT", status="WAITING") == 7
    assert scrape.value("eterna_orders", type="MARKET", status="PENDING") == 0


async def test_a_failing_source_is_reported_down_and_its_figures_dropped() -> None:
    healthy = True

    async def count() -> dict[tuple[OrderType, OrderStatus], int]:
        if not healthy:
            raise OSError("database down")
        return {(OrderType.MARKET, OrderStatus.CONFIRMED): 3}

    async def depth() -> QueueDepth:
        if not healthy:
            raise OSError("redis down")
        return QueueDepth(lag=4, pending=2)

    metrics = _metrics(count_orders=count, queue_depth=depth, orders_ttl_seconds=0)
    await metrics.refresh()
    up = _scrape(metrics)
    assert up.value("eterna_scrape_source_up", source="database") == 1
    assert up.value("eterna_queue_lag_messages") == 4
    assert up.value("eterna_queue_pending_messages") == 2

    healthy = False
    await metrics.refresh()
    down = _scrape(metrics)
    assert down.value("eterna_scrape_source_up", source="database") == 0
    assert down.value("eterna_scrape_source_up", source="queue") == 0
    assert down.matching("eterna_orders") == []  # no figure rather than a stale one
