"""The Postgres store against the Tortoise one on one database: same rows, same guards.

Also what only the Postgres store has: its statements against the migrated schema, group
commit (steps and claims made together share a statement, each under its own guards), and
the lease given back for a claimer that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from eterna.adapters.events.codec import event_data
from eterna.application.ports import OrderStore, take_step
from eterna.core.clock import utcnow
from eterna.domain import steps
from eterna.domain.errors import LeaseLostError, TransientError
from eterna.domain.failures import FailureKind
from eterna.domain.groups import StepWrite, cancel_sibling
from eterna.domain.orders import Order, OrderStatus, OrderType, PlaceOrder, placed_event
from eterna.domain.routes import Quote, Route, RouteLeg
from eterna.domain.tokens import SOL, USDC, Token
from eterna.entrypoints.bootstrap import close_database, open_database
from eterna.entrypoints.config import Settings
from models.group_commit import GroupCommit
from models.postgres import PostgresOrderStore, asyncpg_dsn, open_postgres_store
from models.postgres_sql import EVENT_TYPES, ORDER_TYPES
from models.rows import EVENT_COLUMNS, ORDER_COLUMNS
from models.tortoise_store import TortoiseOrderStore
from tests.conftest import fresh_pg_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

LEASE = timedelta(seconds=30)
PRICE = Decimal("149.552984720981556149")


@dataclass
class Stores:
    """Both stores on one migrated Postgres database, and a pool to look at its rows."""

    fast: PostgresOrderStore
    orm: TortoiseOrderStore
    pool: asyncpg.Pool
    writes: GroupCommit
    url: str


@pytest.fixture
async def pg() -> AsyncIterator[Stores]:
    async with fresh_pg_database() as url, contextlib.AsyncExitStack() as stack:
        await open_database(Settings(database_url=url), run_migrations=True)
        stack.push_async_callback(close_database)
        pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=0, max_size=4)
        writes = GroupCommit(pool)
        fast = PostgresOrderStore(pool, writes=writes)
        stack.push_async_callback(fast.close)
        yield Stores(fast=fast, orm=TortoiseOrderStore(), pool=pool, writes=writes, url=url)


def _command(user: str = "alice") -> PlaceOrder:
    return PlaceOrder(
        user_id=user,
        type=OrderType.MARKET,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal("1.25"),
        slippage_bps=75,
    )


def _route() -> Route:
    leg = RouteLeg(
        venue="raydium",
        pool="pool-1",
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal("1.25"),
        amount_out=Decimal("186.9"),
        fee=Decimal("0.003125"),
    )
    return Route(
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal("1.25"),
        amount_out=Decimal("186.9"),
        min_amount_out=Decimal("185.49825"),
        price_impact_bps=3,
        legs=(leg,),
    )


def _steps() -> list[steps.Step]:
    quote = Quote(
        venue="raydium",
        pool="pool-1",
        amount_in=Decimal("1.25"),
        amount_out=Decimal("186.9"),
        fee=Decimal("0.003125"),
        price_impact_bps=3,
    )
    return [
        steps.Routed(message="routed", attempt=1, quotes=(quote,), route=_route()),
        steps.Built(
            message="built",
            details={"signature": "sig-1", "lastValidSlot": 150},
            pending_tx={"signature": "sig-1", "swaps": [{"pool": "pool-1"}]},
        ),
        steps.Submitted(message="sent", tx_signature="sig-1"),
        steps.Confirmed(
            message="confirmed",
            tx_signature="sig-1",
            amount_out=Decimal("186.9"),
            executed_price=PRICE,
            details={"slot": 7},
        ),
    ]


def _failed() -> steps.Failed:
    return steps.Failed(message="no", attempt=1, failure=FailureKind.TRANSACTION_FAILED, error="x")


async def _rows(
    pool: asyncpg.Pool, order_id: uuid.UUID
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    orders = await pool.fetch('SELECT * FROM "orders" WHERE "id"=$1', order_id)
    events = await pool.fetch(
        'SELECT * FROM "order_events" WHERE "order_id"=$1 ORDER BY "seq"', order_id
    )
    order = {k: v for k, v in orders[0].items() if k != "id"}
    return order, [{k: v for k, v in e.items() if k not in {"id", "order_id"}} for e in events]


async def _run(repo: OrderStore, now: datetime) -> tuple[list[Order], uuid.UUID]:
    (placed,) = await repo.place([_command()], now)
    order = await repo.claim(placed.order.id, "w1", now, now + LEASE)
    assert order is not None
    seen = [order]
    for step in _steps():
        order, event = await take_step(
            repo, order, step, owner="w1", now=now, lease_until=now + LEASE
        )
        assert event.seq == order.last_seq
        seen.append(order)
    await repo.release(order.id, "w1")
    return seen, placed.order.id


def _without_identity(order: Order) -> dict[str, Any]:
    fields = {name: getattr(order, name) for name in Order.__slots__}
    fields.pop("id")
    return fields


async def test_a_whole_order_writes_the_same_rows_either_way(pg: Stores) -> None:
    now = utcnow()
    fast_orders, fast_id = await _run(pg.fast, now)
    orm_orders, orm_id = await _run(pg.orm, now)
    assert [_without_identity(o) for o in fast_orders] == [_without_identity(o) for o in orm_orders]
    assert await _rows(pg.pool, fast_id) == await _rows(pg.pool, orm_id)
    fast, orm = pg.fast, pg.orm
    fast_events, orm_events = await fast.events(fast_id), await orm.events(orm_id)
    assert [e.seq for e in fast_events] == [1, 2, 3, 4, 5]
    assert [(e.status, e.at, e.message, event_data(e)) for e in fast_events] == [
        (e.status, e.at, e.message, event_data(e)) for e in orm_events
    ]
    got_fast, got_orm = await fast.get(fast_id), await orm.get(orm_id)
    assert got_fast is not None
    assert got_orm is not None
    assert _without_identity(got_fast) == _without_identity(got_orm)
    assert got_fast.executed_price == PRICE
    by_order = await fast.events_of_orders([fast_id, orm_id])
    assert [e.seq for e in by_order[fast_id]] == [1, 2, 3, 4, 5]
    assert [e.seq for e in by_order[orm_id]] == [1, 2, 3, 4, 5]
    since = await fast.user_orders_updated_since("alice", utcnow() - timedelta(minutes=1))
    assert {o.id for o in since} == {fast_id, orm_id}


async def test_a_step_needs_the_lease_and_the_seq_it_read(pg: Stores) -> None:
    repo = pg.fast
    now = utcnow()
    (placed,) = await repo.place([_command()], now)
    claimed = await repo.claim(placed.order.id, "w1", now, now + LEASE)
    assert claimed is not None
    assert await repo.claim(placed.order.id, "w2", now, now + LEASE) is None
    with pytest.raises(LeaseLostError):
        await take_step(repo, claimed, _steps()[0], owner="w2", now=now, lease_until=now + LEASE)
    moved, _ = await take_step(repo, claimed, _steps()[0], owner="w1", now=now, lease_until=now)
    with pytest.raises(LeaseLostError):  # a stale copy: last_seq moved on
        await take_step(repo, claimed, _steps()[0], owner="w1", now=now, lease_until=now)
    with pytest.raises(LeaseLostError):  # the owner-less writer (cancel) is guarded by seq
        await take_step(
            repo, claimed, steps.Cancelled(message="late"), owner=None, now=now, lease_until=now
        )
    events = await repo.events(placed.order.id)
    assert [(e.seq, e.status) for e in events] == [
        (1, OrderStatus.PENDING),
        (2, OrderStatus.ROUTING),
    ]
    assert moved.last_seq == 2


async def test_a_duplicate_seq_rolls_the_whole_step_back(pg: Stores) -> None:
    repo = pg.fast
    now = utcnow()
    (placed,) = await repo.place([_command()], now)
    # An event already holds seq 2 while the order still says 1: the safety net must hold.
    await _intrude(pg.pool, placed.order.id, now)
    with pytest.raises(LeaseLostError, match="already has seq 2"):
        await take_step(repo, placed.order, _steps()[0], owner=None, now=now, lease_until=now)
    order = await repo.get(placed.order.id)
    assert order is not None
    assert (order.status, order.last_seq) == (OrderStatus.PENDING, 1)


async def test_release_is_skipped_only_after_our_terminal_step(pg: Stores) -> None:
    repo = pg.fast
    now = utcnow()
    first, second = await repo.place([_command(), _command()], now)
    # Not finished: release gives the lease back.
    order = await repo.claim(first.order.id, "w1", now, now + LEASE)
    assert order is not None
    await take_step(repo, order, _steps()[0], owner="w1", now=now, lease_until=now + LEASE)
    await repo.release(first.order.id, "w1")
    rows = await pg.pool.fetch(
        'SELECT "lease_owner","lease_until" FROM "orders" WHERE "id"=$1', first.order.id
    )
    assert [dict(r) for r in rows] == [{"lease_owner": None, "lease_until": None}]
    assert await repo.claim(first.order.id, "w2", now, now + LEASE) is not None
    # Finished by our own step: the lease is already clear, release has nothing to do.
    order = await repo.claim(second.order.id, "w1", now, now + LEASE)
    assert order is not None
    order, _ = await take_step(repo, order, _failed(), owner="w1", now=now, lease_until=now)
    assert order.status is OrderStatus.FAILED
    await repo.release(second.order.id, "w1")
    rows = await pg.pool.fetch(
        'SELECT "lease_owner","lease_until","failure_reason" FROM "orders" WHERE "id"=$1',
        second.order.id,
    )
    assert [dict(r) for r in rows] == [
        {"lease_owner": None, "lease_until": None, "failure_reason": "x"}
    ]
    assert await repo.claim(second.order.id, "w1", now, now + LEASE) is None


async def test_renew_extends_only_our_lease(pg: Stores) -> None:
    repo = pg.fast
    now = utcnow()
    (placed,) = await repo.place([_command()], now)
    assert await repo.claim(placed.order.id, "w1", now, now + LEASE) is not None
    assert await repo.renew(placed.order.id, "w1", now + 2 * LEASE)
    assert not await repo.renew(placed.order.id, "w2", now + 2 * LEASE)
    later = now + LEASE + timedelta(seconds=1)
    assert await repo.claim(placed.order.id, "w2", later, later + LEASE) is None


async def test_the_placed_event_is_the_stored_first_event(pg: Stores) -> None:
    repo = pg.fast
    (placed,) = await repo.place([_command()], utcnow())
    (stored,) = await repo.events(placed.order.id)
    assert placed_event(placed.order) == stored


def _every_kind(user: str, expiry: datetime) -> list[PlaceOrder]:
    return [
        _command(user),
        PlaceOrder(
            user_id=user,
            type=OrderType.LIMIT,
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal("0.000000001"),
            slippage_bps=1,
            limit_price=PRICE,
            expires_at=expiry,
            client_order_id=f"{user}-limit",
        ),
        PlaceOrder(
            user_id=user,
            type=OrderType.SNIPER,
            token_in=SOL,
            token_out=Token("9" * 32, None, 0),
            amount_in=Decimal("123456789.123456789"),
            min_liquidity=Decimal("50.5"),
            max_price_impact_bps=300,
            expires_at=expiry,
        ),
    ]


async def test_a_batch_is_placed_in_one_statement_with_the_same_rows(pg: Stores) -> None:
    now = utcnow()
    expiry = now + timedelta(days=1)
    fast = await pg.fast.place(_every_kind("alice", expiry), now)
    orm = await pg.orm.place(_every_kind("alice-orm", expiry), now)
    assert all(p.created for p in fast + orm)
    for f, o in zip(fast, orm, strict=True):
        fast_row, fast_events = await _rows(pg.pool, f.order.id)
        orm_row, orm_events = await _rows(pg.pool, o.order.id)
        for row in (fast_row, orm_row):
            row.pop("user_id")
            row.pop("client_order_id")
        assert fast_row == orm_row
        assert [{**e, "user_id": ""} for e in fast_events] == [
            {**e, "user_id": ""} for e in orm_events
        ]
        stored = await pg.fast.get(f.order.id)
        assert stored == f.order
    # A repeated key in a later batch returns the first order and stores nothing new.
    again = await pg.fast.place(_every_kind("alice", expiry)[1:2], now)
    assert [(p.created, p.order.id) for p in again] == [(False, fast[1].order.id)]


class _CountingRuns:
    """Record the size of every batch of steps (or claims) the group commit writes."""

    def __init__(self, writes: GroupCommit, *, claims: bool = False) -> None:
        self.sizes: list[int] = []
        name = "claim_all" if claims else "write_steps"
        write = getattr(writes, name)

        async def counted(items: Any) -> Any:
            self.sizes.append(len(items))
            return await write(items)

        setattr(writes, name, counted)


async def _intrude(pool: asyncpg.Pool, order_id: uuid.UUID, now: datetime) -> None:
    """Store an event at seq 2 behind the order's back (its last_seq stays 1)."""
    await pool.execute(
        'INSERT INTO "order_events" ("order_id","user_id","seq","status","at","attempt",'
        '"message","data") VALUES ($1,$2,2,$3,$4,0,$5,$6)',
        order_id,
        "alice",
        "ROUTING",
        now,
        "intruder",
        "{}",
    )


