"""The order service on the in-memory store: placing, owning, cancelling, caps and budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from eterna.application.events.hub import EventHub
from eterna.application.ports import QueuedOrder, take_step
from eterna.application.ratelimit import InMemoryRateLimiter, RateLimit, RateLimitedError
from eterna.application.service import OrderRequest, OrderService, ServiceLimits
from eterna.domain import steps
from eterna.domain.errors import RejectedError, RejectionCode
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, TwapPlan
from eterna.domain.tokens import SOL, USDC, TokenRegistry
from eterna.routing.router import Router
from models.memory import MemoryOrderStore
from tests.support.steps import route

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)
MARKET = OrderRequest(OrderType.MARKET, "SOL", "USDC", Decimal("1.5"))
LIMIT = replace(MARKET, type=OrderType.LIMIT, limit_price=Decimal(200))


@dataclass
class Outbox:
    """The publisher, the workers' queue and the watcher's intake: what went where."""

    published: list[OrderEvent] = field(default_factory=list)
    queued: list[QueuedOrder] = field(default_factory=list)
    taken_in: list[QueuedOrder] = field(default_factory=list)

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        self.published.extend(events)

    async def enqueue(self, orders: Sequence[QueuedOrder]) -> None:
        self.queued.extend(orders)

    async def submit(self, orders: Sequence[QueuedOrder]) -> None:
        self.taken_in.extend(orders)

    async def take(self, count: int) -> list[QueuedOrder]:
        return []

    async def wait(self, timeout_seconds: float) -> None:
        return None


@dataclass
class World:
    store: MemoryOrderStore = field(default_factory=MemoryOrderStore)
    out: Outbox = field(default_factory=Outbox)

    def service(self, limits: ServiceLimits | None = None, **kwargs: object) -> OrderService:
        return OrderService(
            self.store,
            self.out,
            tokens=TokenRegistry([SOL, USDC]),
            router=Router([]),
            hub=EventHub(),
            publisher=self.out,
            limits=limits or ServiceLimits(max_notional_usd=Decimal(0)),
            clock=lambda: T0,
            intake=self.out,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def world() -> World:
    return World()


def placed(results: Sequence[Order | RejectedError]) -> list[Order]:
    orders = [r for r in results if isinstance(r, Order)]
    assert len(orders) == len(results), results
    return orders


async def test_placing_stores_publishes_seq_1_and_sends_each_order_where_it_waits(
    world: World,
) -> None:
    service = world.service()
    market, limit = placed(await service.place("alice", [MARKET, LIMIT]))
    assert await service.settle(1)
    assert [(e.order_id, e.seq, e.status) for e in world.out.published] == [
        (market.id, 1, OrderStatus.PENDING),
        (limit.id, 1, OrderStatus.PENDING),
    ]
    assert world.out.queued == [QueuedOrder(market.id, "alice")]
    assert world.out.taken_in == [QueuedOrder(limit.id, "alice")]
    assert limit.expires_at == T0 + timedelta(days=30)  # no expiresAt: the horizon


async def test_a_bad_order_is_refused_alone_with_its_field(world: World) -> None:
    service = world.service()
    bad = replace(MARKET, amount_in=Decimal("0.0000000001"))  # more decimals than SOL has
    good, refused = await service.place("alice", [MARKET, bad])
    assert isinstance(good, Order)
    assert isinstance(refused, RejectedError)
    assert (refused.code, refused.field) == (RejectionCode.INVALID_AMOUNT, "amountIn")
    assert len(await world.store.events(good.id)) == 1


async def test_a_client_order_id_returns_the_first_order_and_announces_it_once(
    world: World,
) -> None:
    service = world.service()
    keyed = replace(MARKET, client_order_id="bot-1")
    (first,) = placed(await service.place("alice", [keyed]))
    (again,) = placed(await service.place("alice", [keyed]))
    assert again.id == first.id
    assert await service.settle(1)
    assert world.out.queued == [QueuedOrder(first.id, "alice")]


async def test_another_users_order_does_not_exist_for_you(world: World) -> None:
    service = world.service()
    (order,) = placed(await service.place("alice", [MARKET]))
    assert await service.get("bob", str(order.id)) is None
    assert await service.get("alice", str(order.id)) is not None
    with pytest.raises(RejectedError) as refused:
        await service.cancel("bob", str(order.id))
    assert refused.value.code is RejectionCode.NOT_FOUND
    page = await service.list_orders("bob", first=10, after=None, status=None, order_type=None)
    assert page.orders == []


async def test_a_pending_order_is_cancelled_and_the_cancel_published(world: World) -> None:
    service = world.service()
    (order,) = placed(await service.place("alice", [MARKET]))
    cancelled = await service.cancel("alice", str(order.id))
    assert cancelled.status is OrderStatus.CANCELLED
    assert world.out.published[-1].status is OrderStatus.CANCELLED


async def test_an_order_that_moved_on_can_no_longer_be_cancelled(world: World) -> None:
    service = world.service()
    (order,) = placed(await service.place("alice", [MARKET]))
    await take_step(world.store, order, _routed(), owner=None, now=T0, lease_until=T0)
    with pytest.raises(RejectedError) as refused:
        await service.cancel("alice", str(order.id))
    assert refused.value.code is RejectionCode.NOT_CANCELLABLE


async def test_a_cancel_racing_a_worker_reads_again_and_tells_the_truth(world: World) -> None:
    service = world.service()
    (order,) = placed(await service.place("alice", [MARKET]))
    store = world.store
    record = store.record
    raced = False

    async def worker_first(*args: object, **kwargs: object) -> None:
        nonlocal raced
        if not raced:  # the worker's ROUTE lands between the cancel's read and its write
            raced = True
            current = await store.get(order.id)
            assert current is not None
            await take_step(store, current, _routed(), owner=None, now=T0, lease_until=T0)
        await record(*args, **kwargs)  # type: ignore[arg-type]

    store.record = worker_first  # type: ignore[method-assign]
    with pytest.raises(RejectedError) as refused:
        await service.cancel("alice", str(order.id))
    assert refused.value.code is RejectionCode.NOT_CANCELLABLE
    assert [e.status for e in await store.events(order.id)] == [
        OrderStatus.PENDING,
        OrderStatus.ROUTING,
    ]


async def test_each_order_of_a_batch_spends_the_budget_and_caps_refuse_in_order(
    world: World,
) -> None:
    service = world.service(
        ServiceLimits(max_notional_usd=Decimal(0), max_in_flight=3),
        order_budget=InMemoryRateLimiter(RateLimit(5), clock=lambda: 0.0),
    )
    results = await service.place("alice", [MARKET] * 4)
    assert [isinstance(r, Order) for r in results] == [True, True, True, False]
    assert isinstance(results[3], RejectedError)
    assert results[3].code is RejectionCode.TOO_MANY_ORDERS_IN_FLIGHT
    refused = await service.place("alice", [MARKET] * 2)  # 4 of 5 units spent
    assert all(isinstance(r, RateLimitedError) for r in refused)
    (one,) = await service.place("alice", [MARKET])
    assert isinstance(one, RejectedError)
    assert one.code is RejectionCode.TOO_MANY_ORDERS_IN_FLIGHT  # budget left, cap full


def _routed() -> steps.Routed:
    return steps.Routed(message="routed", attempt=1, route=route())


@pytest.mark.parametrize(
    "expires_at",
    [T0 + timedelta(days=31), datetime(2030, 1, 2)],  # noqa: DTZ001 - naive on purpose
    ids=["beyond the horizon", "without a zone"],
)
async def test_an_expiry_refusal_suggests_a_time_that_would_be_accepted(
    world: World, expires_at: datetime
) -> None:
    service = world.service()
    (refused,) = await service.place("alice", [replace(LIMIT, expires_at=expires_at)])
    assert isinstance(refused, RejectedError)
    assert (refused.code, refused.field) == (RejectionCode.INVALID_INPUT, "expiresAt")
    suggested = datetime.fromisoformat(refused.message.rpartition("e.g. ")[2])
    (accepted,) = placed(await service.place("alice", [replace(LIMIT, expires_at=suggested)]))
    assert accepted.expires_at == suggested


async def test_a_twap_is_stored_with_its_plan_and_sent_to_neither_queue(world: World) -> None:
    twap = replace(MARKET, type=OrderType.TWAP, slices=3, duration_seconds=60, jitter_bps=500)
    service = world.service()
    (order,) = placed(await service.place("alice", [twap]))
    assert await service.settle(1)
    assert order.twap == TwapPlan(slices=3, duration_seconds=60, jitter_bps=500)
    assert (order.twap_next_slice, order.twap_next_at, order.expires_at) == (0, T0, None)
    assert [e.order_id for e in world.out.published] == [order.id]
    assert world.out.queued == world.out.taken_in == []  # the TWAP scheduler reads the store


async def test_twap_fields_are_checked_and_named(world: World) -> None:
    service = world.service()
    twap = replace(MARKET, type=OrderType.TWAP, slices=3, duration_seconds=60)
    cases = [
        (replace(twap, slices=None), "slices"),
        (replace(twap, duration_seconds=604_801), "durationSeconds"),
        (replace(twap, jitter_bps=-1), "jitterBps"),
        (replace(MARKET, jitter_bps=10), "jitterBps"),
        (replace(twap, amount_in=Decimal("0.000000002")), "amountIn"),
        (replace(LIMIT, slices=2), "slices"),
    ]
    results = await service.place("alice", [c for c, _ in cases])
    for (_, field_name), result in zip(cases, results, strict=True):
        assert isinstance(result, RejectedError), result
        assert result.field == field_name
