"""The trigger watcher and the pre-trade checks, over in-memory ports."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from eterna.application.events.hub import EventHub
from eterna.application.ports import QueuedOrder
from eterna.application.triggers.pretrade import Go, PreTrade, Rest
from eterna.application.triggers.watcher import TriggerWatcher, WatcherConfig
from eterna.application.twap import TwapScheduler
from eterna.domain import steps
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, TwapPlan
from eterna.domain.tokens import SOL, USDC, Token
from eterna.domain.triggers import MarketUpdate, PoolState, limit_floor, liquidity_in
from eterna.routing.router import Router
from eterna.routing.venues import PoolQuote, VenueInfo
from models.memory import MemoryOrderStore
from tasks.intake import LanesIntake
from tasks.lanes import MemoryLanes

pytestmark = pytest.mark.anyio

NEW = Token("9" * 32, None, 0)
LAUNCHED = Token(NEW.mint, "NEW", 6)


def now() -> datetime:
    return datetime.now(UTC)


class Venue:
    """One pool per pair at a settable price (tokenOut per tokenIn), no fee, no impact."""

    def __init__(self) -> None:
        self.prices: dict[tuple[str, str], Fraction] = {}

    @property
    def name(self) -> str:
        return "fake"

    async def info(self) -> VenueInfo:
        return VenueInfo("fake", "amm", len(self.prices))

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        price = self.prices.get((token_in.mint, token_out.mint))
        if price is None:
            return []
        scale = price * 10**token_out.decimals / 10**token_in.decimals
        return [
            PoolQuote(
                "fake", f"pool-{token_out.mint[:4]}", token_in, token_out, a, int(a * scale), 0, 0
            )
            for a in amounts
        ]


class Market:
    """Pools by mint and a feed of updates pushed by the test."""

    def __init__(self) -> None:
        self.pools: list[PoolState] = []
        self.feed: asyncio.Queue[MarketUpdate] = asyncio.Queue()
        self.seq = 0

    async def pools_of(self, mint: str) -> list[PoolState]:
        return [p for p in self.pools if mint in p.mints]

    async def cursor(self) -> int:
        return self.seq

    async def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        while True:
            yield await self.feed.get()

    def push(self, pool: PoolState, kind: str = "changed") -> None:
        self.seq += 1
        if kind == "created":
            self.pools.append(pool)
        self.feed.put_nowait(MarketUpdate(self.seq, kind, pool))


class Repo(MemoryOrderStore):
    """The in-memory order store, with the shortcuts these tests start from.

    ``written`` lists what was written after the orders were put in place; ``before_apply``
    runs once just before the next write reaches the store (another writer landing first).
    """

    def __init__(self) -> None:
        super().__init__()
        self.written: list[OrderEvent] = []
        self.orders: dict[uuid.UUID, Order] = {}
        self.before_apply: Callable[[Order, OrderEvent], None] | None = None

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        if self.before_apply is not None:
            hook, self.before_apply = self.before_apply, None
            hook(before, event)
        await super().record(before, after, event, owner=owner, lease_until=lease_until)
        self._written(after, event)

    def _written(self, order: Order, event: OrderEvent) -> None:
        self.orders[order.id] = order
        self.written.append(event)

    def write(self, order: Order, step: steps.Step, at: datetime) -> None:
        """Write a step at once, as another writer that got there first."""
        after, event = order.apply(step, at)
        self.put(after, [*self.history[order.id], event])
        self._written(after, event)

    def rest(self, **fields: object) -> Order:
        at = now()
        values: dict[str, object] = {
            "id": uuid.uuid4(),
            "user_id": "alice",
            "type": OrderType.LIMIT,
            "status": OrderStatus.WAITING,
            "token_in": SOL,
            "token_out": USDC,
            "amount_in": Decimal(1),
            "slippage_bps": 50,
            "created_at": at,
            "updated_at": at,
            "last_seq": 2,
        } | fields
        order = Order(**values)  # type: ignore[arg-type]
        history = [
            OrderEvent(order.id, order.user_id, seq, order.status, at, 0, "as it stands")
            for seq in range(1, order.last_seq + 1)
        ]
        self.put(order, history)
        self.orders[order.id] = order
        return order

    @property
    def history(self) -> dict[uuid.UUID, list[OrderEvent]]:
        return self._events

    def fires(self) -> list[OrderEvent]:
        return [e for e in self.written if e.status is OrderStatus.PENDING]


class Recorder:
    """The publisher and the queue: what the watcher published and queued."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.queued: list[uuid.UUID] = []

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        for event in events:
            self.hub.dispatch(event)

    async def enqueue(self, orders: Sequence[QueuedOrder]) -> None:
        self.queued.extend(o.order_id for o in orders)


