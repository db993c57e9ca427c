"""One contract, every order store: in memory, Tortoise (SQLite, Postgres), Postgres (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from eterna.application.groups import fire as fire_leg
from eterna.application.ports import OrderCursor, OrderStore, QueuedOrder, take_step
from eterna.core.clock import utcnow
from eterna.domain.errors import InvalidTransitionError, LeaseLostError
from eterna.domain.failures import FailureKind
from eterna.domain.groups import SIBLING_MISSING, LoneLegError, StepWrite, cancel_sibling
from eterna.domain.orders import Order, OrderStatus, OrderType, PlaceOrder
from eterna.domain.steps import Fired as StepFired
from eterna.domain.steps import PartlyFilled as StepPartlyFilled
from eterna.domain.steps import Rested
from eterna.domain.tokens import BONK, SOL, USDC, Token, format_amount
from eterna.entrypoints.bootstrap import close_database, open_database
from eterna.entrypoints.config import Settings
from models.memory import MemoryOrderStore
from models.postgres import open_postgres_store
from models.tortoise_store import TortoiseOrderStore
from tests.conftest import fresh_pg_database
from tests.support import steps

pytestmark = pytest.mark.anyio


_STORES = [
    "memory",
    "tortoise-sqlite",
    pytest.param("tortoise-postgres", marks=pytest.mark.postgres),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres-direct", marks=pytest.mark.postgres),
]


@pytest.fixture(params=_STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OrderStore]:
    """Yield an empty order store of each kind.

    ``postgres`` is the Postgres store with group commit, ``postgres-direct`` the same store
    writing each placement, claim and step in its own statement.
    """
    kind: str = request.param
    if kind == "memory":
        yield MemoryOrderStore()
        return
    async with contextlib.AsyncExitStack() as stack:
        if kind == "tortoise-sqlite":
            url = f"sqlite://{tmp_path / 'test.sqlite3'}"
        else:
            url = await stack.enter_async_context(fresh_pg_database())
        await open_database(Settings(database_url=url), run_migrations=True)
        stack.push_async_callback(close_database)
        if kind.startswith("tortoise"):
            yield TortoiseOrderStore()
            return
        pg = await open_postgres_store(url, pool_size=4, group_commit=kind == "postgres")
        stack.push_async_callback(pg.close)
        yield pg


def _order(
    user: str = "alice",
    amount: str = "1",
    coid: str | None = None,
    kind: OrderType = OrderType.MARKET,
    token: Token = SOL,
) -> PlaceOrder:
    return PlaceOrder(
        user_id=user,
        type=kind,
        token_in=token,
        token_out=USDC,
        amount_in=Decimal(amount),
        limit_price=Decimal(200) if kind is OrderType.LIMIT else None,
        client_order_id=coid,
    )


@pytest.mark.parametrize(
    ("token", "amount"),
    [(SOL, "123456789.123456789"), (SOL, "0.000000001"), (BONK, "98765432109876.54321")],
)
async def test_amounts_round_trip_exactly(store: OrderStore, token: Token, amount: str) -> None:
    (placed,) = await store.place([_order(amount=amount, token=token)], utcnow())
    loaded = await store.get(placed.order.id)
    assert loaded is not None
    assert loaded.amount_in == Decimal(amount)
    assert format_amount(loaded.amount_in) == amount

    price = Decimal("149.552984720981556149")
    now = utcnow()
    order = loaded
    for step in (steps.routed("r"), steps.built("b"), steps.submitted("s")):
        order, _ = await take_step(store, order, step, owner=None, now=now, lease_until=now)
    await take_step(
        store,
        order,
        steps.confirmed(amount_out="149.552985", price=str(price)),
        owner=None,
        now=now,
        lease_until=now,
    )
    final = await store.get(placed.order.id)
    assert final is not None
    assert final.executed_price == price
    assert final.amount_out == Decimal("149.552985")
    assert final.pending_tx is None  # a terminal step drops the pending transaction
    events = await store.events(placed.order.id)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[-1].executed_price == price


async def test_the_stored_order_and_events_are_what_the_domain_made(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    after, event = await take_step(
        store, placed.order, steps.routed(), owner=None, now=now, lease_until=now
    )
    loaded = await store.get(placed.order.id)
    assert loaded is not None
    assert (loaded.status, loaded.last_seq, loaded.attempts) == (OrderStatus.ROUTING, 2, 1)
    assert loaded.route == after.route
    first, second = await store.events(placed.order.id)
    assert (first.seq, first.status, first.message) == (1, OrderStatus.PENDING, "order accepted")
    assert second == event


async def test_a_failure_kind_is_stored_with_its_event(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    order, _ = await take_step(
        store, placed.order, steps.routed(), owner=None, now=now, lease_until=now
    )
    await take_step(
        store,
        order,
        steps.retried("SlippageToleranceExceeded", FailureKind.SLIPPAGE),
        owner=None,
        now=now,
        lease_until=now,
    )
    *_, retry = await store.events(placed.order.id)
    assert (retry.status, retry.failure, retry.error) == (
        OrderStatus.PENDING,
        FailureKind.SLIPPAGE,
        "SlippageToleranceExceeded",
    )
    history = await store.events_of_orders([placed.order.id])
    assert history[placed.order.id][-1].failure is FailureKind.SLIPPAGE


async def test_concurrent_duplicate_client_order_ids_give_one_order(store: OrderStore) -> None:
    now = utcnow()
    results = await asyncio.gather(
        *(store.place([_order(coid="same")], now) for _ in range(8)), return_exceptions=True
    )
    orders = {r[0].order.id for r in results if isinstance(r, list)}
    assert len(orders) == 1, results
    assert sum(1 for r in results if isinstance(r, list) and r[0].created) == 1
    other = await store.place([_order(user="bob", coid="same")], now)
    assert other[0].created
    assert other[0].order.id not in orders
    found = await store.placed_client_orders("alice", ["same", "other"])
    assert {k: o.id for k, o in found.items()} == {"same": next(iter(orders))}


async def test_repeat_inside_one_batch_returns_the_first(store: OrderStore) -> None:
    placed = await store.place(
        [_order(coid="k1"), _order(amount="2"), _order(coid="k1", amount="3")], utcnow()
    )
    assert placed[0].order.id == placed[2].order.id
    assert placed[2].created is False
    assert placed[0].order.amount_in == Decimal(1)


async def test_stale_writer_loses_and_history_does_not_fork(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    await take_step(store, placed.order, steps.routed("a"), owner=None, now=now, lease_until=now)
    with pytest.raises(LeaseLostError):
        await take_step(
            store, placed.order, steps.cancelled("late"), owner=None, now=now, lease_until=now
        )
    events = await store.events(placed.order.id)
    assert [(e.seq, e.status) for e in events] == [
        (1, OrderStatus.PENDING),
        (2, OrderStatus.ROUTING),
    ]


async def test_a_step_the_state_machine_refuses_stores_nothing(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    with pytest.raises(InvalidTransitionError):
        await take_step(store, placed.order, steps.built(), owner=None, now=now, lease_until=now)
    assert [e.seq for e in await store.events(placed.order.id)] == [1]


async def test_lease_is_exclusive_until_it_expires(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    first = await store.claim(placed.order.id, "w1", now, now + timedelta(seconds=30))
    assert first is not None
    assert await store.claim(placed.order.id, "w2", now, now + timedelta(seconds=30)) is None
    with pytest.raises(LeaseLostError):
        await take_step(
            store, first, steps.routed("w2 writes"), owner="w2", now=now, lease_until=now
        )
    later = now + timedelta(seconds=31)
    assert await store.claim(placed.order.id, "w2", later, later + timedelta(seconds=30))


async def test_renew_and_release_work_only_for_the_owner(store: OrderStore) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    assert await store.claim(placed.order.id, "w1", now, now + timedelta(seconds=30))
    assert await store.renew(placed.order.id, "w1", now + timedelta(seconds=60))
    assert not await store.renew(placed.order.id, "w2", now + timedelta(seconds=60))
    await store.release(placed.order.id, "w2")  # not its lease: nothing happens
    assert await store.claim(placed.order.id, "w2", now, now + timedelta(seconds=30)) is None
    await store.release(placed.order.id, "w1")
    assert await store.claim(placed.order.id, "w2", now, now + timedelta(seconds=30))


async def test_a_terminal_step_ends_the_lease_and_no_one_claims_the_order_again(
    store: OrderStore,
) -> None:
    (placed,) = await store.place([_order()], utcnow())
    now = utcnow()
    order = await store.claim(placed.order.id, "w1", now, now + timedelta(seconds=30))
    assert order is not None
    await take_step(store, order, steps.failed(), owner="w1", now=now, lease_until=now)
    assert await store.claim(placed.order.id, "w2", now, now + timedelta(seconds=30)) is None
    failed = await store.get(placed.order.id)
    assert failed is not None
    assert (failed.status, failed.failure_reason) == (OrderStatus.FAILED, "x")


async def test_stuck_orders_are_found_only_when_unleased_and_idle(store: OrderStore) -> None:
    t0 = utcnow()
    (idle,) = await store.place([_order()], t0 - timedelta(minutes=5))
    (fresh,) = await store.place([_order()], t0)
    (leased,) = await store.place([_order()], t0 - timedelta(minutes=5))
    await store.claim(leased.order.id, "w1", t0, t0 + timedelta(seconds=30))
    stuck = await store.stuck_orders(t0, t0 - timedelta(seconds=60), 100)
    assert stuck == [QueuedOrder(idle.order.id, idle.order.user_id)]
    assert uuid.UUID(str(fresh.order.id)) not in stuck


async def test_open_orders_count_in_flight_waiting_and_conditional(store: OrderStore) -> None:
    now = utcnow()
    market, limit, done = (
        p.order
        for p in await store.place(
            [_order(), _order(kind=OrderType.LIMIT), _order(user="alice")], now
        )
    )
    await take_step(store, limit, steps.rested(), owner=None, now=now, lease_until=now)
    await take_step(store, done, steps.cancelled(), owner=None, now=now, lease_until=now)
    await store.place([_order(user="bob")], now)
    counts = await store.open_orders("alice")
    assert (counts.in_flight, counts.waiting, counts.conditional, counts.open) == (1, 1, 1, 2)
    assert market.id != limit.id


async def test_pages_are_newest_first_with_stable_cursors(store: OrderStore) -> None:
    t0 = utcnow()
    ids = [(await store.place([_order()], t0 + timedelta(seconds=i)))[0].order.id for i in range(5)]
    await store.place([_order(user="bob")], t0)
    first = await store.list_for_user("alice", first=2, after=None, status=None, order_type=None)
    assert [o.id for o in first.orders] == ids[::-1][:2]
    assert first.has_next
    last = first.orders[-1]
    rest = await store.list_for_user(
        "alice",
        first=10,
        after=OrderCursor(last.created_at, last.id),
        status=OrderStatus.PENDING,
        order_type=OrderType.MARKET,
    )
    assert [o.id for o in rest.orders] == ids[::-1][2:]
    assert not rest.has_next


async def test_resting_and_changed_orders_are_found_by_time(store: OrderStore) -> None:
    t0 = utcnow()
    (limit,) = await store.place([_order(kind=OrderType.LIMIT)], t0)
    (market,) = await store.place([_order(user="bob")], t0)
    later = t0 + timedelta(seconds=10)
    await take_step(store, limit.order, steps.rested(), owner=None, now=later, lease_until=later)
    assert [o.id for o in await store.resting_orders()] == [limit.order.id]
    assert await store.resting_orders(later + timedelta(seconds=1)) == []
    changed = await store.user_orders_updated_since("alice", later)
    assert [o.id for o in changed] == [limit.order.id]
    marks = await store.orders_changed_between(
        ["alice"], [market.order.id], t0, later + timedelta(seconds=1)
    )
    assert sorted((m.order_id, m.last_seq) for m in marks) == sorted(
        [(limit.order.id, 2), (market.order.id, 1)]
    )


async def test_orders_changed_in_a_window_are_found_by_owner_or_id(store: OrderStore) -> None:
    t0 = utcnow().replace(microsecond=0)
    (alice_early,) = await store.place([_order("alice")], t0)
    (alice_late,) = await store.place([_order("alice")], t0 + timedelta(seconds=10))
    (bob,) = await store.place([_order("bob")], t0 + timedelta(seconds=5))
    (carol,) = await store.place([_order("carol")], t0 + timedelta(seconds=5))
    claimed = await store.claim(alice_early.order.id, "w1", t0, t0 + timedelta(seconds=30))
    assert claimed is not None
    moved, _ = await take_step(
        store,
        claimed,
        steps.routed(),
        owner="w1",
        now=t0 + timedelta(seconds=6),
        lease_until=t0 + timedelta(seconds=30),
    )
    window = (t0 + timedelta(seconds=1), t0 + timedelta(seconds=10))
    marks = await store.orders_changed_between(["alice"], [bob.order.id], *window)
    # alice's first order moved into the window (seq 2); her second is at its end (excluded);
    # bob's is asked for by id; carol's is nobody's here.
    assert sorted(marks, key=lambda m: m.user_id) == [
        (alice_early.order.id, "alice", 2, t0 + timedelta(seconds=6)),
        (bob.order.id, "bob", 1, t0 + timedelta(seconds=5)),
    ]
    assert all(m.updated_at.utcoffset() == timedelta(0) for m in marks)
    assert await store.orders_changed_between([], [], *window) == []
    by_id = await store.orders_changed_between([], [carol.order.id, alice_late.order.id], *window)
    assert [m.order_id for m in by_id] == [carol.order.id]
    assert moved.last_seq == 2


async def test_stop_fields_round_trip_and_a_trailing_best_only_rises(store: OrderStore) -> None:
    t0 = utcnow()
    stop = PlaceOrder(
        user_id="alice",
        type=OrderType.STOP_LOSS,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(1),
        limit_price=Decimal("129.5"),
        trigger_price=Decimal("140.000000000000000001"),
    )
    trailing = PlaceOrder(
        user_id="alice",
        type=OrderType.TRAILING_STOP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(2),
        trail_bps=250,
    )
    (a, b) = await store.place([stop, trailing], t0)
    loaded = await store.get(a.order.id)
    assert loaded is not None
    assert (loaded.type, loaded.trigger_price, loaded.limit_price) == (
        OrderType.STOP_LOSS,
        Decimal("140.000000000000000001"),
        Decimal("129.5"),
    )
    # Not resting yet: a best price is only kept for a WAITING trailing stop.
    await store.raise_trail_best([(b.order.id, Decimal(1))])
    pending = await store.get(b.order.id)
    assert pending is not None
    assert (pending.trail_bps, pending.trail_best) == (250, None)

    await take_step(store, b.order, steps.rested(), owner=None, now=t0, lease_until=t0)
    # Compared as numbers: "99.9" sorts above "150" as text, but is lower.
    for best in ("150", "99.9", "150.000000000000000001", "150"):
        await store.raise_trail_best([(b.order.id, Decimal(best))])
    (resting,) = await store.resting_orders()
    assert resting.trail_best == Decimal("150.000000000000000001")

    # Firing records when: the worker then trades the stop as a market order.
    later = t0 + timedelta(seconds=1)
    fired, _ = await take_step(
        store, resting, StepFired(message="fired"), owner=None, now=later, lease_until=later
    )
    loaded_fired = await store.get(b.order.id)
    assert loaded_fired is not None
    assert loaded_fired.fired_at == fired.fired_at == later


async def test_racing_raises_of_a_best_price_keep_the_highest(store: OrderStore) -> None:
    t0 = utcnow()
    trailing = PlaceOrder(
        user_id="alice",
        type=OrderType.TRAILING_STOP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(1),
        trail_bps=100,
    )
    (placed,) = await store.place([trailing], t0)
    await take_step(store, placed.order, steps.rested(), owner=None, now=t0, lease_until=t0)
    # Two watchers overlapping in a failover: every write races the others, none lowers.
    bests = [Decimal(100) + Decimal(i % 7) * Decimal("0.5") + Decimal(i) / 1000 for i in range(24)]
    await asyncio.gather(
        *(store.raise_trail_best([(placed.order.id, best)]) for best in reversed(bests))
    )

    loaded = await store.get(placed.order.id)
    assert loaded is not None
    assert loaded.trail_best == max(bests)


# -- OCO groups: a leg's firing and its sibling's cancel in one guarded write ---------------


async def _group(store: OrderStore, *, rest: bool = True) -> list[Order]:
    """Place a stop-loss and a take-profit sharing a group id; rest both (WAITING, seq 2)."""
    group_id = uuid.uuid4()
    legs = [
        replace(_order(kind=kind), trigger_price=Decimal(price), group_id=group_id)
        for kind, price in ((OrderType.STOP_LOSS, 140), (OrderType.TAKE_PROFIT, 170))
    ]
    placed = [p.order for p in await store.place(legs, utcnow())]
    if not rest:
        return placed
    now = utcnow()
    return [
        (
            await take_step(
                store, o, Rested(message="waiting"), owner=None, now=now, lease_until=now
            )
        )[0]
        for o in placed
    ]


async def test_a_group_id_round_trips_and_finds_both_legs(store: OrderStore) -> None:
    legs = await _group(store, rest=False)
    group_id = legs[0].group_id
    assert group_id is not None
    loaded = await store.get(legs[0].id)
    assert loaded is not None
    assert loaded.group_id == group_id
    found = await store.group_orders(group_id)
    assert sorted(o.id for o in found) == sorted(o.id for o in legs)
    assert {o.group_id for o in found} == {group_id}
    assert await store.group_orders(uuid.uuid4()) == []
    (plain,) = await store.place([_order()], utcnow())
    assert plain.order.group_id is None
    assert (await store.get(plain.order.id)).group_id is None  # type: ignore[union-attr]


async def test_a_joined_write_is_all_or_none(store: OrderStore) -> None:
    a, b = await _group(store)
    now = utcnow()
    # b moves on first: the joined write's guard on b fails, and a is not written either.
    await take_step(store, b, steps.cancelled("by its owner"), owner=None, now=now, lease_until=now)
    fired, event = a.apply(StepFired(message="fired"), now)
    joined = cancel_sibling(b, a, now)
    assert joined is not None
    with pytest.raises(LeaseLostError):
        await store.record_joined([StepWrite(a, fired, event), joined], owner=None, lease_until=now)
    still = await store.get(a.id)
    assert still is not None
    assert (still.status, still.last_seq) == (OrderStatus.WAITING, 2)
    assert [e.seq for e in await store.events(a.id)] == [1, 2]
    assert [e.seq for e in await store.events(b.id)] == [1, 2, 3]
    # Read again, b is finished: a fires alone.
    after, events = await fire_leg(
        store, a, StepFired(message="fired"), owner=None, now=now, lease_until=now
    )
    assert after.status is OrderStatus.PENDING
    assert [e.order_id for e in events] == [a.id]


async def test_a_joined_write_guards_the_first_order_by_its_lease(store: OrderStore) -> None:
    a, b = await _group(store)
    now = utcnow()
    assert await store.claim(a.id, "w1", now, now + timedelta(seconds=30)) is not None
    with pytest.raises(LeaseLostError):
        await fire_leg(store, a, StepFired(message="f"), owner="w2", now=now, lease_until=now)
    after, events = await fire_leg(
        store, a, StepFired(message="f"), owner="w1", now=now, lease_until=now
    )
    assert [e.status for e in events] == [OrderStatus.PENDING, OrderStatus.CANCELLED]
    assert after.fired_at is not None
    sibling = await store.get(b.id)
    assert sibling is not None
    assert sibling.status is OrderStatus.CANCELLED


async def test_both_legs_firing_at_once_fire_one_and_cancel_the_other(store: OrderStore) -> None:
    groups = [await _group(store) for _ in range(12)]
    now = utcnow()

    async def attempt(leg: Order) -> bool:
        try:
            await fire_leg(store, leg, StepFired(message="f"), owner=None, now=now, lease_until=now)
        except LeaseLostError:
            return False
        return True

    won = await asyncio.gather(*(attempt(leg) for legs in groups for leg in legs))
    for i, legs in enumerate(groups):
        assert sum(won[2 * i : 2 * i + 2]) == 1, f"group {i}: {won[2 * i : 2 * i + 2]}"
        stored = [await store.get(leg.id) for leg in legs]
        statuses = sorted(o.status.value for o in stored if o is not None)
        assert statuses == ["CANCELLED", "PENDING"]
        (winner,) = [o for o in stored if o is not None and o.status is OrderStatus.PENDING]
        (loser,) = [o for o in stored if o is not None and o.status is OrderStatus.CANCELLED]
        events = await store.events(loser.id)
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[-1].details["siblingId"] == str(winner.id)
        assert [e.seq for e in await store.events(winner.id)] == [1, 2, 3]


async def test_an_owners_cancel_racing_both_firings_ends_in_one_outcome(
    store: OrderStore,
) -> None:
    groups = [await _group(store) for _ in range(12)]
    now = utcnow()

    async def fire(leg: Order) -> None:
        with contextlib.suppress(LeaseLostError):
            await fire_leg(store, leg, StepFired(message="f"), owner=None, now=now, lease_until=now)

    async def cancel(leg: Order) -> None:
        with contextlib.suppress(LeaseLostError):
            await take_step(
                store, leg, steps.cancelled("by its owner"), owner=None, now=now, lease_until=now
            )

    await asyncio.gather(
        *(
            task
            for i, (a, b) in enumerate(groups)
            for task in (fire(a), fire(b), cancel((a, b)[i % 2]))
        )
    )
    for legs in groups:
        stored = [o for leg in legs if (o := await store.get(leg.id)) is not None]
        for order in stored:
            events = await store.events(order.id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
        # Whichever write landed first, exactly one leg fired and the other is cancelled: by
        # the firing, or by its owner (then the other leg fired alone, its sibling finished).
        (fired,) = [o for o in stored if o.fired_at is not None]
        (other,) = [o for o in stored if o.id != fired.id]
        assert fired.status is OrderStatus.PENDING
        assert other.status is OrderStatus.CANCELLED


async def test_a_leg_without_its_sibling_is_cancelled_where_it_would_fire(
    store: OrderStore,
) -> None:
    # One leg stored under a group id with no other leg: what a placement refused after a
    # race on its clientOrderIds leaves behind when its cancel of that leg failed.
    lone = replace(_order(kind=OrderType.STOP_LOSS), trigger_price=Decimal(140))
    (placed,) = await store.place([replace(lone, group_id=uuid.uuid4())], utcnow())
    leg = placed.order
    now = utcnow()
    assert await store.claim(leg.id, "w1", now, now + timedelta(seconds=30)) is not None
    with pytest.raises(LoneLegError) as refused:
        await fire_leg(store, leg, StepFired(message="f"), owner="w1", now=now, lease_until=now)
    assert refused.value.order.status is OrderStatus.CANCELLED
    stored = await store.get(leg.id)
    assert stored is not None
    assert (stored.status, stored.fired_at, stored.route) == (OrderStatus.CANCELLED, None, None)
    events = await store.events(leg.id)
    assert [e.status for e in events] == [OrderStatus.PENDING, OrderStatus.CANCELLED]
    assert events[-1].details["reason"] == SIBLING_MISSING
    assert events[-1] == refused.value.event
    assert await store.claim(leg.id, "w2", now, now + timedelta(seconds=30)) is None


async def test_max_slippage_round_trips_and_fixed_slippage_orders_have_none(
    store: OrderStore,
) -> None:
    t0 = utcnow()
    adaptive = PlaceOrder(
        user_id="alice",
        type=OrderType.MARKET,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(1),
        slippage_bps=150,
        max_slippage_bps=150,
    )
    fixed = _order(amount="2")
    (a, b) = await store.place([adaptive, fixed], t0)
    assert a.order.max_slippage_bps == 150
    loaded = await store.get(a.order.id)
    other = await store.get(b.order.id)
    assert loaded is not None
    assert other is not None
    assert (loaded.max_slippage_bps, loaded.slippage_bps) == (150, 150)
    assert (other.max_slippage_bps, other.slippage_bps) == (None, 50)
    # A step (here the worker claiming and routing it) keeps the cap.
    claimed = await store.claim(a.order.id, "w1", t0, t0 + timedelta(seconds=30))
    assert claimed is not None
    assert claimed.max_slippage_bps == 150
    listed = await store.list_for_user("alice", first=10, after=None, status=None, order_type=None)
    assert {o.id: o.max_slippage_bps for o in listed.orders} == {
        a.order.id: 150,
        b.order.id: None,
    }


async def test_owned_events_checks_the_owner_and_reads_the_history_once(
    store: OrderStore,
) -> None:
    """A subscription's first read: someone else's order is None, the history after a seq."""
    placed = (await store.place([_order(user="alice")], utcnow()))[0].order
    assert await store.owned_events(placed.id, "bob") is None
    assert await store.owned_events(uuid.uuid4(), "alice") is None
    history = await store.owned_events(placed.id, "alice")
    assert history == await store.events(placed.id)
    assert [e.seq for e in history or []] == [1]
    # Nothing after the last seq: the order is still found (an empty history, not None).
    assert await store.owned_events(placed.id, "alice", after_seq=1) == []
    now = utcnow()
    order = placed
    for step in (steps.routed("r"), steps.built("b"), steps.submitted("s")):
        order, _ = await take_step(store, order, step, owner=None, now=now, lease_until=now)
    later = await store.owned_events(placed.id, "alice", after_seq=2)
    assert later == await store.events(placed.id, 2)
    assert [(e.seq, e.status) for e in later or []] == [
        (3, OrderStatus.BUILDING),
        (4, OrderStatus.SUBMITTED),
    ]
    assert await store.owned_events(placed.id, "bob", after_seq=2) is None
    assert await store.owned_events(placed.id, "alice", after_seq=4) == []


async def test_partial_fills_round_trip_and_a_cancel_keeps_them(store: OrderStore) -> None:
    command = replace(_order(amount="10", kind=OrderType.LIMIT), min_fill=Decimal("0.1"))
    (placed,) = await store.place([command], utcnow())
    assert placed.order.min_fill == Decimal("0.1")
    now = utcnow()
    order = placed.order
    for part, out, signature in (("4", "800", "sig-1"), ("2.5", "505", "sig-2")):
        route = steps.routed("part")
        route = replace(route, route=steps.route(amount_in=part, amount_out=out))
        for step in (route, steps.built("b"), steps.submitted("s", signature)):
            order, _ = await take_step(store, order, step, owner=None, now=now, lease_until=now)
        fill = StepPartlyFilled(
            message="part filled",
            tx_signature=signature,
            amount_in=Decimal(part),
            amount_out=Decimal(out),
            executed_price=Decimal(out) / Decimal(part),
        )
        order, event = await take_step(store, order, fill, owner=None, now=now, lease_until=now)
        assert event.status is OrderStatus.WAITING
        order, _ = await take_step(
            store, order, StepFired(message="fired"), owner=None, now=now, lease_until=now
        )
    order, _ = await take_step(
        store, order, steps.cancelled(), owner=None, now=now, lease_until=now
    )

    loaded = await store.get(placed.order.id)
    assert loaded is not None
    assert loaded.status is OrderStatus.CANCELLED
    assert loaded.min_fill == Decimal("0.1")
    assert (loaded.filled_in, loaded.remaining_in) == (Decimal("6.5"), Decimal("3.5"))
    assert loaded.amount_out == Decimal(1305)
    assert loaded.executed_price == Decimal("200.769230769230769230")
    assert [(f.amount_in, f.amount_out, f.tx_signature) for f in loaded.fills] == [
        (Decimal(4), Decimal(800), "sig-1"),
        (Decimal("2.5"), Decimal(505), "sig-2"),
    ]
    assert loaded.fills == order.fills
    events = await store.events(placed.order.id)
    waiting = [e for e in events if e.status is OrderStatus.WAITING]
    assert [e.amount_out for e in waiting] == [Decimal(800), Decimal(1305)]