async def test_steps_finished_together_are_written_in_one_statement_with_the_same_rows(
    pg: Stores,
) -> None:
    now = utcnow()
    repo = pg.fast
    runs = _CountingRuns(pg.writes)
    together = [p.order for p in await repo.place([_command()] * 4, now)]
    alone = [p.order for p in await repo.place([_command()] * 4, now)]
    claimed = [await repo.claim(o.id, "w1", now, now + LEASE) for o in together + alone]
    assert all(c is not None for c in claimed)
    orders = [o for o in claimed if o is not None]
    together, alone = orders[:4], orders[4:]
    for step in _steps():
        applied = await asyncio.gather(
            *(
                take_step(repo, o, step, owner="w1", now=now, lease_until=now + LEASE)
                for o in together
            )
        )
        together = [order for order, _ in applied]
        alone = [
            (await take_step(repo, o, step, owner="w1", now=now, lease_until=now + LEASE))[0]
            for o in alone
        ]
    assert runs.sizes == [4, 1, 1, 1, 1] * 4
    assert [_without_identity(o) for o in together] == [_without_identity(o) for o in alone]
    for batched, single in zip(together, alone, strict=True):
        assert batched.status is OrderStatus.CONFIRMED
        assert await _rows(pg.pool, batched.id) == await _rows(pg.pool, single.id)