class World:
    def __init__(self) -> None:
        self.venue = Venue()
        self.market = Market()
        self.repo = Repo()
        self.hub = EventHub()
        self.out = Recorder(self.hub)
        self.router = Router([self.venue])
        self.intake = LanesIntake(MemoryLanes())

    def watcher(self, resync_seconds: float = 60) -> TriggerWatcher:
        return TriggerWatcher(
            self.repo,
            self.router,
            self.market,
            WatcherConfig(resync_seconds=resync_seconds),
            hub=self.hub,
            publisher=self.out,
            queue=self.out,
            clock=now,
            intake=self.intake,
        )

    def price(self, value: str) -> None:
        self.venue.prices[(SOL.mint, USDC.mint)] = Fraction(value)

    def move(self) -> None:
        self.market.push(PoolState("fake", "pool-sol", SOL, USDC, 10**12, 10**12))


@contextlib.asynccontextmanager
async def running(*watchers: TriggerWatcher) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(w.run()) for w in watchers]
    try:
        for w in watchers:
            await asyncio.wait_for(w.loaded.wait(), 2)
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def quiet() -> None:
    await asyncio.sleep(0.05)


@pytest.fixture
def world() -> World:
    return World()


# -- the first look at new orders -----------------------------------------------------------


def placed(world: World, **fields: object) -> Order:
    return world.repo.rest(status=OrderStatus.PENDING, last_seq=1, **fields)


async def test_a_new_limit_that_does_not_hold_rests_without_a_worker(world: World) -> None:
    world.price("100")
    order = placed(world, limit_price=Decimal(150))
    async with running(world.watcher()):
        await world.intake.submit([QueuedOrder(order.id, order.user_id)])
        await until(lambda: world.repo.orders[order.id].status is OrderStatus.WAITING)
        (rested,) = world.repo.written
        assert rested.seq == 2
        assert "below the limit 150" in rested.message
        assert world.out.queued == []
        world.price("150")  # it is in the book: the market crossing it fires it
        world.move()
        await until(lambda: world.out.queued == [order.id])


async def test_a_new_limit_that_holds_goes_to_a_worker_untouched(world: World) -> None:
    world.price("160")
    order = placed(world, limit_price=Decimal(150))
    async with running(world.watcher()):
        await world.intake.submit([QueuedOrder(order.id, order.user_id)])
        await until(lambda: world.out.queued == [order.id])
    assert world.repo.written == []
    assert world.repo.orders[order.id].status is OrderStatus.PENDING


async def test_a_new_order_past_its_expiry_expires_and_a_cancelled_one_is_left(
    world: World,
) -> None:
    world.price("100")
    late = placed(world, limit_price=Decimal(150), expires_at=now() - timedelta(seconds=1))
    gone = placed(world, limit_price=Decimal(150))
    world.repo.write(gone, steps.Cancelled(message="cancelled by its owner"), now())
    async with running(world.watcher()):
        await world.intake.submit([QueuedOrder(o.id, o.user_id) for o in (late, gone)])
        await until(lambda: world.repo.orders[late.id].status is OrderStatus.EXPIRED)
        await quiet()
    assert [e.status for e in world.repo.written] == [OrderStatus.CANCELLED, OrderStatus.EXPIRED]
    assert world.out.queued == []


