"""The execution engine on the in-memory store: retries, backoff, resume, leases, draining.

The chain is a scripted gateway: each status check answers the next scripted state of the
transaction it is asked about, and every call is recorded, so a test sees exactly what was
built and sent.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from eterna.application.engine import EngineConfig, ExecutionEngine
from eterna.application.ports import take_step
from eterna.domain import steps
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder, TwapPlan
from eterna.domain.tokens import SOL, USDC, Token
from eterna.routing.router import Router
from eterna.routing.venues import (
    PoolQuote,
    SwapRequest,
    Transaction,
    TxState,
    TxStatus,
    VenueInfo,
)
from models.memory import MemoryOrderStore

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, tzinfo=UTC)
LEASE = 30.0


class Venue:
    """One pool per pair at 150 USDC per SOL, no fee; it can be made to fail."""

    def __init__(self) -> None:
        self.down = 0  # calls left that fail as unreachable

    @property
    def name(self) -> str:
        return "fake"

    async def info(self) -> VenueInfo:
        return VenueInfo("fake", "amm", 1)

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        if self.down:
            self.down -= 1
            raise VenueUnavailableError("fake venue down")
        price = Fraction(150) if token_in == SOL else Fraction(1, 150)
        scale = price * 10**token_out.decimals / 10**token_in.decimals
        return [
            PoolQuote("fake", "pool-1", token_in, token_out, a, int(a * scale), 0, 0)
            for a in amounts
        ]


@dataclass
class Gateway:
    """A chain that answers each status check with the next state scripted for it."""

    script: list[TxStatus] = field(default_factory=list)
    built: list[Transaction] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    on_build: Callable[[], Awaitable[None]] | None = None

    async def build(self, request: SwapRequest) -> Transaction:
        if self.on_build is not None:
            await self.on_build()
        n = len(self.built)
        # A fresh blockhash for every build: a rebuilt transaction has a new signature.
        blockhash = uuid.uuid4().hex
        signature = hashlib.sha256(f"{request.memo}/{blockhash}".encode()).hexdigest()
        tx = Transaction(
            signature=signature,
            memo=request.memo,
            payer=request.payer,
            mint_in=request.mint_in,
            mint_out=request.mint_out,
            swaps=request.swaps,
            min_amount_out=request.min_amount_out,
            recent_blockhash=blockhash,
            last_valid_slot=150 + n,
            wrap_sol=request.mint_in == SOL.mint,
            unwrap_sol=request.mint_out == SOL.mint,
        )
        self.built.append(tx)
        return tx

    async def send(self, tx: Transaction) -> None:
        self.sent.append(tx.signature)

    async def status(self, tx: Transaction) -> TxStatus:
        if not self.script:
            return TxStatus(TxState.UNKNOWN)
        return self.script.pop(0)


def landed(amount_out: int = 150_000_000) -> TxStatus:
    return TxStatus(TxState.CONFIRMED, slot=7, amount_out=amount_out)


def slipped() -> TxStatus:
    return TxStatus(
        TxState.FAILED, slot=7, error="SlippageToleranceExceeded", failure=FailureKind.SLIPPAGE
    )


class Published:
    """The publisher: what the engine published, in order."""

    def __init__(self) -> None:
        self.events: list[OrderEvent] = []

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        self.events.extend(events)


@dataclass
class World:
    store: MemoryOrderStore = field(default_factory=MemoryOrderStore)
    venue: Venue = field(default_factory=Venue)
    gateway: Gateway = field(default_factory=Gateway)
    published: Published = field(default_factory=Published)
    slept: list[float] = field(default_factory=list)
    now: datetime = T0

    def engine(self, max_attempts: int = 3, owner: str = "w1") -> ExecutionEngine:
        async def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            self.now += timedelta(seconds=seconds)

        return ExecutionEngine(
            self.store,
            Router([self.venue]),
            self.gateway,
            self.published,
            EngineConfig(lease_seconds=LEASE, max_attempts=max_attempts, confirm_poll_ms=1),
            owner=owner,
            clock=lambda: self.now,
            sleep=sleep,
        )

    async def place(self, kind: OrderType = OrderType.MARKET, **fields: object) -> Order:
        command = PlaceOrder(
            user_id="alice",
            type=kind,
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal(1),
            **fields,  # type: ignore[arg-type]
        )
        (placed,) = await self.store.place([command], self.now)
        return placed.order

    async def statuses(self, order: Order) -> list[OrderStatus]:
        return [e.status for e in await self.store.events(order.id)]


@pytest.fixture
def world() -> World:
    return World()


MARKET_PATH = [
    OrderStatus.PENDING,
    OrderStatus.ROUTING,
    OrderStatus.BUILDING,
    OrderStatus.SUBMITTED,
    OrderStatus.CONFIRMED,
]


async def test_a_market_order_runs_to_confirmed_sending_once(world: World) -> None:
    world.gateway.script = [landed()]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert done.amount_out == Decimal(150)
    assert await world.statuses(order) == MARKET_PATH
    assert world.gateway.sent == [world.gateway.built[0].signature]
    assert [e.seq for e in world.published.events] == [2, 3, 4, 5]


async def test_a_slippage_failure_retries_after_a_backoff_with_a_fresh_quote(world: World) -> None:
    world.gateway.script = [slipped(), landed()]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert (done.status, done.attempts) == (OrderStatus.CONFIRMED, 2)
    events = await world.store.events(order.id)
    retry = next(e for e in events if e.status is OrderStatus.PENDING and e.seq > 1)
    assert (retry.failure, retry.error) == (FailureKind.SLIPPAGE, "SlippageToleranceExceeded")
    assert retry.details["retryInMs"] == round(world.slept[0] * 1000)
    assert 0.125 <= world.slept[0] <= 0.25  # the first backoff: half to all of 250 ms
    assert len(world.gateway.built) == 2  # a new transaction for the new attempt


async def test_backoff_doubles_up_to_its_cap_and_retries_stop_at_the_budget(world: World) -> None:
    world.gateway.script = [slipped()] * 5
    order = await world.place()
    done = await world.engine(max_attempts=3).execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.FAILED
    assert done.failure_reason == "SlippageToleranceExceeded (gave up after 3 attempts)"
    assert 0.125 <= world.slept[0] <= 0.25
    assert 0.25 <= world.slept[1] <= 0.5
    last = (await world.store.events(order.id))[-1]
    assert last.failure is FailureKind.SLIPPAGE


async def test_a_permanent_chain_failure_fails_at_once(world: World) -> None:
    world.gateway.script = [
        TxStatus(
            TxState.FAILED, slot=7, error="InvalidPool: x", failure=FailureKind.TRANSACTION_FAILED
        )
    ]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert (done.status, done.failure_reason) == (OrderStatus.FAILED, "InvalidPool: x")
    assert world.slept == []


async def test_an_unreachable_venue_is_retried(world: World) -> None:
    world.venue.down = 1
    world.gateway.script = [landed()]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    events = await world.store.events(order.id)
    assert events[1].status is OrderStatus.PENDING
    assert events[1].failure is FailureKind.VENUE_UNAVAILABLE


async def test_a_limit_order_that_keeps_failing_on_price_rests_again(world: World) -> None:
    world.gateway.script = [slipped()] * 3
    order = await world.place(OrderType.LIMIT, limit_price=Decimal(100))
    done = await world.engine(max_attempts=3).execute(order.id, "alice")
    assert done is not None
    assert (done.status, done.attempts) == (OrderStatus.WAITING, 0)
    rested = (await world.store.events(order.id))[-1]
    assert rested.failure is FailureKind.SLIPPAGE
    assert rested.details == {"error": "SlippageToleranceExceeded"}


async def test_a_fired_stop_that_keeps_failing_on_price_fails_and_never_rests(
    world: World,
) -> None:
    world.gateway.script = [slipped()] * 3
    # Placed beyond its trigger: it fires at once, then trades as a market order.
    order = await world.place(OrderType.STOP_LOSS, trigger_price=Decimal(10**6))
    done = await world.engine(max_attempts=3).execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.FAILED
    assert OrderStatus.WAITING not in await world.statuses(order)
    assert (await world.store.events(order.id))[-1].failure is FailureKind.SLIPPAGE


async def _at(world: World, order: Order, *path: steps.Step) -> Order:
    for step in path:
        order, _ = await take_step(
            world.store, order, step, owner=None, now=world.now, lease_until=world.now
        )
    return order


async def _built_elsewhere(world: World) -> tuple[Order, Transaction]:
    """An order a crashed worker left in BUILDING, its signed transaction stored."""
    order = await world.place()
    routed = await world.engine().execute(order.id, "alice")  # runs to CONFIRMED: start over
    assert routed is not None
    fresh = await world.place()
    other = Gateway()
    request = SwapRequest(str(fresh.id), "alice", SOL.mint, USDC.mint, (), 149_000_000)
    tx = await other.build(request)
    route = (await world.store.get(order.id)).route  # type: ignore[union-attr]
    assert route is not None
    at = await _at(
        world,
        fresh,
        steps.Routed(message="routed", attempt=1, route=route),
        steps.Built(message="built", pending_tx=tx.to_json()),
    )
    world.gateway = Gateway()
    return at, tx


async def test_resuming_a_built_order_first_asks_whether_it_landed(world: World) -> None:
    world.gateway.script = [landed()]
    order, tx = await _built_elsewhere(world)
    world.gateway.script = [landed(), landed()]  # it landed before the crash
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert world.gateway.sent == []  # never sent again
    assert world.gateway.built == []  # never rebuilt
    assert done.tx_signature == tx.signature


async def test_resuming_a_built_order_that_never_landed_sends_the_same_transaction(
    world: World,
) -> None:
    world.gateway.script = [landed()]
    order, tx = await _built_elsewhere(world)
    world.gateway.script = [TxStatus(TxState.UNKNOWN), landed()]
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert world.gateway.sent == [tx.signature]
    assert world.gateway.built == []


async def test_resuming_a_built_order_whose_blockhash_expired_retries_with_a_new_one(
    world: World,
) -> None:
    world.gateway.script = [landed()]
    order, tx = await _built_elsewhere(world)
    world.gateway.script = [TxStatus(TxState.EXPIRED), landed()]
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    events = await world.store.events(order.id)
    assert [e.failure for e in events if e.failure] == [FailureKind.BLOCKHASH_EXPIRED]
    assert len(world.gateway.built) == 1
    assert world.gateway.built[0].signature != tx.signature


async def test_resuming_a_submitted_order_confirms_without_sending(world: World) -> None:
    world.gateway.script = [landed()]
    order, tx = await _built_elsewhere(world)
    submitted = await _at(world, order, steps.Submitted(message="sent", tx_signature=tx.signature))
    world.gateway.script = [landed()]
    done = await world.engine().execute(submitted.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert world.gateway.sent == []


async def test_resuming_a_routed_order_builds_from_its_stored_route(world: World) -> None:
    world.gateway.script = [landed()]
    order, _ = await _built_elsewhere(world)
    routed_only = await world.place()
    stored = await world.store.get(order.id)
    assert stored is not None
    assert stored.route is not None
    routed = await _at(
        world, routed_only, steps.Routed(message="routed", attempt=1, route=stored.route)
    )
    world.gateway.script = [landed()]
    done = await world.engine().execute(routed.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert await world.statuses(routed) == MARKET_PATH


async def test_an_engine_that_lost_its_lease_stops_and_leaves_the_order_to_its_owner(
    world: World,
) -> None:
    order = await world.place()
    engine = world.engine(owner="w1")

    async def stolen() -> None:  # the lease expired and another worker took it
        await world.store.release(order.id, "w1")
        assert await world.store.claim(order.id, "w2", world.now, world.now + timedelta(60))

    world.gateway.on_build = stolen
    assert await engine.execute(order.id, "alice") is None
    assert await world.statuses(order) == MARKET_PATH[:2]  # nothing written after the theft
    assert world.gateway.sent == []


async def test_a_leased_order_is_not_run_by_a_second_engine(world: World) -> None:
    order = await world.place()
    assert await world.store.claim(order.id, "w2", world.now, world.now + timedelta(60))
    assert await world.engine(owner="w1").execute(order.id, "alice") is None
    assert await world.statuses(order) == [OrderStatus.PENDING]


async def test_a_draining_engine_hands_orders_back_untouched(world: World) -> None:
    order = await world.place()
    engine = world.engine()
    engine.drain()
    assert await engine.execute(order.id, "alice") is None
    assert [(q.order_id, q.user_id) for q in engine.handed_back] == [(order.id, "alice")]
    assert engine.in_flight == []
    assert await engine.wait_idle(0.01)
    assert await world.statuses(order) == [OrderStatus.PENDING]


async def test_a_twap_parent_delivered_to_a_worker_is_left_alone(world: World) -> None:
    # The reconciler may queue a TWAP still PENDING (no scheduler looked at it yet): the
    # parent never trades, its slices do.
    order = await world.place(OrderType.TWAP, twap=TwapPlan(slices=2, duration_seconds=10))
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.PENDING
    assert await world.statuses(order) == [OrderStatus.PENDING]
    assert world.gateway.built == []