async def test_a_step_that_lost_its_guard_leaves_the_others_of_its_batch_written(
    pg: Stores,
) -> None:
    now = utcnow()
    repo = pg.fast
    runs = _CountingRuns(pg.writes)
    placed = [p.order for p in await repo.place([_command()] * 3, now)]
    owners = ["w1", "w2", "w1"]
    claimed = [
        await repo.claim(o.id, owner, now, now + LEASE)
        for o, owner in zip(placed, owners, strict=True)
    ]
    stale = placed[2]  # last_seq 1 as placed, but another writer moves it on first
    assert all(c is not None for c in claimed)
    moved, _ = await take_step(repo, stale, _steps()[0], owner=None, now=now, lease_until=now)
    outcomes = await asyncio.gather(
        take_step(repo, placed[0], _steps()[0], owner="w1", now=now, lease_until=now + LEASE),
        take_step(repo, placed[1], _steps()[0], owner="w1", now=now, lease_until=now + LEASE),
        take_step(repo, stale, _steps()[0], owner="w1", now=now, lease_until=now + LEASE),
        return_exceptions=True,
    )
    assert runs.sizes[-1] == 3
    assert not isinstance(outcomes[0], BaseException)
    assert isinstance(outcomes[1], LeaseLostError)  # leased by w2
    assert isinstance(outcomes[2], LeaseLostError)  # seq moved on
    statuses = [[(e.seq, e.status) for e in await repo.events(o.id)] for o in placed]
    assert statuses == [
        [(1, OrderStatus.PENDING), (2, OrderStatus.ROUTING)],
        [(1, OrderStatus.PENDING)],
        [(1, OrderStatus.PENDING), (2, OrderStatus.ROUTING)],
    ]
    assert (await repo.get(placed[2].id)) == moved