# -- limits ----------------------------------------------------------------------------------


async def test_price_update_fires_exactly_the_limits_at_or_below_the_price(world: World) -> None:
    world.price("100")
    low, at, high = (world.repo.rest(limit_price=Decimal(p)) for p in ("140", "155", "160"))
    async with running(world.watcher()):
        await quiet()
        assert world.repo.fires() == []
        world.price("155")
        world.move()
        await until(lambda: len(world.out.queued) == 2)
        await quiet()

    assert sorted(world.out.queued) == sorted([low.id, at.id])
    assert world.repo.orders[high.id].status is OrderStatus.WAITING
    fired = {e.order_id: e for e in world.repo.fires()}
    assert fired[at.id].details["price"] == "155"
    assert fired[at.id].details["trigger"] == "limit"
    assert fired[at.id].details["pool"] == "pool-sol"
    assert "limit 155 reached" in fired[at.id].message


async def test_limit_whose_whole_amount_pays_less_than_its_limit_keeps_resting(
    world: World,
) -> None:
    class Deep(Venue):
        async def quote_amounts(
            self, token_in: Token, token_out: Token, amounts: Sequence[int]
        ) -> list[PoolQuote]:
            # The average price falls with size: 146.25 per SOL for 1 SOL, 112.5 for 10.
            quotes = await super().quote_amounts(token_in, token_out, amounts)
            depth = 40 * 10**9
            return [
                q._replace(amount_out=q.amount_out * (depth - q.amount_in) // depth) for q in quotes
            ]

    world.venue = Deep()
    world.router = Router([world.venue])
    world.price("150")
    small = world.repo.rest(limit_price=Decimal(140))
    large = world.repo.rest(limit_price=Decimal(140), amount_in=Decimal(10))
    async with running(world.watcher()):
        await until(lambda: world.out.queued == [small.id])
        await quiet()
    assert world.repo.orders[large.id].status is OrderStatus.WAITING


async def test_candidates_within_the_largest_amounts_price_fire_without_a_route_each(
    world: World,
) -> None:
    calls = 0
    quote = world.venue.quote_amounts

    async def counted(token_in: Token, token_out: Token, amounts: Sequence[int]) -> list[PoolQuote]:
        nonlocal calls
        calls += 1
        return await quote(token_in, token_out, amounts)

    world.venue.quote_amounts = counted  # type: ignore[method-assign]
    world.price("100")
    orders = [world.repo.rest(limit_price=Decimal(140), amount_in=Decimal(n)) for n in range(1, 11)]
    async with running(world.watcher()):
        await quiet()
        calls = 0
        world.price("150")
        world.move()
        await until(lambda: len(world.out.queued) == 10)
    assert sorted(world.out.queued) == sorted(o.id for o in orders)
    assert calls == 2  # the smallest amount, then the largest: no route per order
    assert all("pays at least 150" in e.message for e in world.repo.fires())


async def test_orders_crossed_while_no_watcher_ran_fire_when_one_starts(world: World) -> None:
    world.price("155")
    order = world.repo.rest(limit_price=Decimal(150))
    async with running(world.watcher()):
        await until(lambda: world.out.queued == [order.id])
    assert "the watcher started" in world.repo.fires()[0].message


async def test_order_that_starts_resting_is_checked_at_once_and_one_that_leaves_is_forgotten(
    world: World,
) -> None:
    world.price("155")
    watcher = world.watcher()
    async with running(watcher):
        cancelled = world.repo.rest(limit_price=Decimal(200))
        rested = world.repo.rest(limit_price=Decimal(150))
        for order in (cancelled, rested):
            world.hub.dispatch(resting_event(order))
        await until(lambda: world.out.queued == [rested.id])
        assert cancelled.id in watcher.book
        world.repo.write(world.repo.orders[cancelled.id], steps.Cancelled(message="bye"), now())
        world.hub.dispatch(world.repo.written[-1])
        await until(lambda: cancelled.id not in watcher.book)


async def test_watcher_hears_orders_resting_and_leaving_but_not_market_steps(
    world: World,
) -> None:
    held = world.repo.rest(limit_price=Decimal(200))
    stranger = uuid.uuid4()
    hub = world.hub
    async with running(world.watcher()):
        # What the event stream's dispatcher asks before it decodes an entry.
        assert hub.wants(stranger, "bob", OrderStatus.WAITING)
        assert hub.wants(stranger, "bob", OrderStatus.CANCELLED)  # may be read right now
        assert hub.wants(held.id, "alice", OrderStatus.PENDING)
        for status in (OrderStatus.PENDING, OrderStatus.ROUTING, OrderStatus.CONFIRMED):
            assert not hub.wants(stranger, "bob", status)
    assert not hub.wants(stranger, "bob", OrderStatus.WAITING)


def test_events_that_may_concern_a_watcher_are_those_it_can_hear_of_any_order() -> None:
    order_id = uuid.uuid4()
    concern = {
        (status, seq)
        for status in OrderStatus
        for seq in (1, 3)
        if TriggerWatcher.may_concern(OrderEvent(order_id, "u", seq, status, now(), 0, "m"))
    }
    assert concern == {
        (OrderStatus.WAITING, 1),
        (OrderStatus.WAITING, 3),
        (OrderStatus.CANCELLED, 1),
        (OrderStatus.CANCELLED, 3),
        (OrderStatus.EXPIRED, 1),
        (OrderStatus.EXPIRED, 3),
        (OrderStatus.PENDING, 3),  # fired (or retried): seq 1 is every order's placement
    }


def resting_event(order: Order) -> OrderEvent:
    return OrderEvent(order.id, order.user_id, order.last_seq, order.status, now(), 0, "resting")


async def test_order_whose_resting_event_was_lost_is_taken_in_by_the_catch_up(
    world: World,
) -> None:
    world.price("155")
    async with running(world.watcher(resync_seconds=0.1)):
        order = world.repo.rest(limit_price=Decimal(150))  # no event reaches the hub
        await until(lambda: world.out.queued == [order.id])
    assert "the watcher caught up" in world.repo.fires()[0].message


async def test_updates_moving_the_price_against_the_pair_are_not_checked(world: World) -> None:
    world.price("100")
    order = world.repo.rest(limit_price=Decimal(150))
    pool = PoolState("fake", "pool-sol", SOL, USDC, 1, 1, price=Fraction(100, 1000))
    async with running(world.watcher()):
        world.market.push(pool)
        await quiet()
        world.price("155")  # the venue pays more, but the pool's price fell: no check
        world.market.push(replace(pool, price=Fraction(99, 1000)))
        await quiet()
        assert world.out.queued == []
        world.market.push(replace(pool, price=Fraction(101, 1000)))
        await until(lambda: world.out.queued == [order.id])


def test_pool_helps_a_pair_only_through_its_routes_and_when_its_price_moves_their_way() -> None:
    hubs = frozenset({SOL.mint, USDC.mint})
    jup = Token("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6)
    sol_usdc = PoolState("v", "p", SOL, USDC, 1, 1, price=Fraction(150))
    cheaper = Fraction(149)
    assert sol_usdc.a_to_b_for((SOL.mint, USDC.mint), hubs) is True
    assert sol_usdc.a_to_b_for((USDC.mint, SOL.mint), hubs) is False
    assert sol_usdc.a_to_b_for((SOL.mint, jup.mint), hubs) is True  # first hop via USDC
    assert sol_usdc.a_to_b_for((jup.mint, USDC.mint), hubs) is True  # second hop via SOL
    assert sol_usdc.a_to_b_for((jup.mint, NEW.mint), hubs) is None
    assert not sol_usdc.may_help((SOL.mint, USDC.mint), hubs, before=Fraction(151))
    assert sol_usdc.may_help((SOL.mint, USDC.mint), hubs, before=cheaper)
    assert sol_usdc.may_help((USDC.mint, SOL.mint), hubs, before=Fraction(151))
    assert sol_usdc.may_help((SOL.mint, USDC.mint), hubs, before=None)


# -- snipers ---------------------------------------------------------------------------------


def launch(world: World, reserve_sol: int, address: str) -> None:
    world.venue.prices[(SOL.mint, NEW.mint)] = Fraction(1000)
    pool = PoolState("fake", address, LAUNCHED, SOL, 10**15, reserve_sol * 10**9)
    world.market.push(pool, "created")


async def test_sniper_fires_when_its_mint_launches_with_enough_liquidity_and_not_before(
    world: World,
) -> None:
    sniper = world.repo.rest(type=OrderType.SNIPER, token_out=NEW, min_liquidity=Decimal(50))
    async with running(world.watcher()):
        launch(world, 10, "shallow")
        await quiet()
        assert world.out.queued == []
        launch(world, 45, "deeper")  # 10 + 45 SOL across the pools of the pair
        await until(lambda: world.out.queued == [sniper.id])

    fired = world.repo.fires()[0]
    assert fired.details == {
        "trigger": "sniper",
        "liquidity": "55",
        "pool": "deeper",
        "venue": "fake",
        "launched": True,
        "updateSeq": 2,
    }
    assert world.repo.orders[sniper.id].token_out == LAUNCHED
    assert "NEW is tradeable: fake pool deeper launched" in fired.message


async def test_sniper_whose_route_moves_the_price_too_much_keeps_resting(world: World) -> None:
    class Shallow(Venue):
        async def quote_amounts(
            self, token_in: Token, token_out: Token, amounts: Sequence[int]
        ) -> list[PoolQuote]:
            quotes = await super().quote_amounts(token_in, token_out, amounts)
            return [q._replace(price_impact_bps=800) for q in quotes]

    world.venue = Shallow()
    world.router = Router([world.venue])
    sniper = world.repo.rest(type=OrderType.SNIPER, token_out=NEW, max_price_impact_bps=500)
    async with running(world.watcher()):
        launch(world, 100, "pool")
        await quiet()
    assert world.out.queued == []
    assert world.repo.orders[sniper.id].status is OrderStatus.WAITING


# -- expiry and races ------------------------------------------------------------------------


async def test_resting_order_expires_at_its_expiry_without_any_market_update(
    world: World,
) -> None:
    world.price("100")
    order = world.repo.rest(limit_price=Decimal(150), expires_at=now() + timedelta(seconds=0.1))
    async with running(world.watcher()):
        await until(lambda: world.repo.orders[order.id].status is OrderStatus.EXPIRED)
    assert world.out.queued == []
    assert [e.status for e in world.repo.written] == [OrderStatus.EXPIRED]


async def test_cancel_landing_between_check_and_fire_wins_and_nothing_is_queued(
    world: World,
) -> None:
    world.price("100")
    order = world.repo.rest(limit_price=Decimal(150))

    def cancel_first(target: Order, event: OrderEvent) -> None:
        assert event.status is OrderStatus.PENDING  # the watcher's FIRE
        world.repo.write(world.repo.orders[target.id], steps.Cancelled(message="cancelled"), now())

    world.repo.before_apply = cancel_first
    watcher = world.watcher()
    async with running(watcher):
        world.price("155")
        world.move()
        await until(lambda: world.repo.before_apply is None)
        await quiet()

    assert world.out.queued == []
    assert [e.status for e in world.repo.written] == [OrderStatus.CANCELLED]
    assert order.id not in watcher.book


async def test_two_watchers_overlapping_fire_each_order_once(world: World) -> None:
    world.price("155")
    orders = [world.repo.rest(limit_price=Decimal(150)) for _ in range(20)]
    async with running(world.watcher(), world.watcher()):
        await until(lambda: len(world.out.queued) >= 20)
        await quiet()
    assert sorted(world.out.queued) == sorted(o.id for o in orders)
    assert len(world.repo.fires()) == 20


# -- conditions ------------------------------------------------------------------------------


def test_limit_floor_rounds_up_to_a_base_unit_of_token_out() -> None:
    assert limit_floor(Decimal("1.5"), Decimal("0.3333333"), USDC) == Decimal("0.5")
    assert limit_floor(Decimal(2), Decimal("150.25"), USDC) == Decimal("300.5")


def test_liquidity_counts_only_pools_pairing_token_in_with_token_out() -> None:
    direct = PoolState("v", "a", LAUNCHED, SOL, 10**12, 40 * 10**9)
    other_side = PoolState("v", "b", SOL, LAUNCHED, 2 * 10**9, 10**12)
    via_usdc = PoolState("v", "c", LAUNCHED, USDC, 10**12, 10**12)
    assert liquidity_in([direct, other_side, via_usdc], SOL.mint, NEW.mint) == Decimal(42)


async def test_pretrade_raises_min_amount_out_to_the_limit_floor_or_rests_below_it(
    world: World,
) -> None:
    world.price("150")
    pretrade = PreTrade(world.router, world.market)
    tight = world.repo.rest(status=OrderStatus.PENDING, limit_price=Decimal("149.9"))
    loose = world.repo.rest(status=OrderStatus.PENDING, limit_price=Decimal(100))
    above = world.repo.rest(status=OrderStatus.PENDING, limit_price=Decimal("150.01"))

    tight_verdict = await pretrade.check(tight, now())
    loose_verdict = await pretrade.check(loose, now())
    above_verdict = await pretrade.check(above, now())

    assert isinstance(tight_verdict, Go)
    assert tight_verdict.decision.route.min_amount_out == Decimal("149.9")
    assert isinstance(loose_verdict, Go)
    assert loose_verdict.decision.route.min_amount_out == Decimal("149.25")  # 50 bps slippage
    assert isinstance(above_verdict, Rest)
    assert "below the limit 150.01" in above_verdict.message


# -- TWAP orders ----------------------------------------------------------------------------


async def test_a_working_twap_runs_its_scheduler_in_the_watcher_and_never_enters_the_book(
    world: World,
) -> None:
    world.price("150")
    twap = world.repo.rest(
        type=OrderType.TWAP,
        twap=TwapPlan(slices=2, duration_seconds=3600),
        twap_next_at=now() - timedelta(seconds=1),  # its first slice is due
    )
    scheduler = TwapScheduler(world.repo, publisher=world.out, queue=world.out, clock=now)
    watcher_with_twap = TriggerWatcher(
        world.repo,
        world.router,
        world.market,
        WatcherConfig(),
        hub=world.hub,
        publisher=world.out,
        queue=world.out,
        clock=now,
        twap=scheduler,
    )
    async with running(watcher_with_twap):
        await until(lambda: len(world.out.queued) == 1)  # slice 0, queued for a worker
        world.move()  # a market update concerns no TWAP
        await quiet()
        assert twap.id not in watcher_with_twap.book
    (child,) = (await world.repo.children_of([twap.id]))[twap.id]
    assert world.out.queued == [child.id]
    assert (child.type, child.slice_index, child.amount_in) == (OrderType.MARKET, 0, Decimal("0.5"))
    parent = await world.repo.get(twap.id)
    assert parent is not None
    assert (parent.status, parent.twap_next_slice) == (OrderStatus.WAITING, 1)