async def test_a_duplicate_seq_fails_only_its_own_step_of_a_batch(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    runs = _CountingRuns(pg.writes)
    placed = [p.order for p in await repo.place([_command()] * 3, now)]
    await _intrude(pg.pool, placed[1].id, now)
    outcomes = await asyncio.gather(
        *(take_step(repo, o, _steps()[0], owner=None, now=now, lease_until=now) for o in placed),
        return_exceptions=True,
    )
    assert runs.sizes == [3]  # the batch failed whole, then each step went alone
    assert isinstance(outcomes[1], LeaseLostError)
    for i in (0, 2):
        order = await repo.get(placed[i].id)
        assert order is not None
        assert (order.status, order.last_seq) == (OrderStatus.ROUTING, 2)
    order = await repo.get(placed[1].id)
    assert order is not None
    assert (order.status, order.last_seq) == (OrderStatus.PENDING, 1)


async def test_claims_made_together_take_one_statement_and_keep_every_guard(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    sizes = _CountingRuns(pg.writes, claims=True).sizes
    free, held, expired, done = [p.order for p in await repo.place([_command()] * 4, now)]
    assert await repo.claim(held.id, "w2", now, now + LEASE) is not None
    assert await repo.claim(expired.id, "w2", now - 2 * LEASE, now - LEASE) is not None
    finished = await repo.claim(done.id, "w2", now, now + LEASE)
    assert finished is not None
    await take_step(
        repo,
        finished,
        _failed(),
        owner="w2",
        now=now,
        lease_until=now + LEASE,
    )
    sizes.clear()
    got = await asyncio.gather(
        *(repo.claim(o.id, "w1", now, now + LEASE) for o in (free, held, expired, done, free))
    )
    assert sizes == [5]
    assert [None if o is None else o.id for o in got] == [free.id, None, expired.id, None, free.id]
    # Each lease belongs to whoever won it: w1 the free and the expired one, w2 still its own.
    for order_id, owner in ((free.id, "w1"), (held.id, "w2"), (expired.id, "w1")):
        assert not await repo.renew(order_id, "w3", now)
        assert await repo.renew(order_id, owner, now + LEASE)
    assert got[0] == await repo.get(free.id)


async def test_a_step_its_columns_cannot_hold_fails_alone_in_its_batch(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    runs = _CountingRuns(pg.writes)
    placed = [p.order for p in await repo.place([_command()] * 3, now)]
    # Orders after a route, each with one value its column cannot hold.
    routed = [o.apply(_steps()[0], now) for o in placed]
    too_long = replace(routed[0][0], tx_signature="s" * 150)
    too_large = replace(routed[2][0], amount_out=Decimal("1e19"))
    outcomes = await asyncio.gather(
        repo.record(placed[0], too_long, routed[0][1], owner=None, lease_until=now),
        repo.record(placed[1], *routed[1], owner=None, lease_until=now),
        repo.record(placed[2], too_large, routed[2][1], owner=None, lease_until=now),
        return_exceptions=True,
    )
    assert runs.sizes == [3]
    assert isinstance(outcomes[0], Exception)
    assert not isinstance(outcomes[1], BaseException)
    assert isinstance(outcomes[2], Exception)
    seqs = [[e.seq for e in await repo.events(o.id)] for o in placed]
    assert seqs == [[1], [1, 2], [1]]


async def test_of_two_owners_claiming_one_order_together_only_the_winner_gets_it(
    pg: Stores,
) -> None:
    now = utcnow()
    repo = pg.fast
    (placed,) = await repo.place([_command()], now)
    got = await asyncio.gather(
        repo.claim(placed.order.id, "w1", now, now + LEASE),
        repo.claim(placed.order.id, "w2", now, now + LEASE),
    )
    assert sum(o is not None for o in got) == 1
    winner = "w1" if got[0] is not None else "w2"
    loser = "w2" if winner == "w1" else "w1"
    assert await repo.renew(placed.order.id, winner, now + LEASE)
    assert not await repo.renew(placed.order.id, loser, now + LEASE)


async def test_a_claim_whose_caller_is_cancelled_mid_run_gives_the_lease_back(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    gate, started, written = asyncio.Event(), asyncio.Event(), asyncio.Event()
    claim_all = pg.writes.claim_all

    async def gated(claims: Any) -> Any:
        started.set()
        await gate.wait()
        rows = await claim_all(claims)
        written.set()
        return rows

    setattr(pg.writes, "claim_all", gated)  # noqa: B010 (a method wrapped on the instance)
    (placed,) = await repo.place([_command()], now)
    claiming = asyncio.ensure_future(repo.claim(placed.order.id, "w1", now, now + LEASE))
    await started.wait()
    claiming.cancel()
    gate.set()
    await asyncio.wait_for(written.wait(), 5)
    for _ in range(200):  # the claim is written, then its lease given back
        await asyncio.sleep(0.01)
        owner = await pg.pool.fetchval(
            'SELECT "lease_owner" FROM "orders" WHERE "id"=$1', placed.order.id
        )
        if owner is None and not pg.writes.giving_back:
            break
    assert claiming.cancelled()
    assert await repo.claim(placed.order.id, "w2", now, now + LEASE) is not None


async def test_the_statements_name_the_columns_and_types_the_migrations_made(pg: Stores) -> None:
    for table, types in (("orders", ORDER_TYPES), ("order_events", EVENT_TYPES)):
        rows = await pg.pool.fetch(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_name=$1 AND table_schema='public'",
            table,
        )
        migrated = {r["column_name"]: r["udt_name"] for r in rows}
        if table == "order_events":
            del migrated["id"]  # the database numbers events itself
        assert types == migrated, table
    assert set(ORDER_COLUMNS) == set(ORDER_TYPES)
    assert set(EVENT_COLUMNS) == set(EVENT_TYPES)


async def test_a_url_with_tortoises_pool_options_opens_the_store(pg: Stores) -> None:
    _, rest = pg.url.split("://", 1)
    dsn = f"asyncpg://{rest}?maxsize=3&minsize=1"
    assert asyncpg_dsn(dsn) == f"postgresql://{rest}"
    store = await open_postgres_store(dsn, pool_size=2)
    try:
        (placed,) = await store.place([_command()], utcnow())
        assert await pg.fast.get(placed.order.id) == placed.order
    finally:
        await store.close()


# -- statements that write several orders lock them in id order -------------------------------

_LOCK_ONE = 'SELECT 1 FROM "orders" WHERE "id"=$1 FOR UPDATE'


async def _until_a_lock_wait(pool: asyncpg.Pool) -> None:
    """Return once some session of this database waits for a lock (5 s at most)."""
    for _ in range(500):
        waiting = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname=current_database() AND wait_event_type='Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nothing waited for a lock")


async def _takes_rows_in_id_order(
    pg: Stores,
    ids: list[uuid.UUID],
    write: Callable[[list[uuid.UUID]], Coroutine[Any, Any, object]],
) -> None:
    """Hold the lowest id's row; the write, given the ids highest first, must wait there.

    Locking in id order it then holds no other row yet: another session takes the highest
    without waiting (NOWAIT). A write that took the highest first would make that fail.
    """
    low, high = min(ids), max(ids)
    # Rewritten highest first, the rows' live versions lie highest first in the table: a
    # plan that follows either the input or a scan of the table reaches the highest first.
    for order_id in sorted(ids, reverse=True):
        await pg.pool.execute('UPDATE "orders" SET "id"="id" WHERE "id"=$1', order_id)
    async with pg.pool.acquire() as conn, conn.transaction():
        await conn.execute(_LOCK_ONE, low)
        task = asyncio.create_task(write(sorted(ids, reverse=True)))
        await _until_a_lock_wait(pg.pool)
        await conn.execute(_LOCK_ONE + " NOWAIT", high)
    await asyncio.wait_for(task, 5)


async def test_a_batch_of_steps_locks_its_orders_in_id_order(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    runs = _CountingRuns(pg.writes)
    placed = {p.order.id: p.order for p in await repo.place([_command()] * 3, now)}

    async def steps_together(ids: list[uuid.UUID]) -> object:
        step = _steps()[0]
        return await asyncio.gather(
            *(take_step(repo, placed[i], step, owner=None, now=now, lease_until=now) for i in ids)
        )

    await _takes_rows_in_id_order(pg, list(placed), steps_together)
    assert runs.sizes == [3]
    for order_id in placed:
        order = await repo.get(order_id)
        assert order is not None
        assert (order.status, order.last_seq) == (OrderStatus.ROUTING, 2)


async def test_claims_made_together_lock_their_orders_in_id_order(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    sizes = _CountingRuns(pg.writes, claims=True).sizes
    ids = [p.order.id for p in await repo.place([_command()] * 3, now)]
    sizes.clear()

    async def claims_together(ordered: list[uuid.UUID]) -> object:
        return await asyncio.gather(*(repo.claim(i, "w1", now, now + LEASE) for i in ordered))

    await _takes_rows_in_id_order(pg, ids, claims_together)
    assert sizes == [3]
    for order_id in ids:
        assert await repo.renew(order_id, "w1", now + LEASE)


async def test_raising_trailing_bests_locks_the_stops_in_id_order(pg: Stores) -> None:
    now = utcnow()
    repo = pg.fast
    trailing = PlaceOrder(
        user_id="alice",
        type=OrderType.TRAILING_STOP,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(2),
        trail_bps=250,
    )
    placed = [p.order for p in await repo.place([trailing] * 3, now)]
    # Rested highest id first, the status index lists them so: a plan scanning it (as the
    # statement's did) reaches the highest first.
    for order in sorted(placed, key=lambda o: o.id, reverse=True):
        await take_step(
            repo, order, steps.Rested(message="waiting"), owner=None, now=now, lease_until=now
        )

    async def raise_bests(ids: list[uuid.UUID]) -> None:
        await repo.raise_trail_best([(i, Decimal("151.5")) for i in ids])

    await _takes_rows_in_id_order(pg, [o.id for o in placed], raise_bests)
    for order in placed:
        stored = await repo.get(order.id)
        assert stored is not None
        assert stored.trail_best == Decimal("151.5")


async def _resting_legs(repo: PostgresOrderStore, now: datetime) -> list[Order]:
    group_id = uuid.uuid4()
    legs = [
        replace(_command(), type=kind, trigger_price=Decimal(price), group_id=group_id)
        for kind, price in ((OrderType.STOP_LOSS, 140), (OrderType.TAKE_PROFIT, 170))
    ]
    placed = [p.order for p in await repo.place(legs, now)]
    rested = [
        (await take_step(repo, o, steps.Rested(message="w"), owner=None, now=now, lease_until=now))[
            0
        ]
        for o in placed
    ]
    return sorted(rested, key=lambda o: o.id)


def _firing(legs: list[Order], now: datetime) -> list[StepWrite]:
    low, high = legs
    fired, event = low.apply(steps.Fired(message="fired"), now)
    joined = cancel_sibling(high, low, now)
    assert joined is not None
    return [StepWrite(low, fired, event), joined]


async def test_a_joined_write_aborted_by_a_deadlock_runs_again(
    pg: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    # Postgres looks for a deadlock once, deadlock_timeout after a session starts waiting:
    # the joined write looks (after 3 s, time enough for the cycle to close however loaded
    # the machine), the other session would only after a minute.
    pool = await asyncpg.create_pool(
        asyncpg_dsn(pg.url), min_size=0, max_size=2, server_settings={"deadlock_timeout": "3s"}
    )
    repo = PostgresOrderStore(pool, writes=GroupCommit(pool))
    low, high = await _resting_legs(repo, now)
    try:
        with caplog.at_level(logging.WARNING, logger="models.postgres"):
            await _deadlock_once(pg, repo, low, high, now)
    finally:
        await repo.close()
    assert "DeadlockDetectedError" in caplog.text  # it was aborted once, and ran again
    statuses = [(await pg.fast.get(o.id)) for o in (low, high)]
    assert [o.status for o in statuses if o is not None] == [
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
    ]


async def _deadlock_once(
    pg: Stores, repo: PostgresOrderStore, low: Order, high: Order, now: datetime
) -> None:
    async with pg.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SET LOCAL deadlock_timeout='60s'")
            await conn.execute(_LOCK_ONE, high.id)
            task = asyncio.create_task(
                repo.record_joined(_firing([low, high], now), owner=None, lease_until=now)
            )
            await _until_a_lock_wait(pg.pool)  # it holds low, waits for high
            await conn.execute(_LOCK_ONE, low.id)  # a cycle: Postgres aborts the joined write
        await asyncio.wait_for(task, 15)  # run again once this session let go: it lands


@pytest.mark.parametrize("kind", ["postgres", "tortoise"])
async def test_a_joined_write_aborted_twice_is_a_transient_error(
    pg: Stores, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    now = utcnow()
    legs = await _resting_legs(pg.fast, now)
    repo: PostgresOrderStore | TortoiseOrderStore = pg.fast if kind == "postgres" else pg.orm
    runs = 0

    async def aborted(*args: object, **kwargs: object) -> None:
        nonlocal runs
        runs += 1
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    monkeypatch.setattr(repo, "_record_joined", aborted)
    with pytest.raises(TransientError):
        await repo.record_joined(_firing(legs, now), owner=None, lease_until=now)
    assert runs == 2
