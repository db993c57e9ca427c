"""The repository on real SQLite and Postgres: migrations, exact amounts, guards."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

import migrations
from eterna.application.engine import utcnow
from eterna.application.ports import QueuedOrder, Step
from eterna.domain.errors import LeaseLostError, StorageUnavailableError
from eterna.domain.orders import OrderStatus, OrderType, PlaceOrder
from eterna.domain.state_machine import Trigger
from eterna.domain.tokens import BONK, SOL, USDC, format_amount
from eterna.entrypoints.bootstrap import close_database, open_database
from eterna.entrypoints.config import Settings
from models.config import tortoise_config
from models.repository import TortoiseOrderRepository

pytestmark = pytest.mark.anyio


def _order(user: str = "alice", amount: str = "1", coid: str | None = None) -> PlaceOrder:
    return PlaceOrder(
        user_id=user,
        type=OrderType.MARKET,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(amount),
        client_order_id=coid,
    )


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'x.sqlite3'}")
    await Tortoise.init(config=config)
    try:
        detector = MigrationAutodetector(Tortoise.apps, config["apps"])
        changes = await detector.changes()
    finally:
        await close_database()
    assert changes == [], "models changed: run `tortoise makemigrations` and commit the file"


async def test_migrations_create_the_tables(database: str) -> None:
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SELECT app, name FROM tortoise_migrations")
    on_disk = sorted(p.stem for p in Path(migrations.__file__).parent.glob("[0-9]*.py"))
    assert on_disk[0] == "0001_initial"
    assert [(r["app"], r["name"]) for r in rows] == [("models", name) for name in on_disk]


@pytest.mark.parametrize(
    ("token", "amount"),
    [(SOL, "123456789.123456789"), (SOL, "0.000000001"), (BONK, "98765432109876.54321")],
)
async def test_amounts_round_trip_exactly(database: str, token: object, amount: str) -> None:
    repo = TortoiseOrderRepository()
    cmd = PlaceOrder(
        user_id="alice",
        type=OrderType.MARKET,
        token_in=token,  # type: ignore[arg-type]
        token_out=USDC,
        amount_in=Decimal(amount),
    )
    (placed,) = await repo.place([cmd], utcnow())
    loaded = await repo.get(placed.order.id)
    assert loaded is not None
    assert loaded.amount_in == Decimal(amount)
    assert format_amount(loaded.amount_in) == amount

    price = Decimal("149.552984720981556149")
    now = utcnow()
    order, _ = await repo.apply(
        loaded, Step(Trigger.ROUTE, "r", 1), owner=None, now=now, lease_until=now
    )
    order, _ = await repo.apply(
        order, Step(Trigger.BUILD, "b", 1), owner=None, now=now, lease_until=now
    )
    order, _ = await repo.apply(
        order, Step(Trigger.SUBMIT, "s", 1), owner=None, now=now, lease_until=now
    )
    await repo.apply(
        order,
        Step(Trigger.CONFIRM, "c", 1, amount_out=Decimal("149.552985"), executed_price=price),
        owner=None,
        now=now,
        lease_until=now,
    )
    final = await repo.get(placed.order.id)
    assert final is not None
    assert final.executed_price == price
    assert final.amount_out == Decimal("149.552985")
    events = await repo.events(placed.order.id)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[-1].executed_price == price


async def test_concurrent_duplicate_client_order_ids_give_one_order(database: str) -> None:
    repo = TortoiseOrderRepository()
    now = utcnow()
    results = await asyncio.gather(
        *(repo.place([_order(coid="same")], now) for _ in range(8)), return_exceptions=True
    )
    orders = {r[0].order.id for r in results if isinstance(r, list)}
    assert len(orders) == 1, results
    assert sum(1 for r in results if isinstance(r, list) and r[0].created) == 1
    other = await repo.place([_order(user="bob", coid="same")], now)
    assert other[0].created
    assert other[0].order.id not in orders


async def test_repeat_inside_one_batch_returns_the_first(database: str) -> None:
    repo = TortoiseOrderRepository()
    placed = await repo.place(
        [_order(coid="k1"), _order(amount="2"), _order(coid="k1", amount="3")], utcnow()
    )
    assert placed[0].order.id == placed[2].order.id
    assert placed[2].created is False
    assert placed[0].order.amount_in == Decimal(1)


async def test_stale_writer_loses_and_history_does_not_fork(database: str) -> None:
    repo = TortoiseOrderRepository()
    (placed,) = await repo.place([_order()], utcnow())
    now = utcnow()
    await repo.apply(
        placed.order, Step(Trigger.ROUTE, "a", 1), owner=None, now=now, lease_until=now
    )
    with pytest.raises(LeaseLostError):
        await repo.apply(
            placed.order, Step(Trigger.CANCEL, "late", 0), owner=None, now=now, lease_until=now
        )
    events = await repo.events(placed.order.id)
    assert [(e.seq, e.status) for e in events] == [
        (1, OrderStatus.PENDING),
        (2, OrderStatus.ROUTING),
    ]


async def test_lease_is_exclusive_until_it_expires(database: str) -> None:
    repo = TortoiseOrderRepository()
    (placed,) = await repo.place([_order()], utcnow())
    now = utcnow()
    first = await repo.claim(placed.order.id, "w1", now, now + timedelta(seconds=30))
    assert first is not None
    assert await repo.claim(placed.order.id, "w2", now, now + timedelta(seconds=30)) is None
    with pytest.raises(LeaseLostError):
        await repo.apply(
            first, Step(Trigger.ROUTE, "w2 writes", 1), owner="w2", now=now, lease_until=now
        )
    later = now + timedelta(seconds=31)
    assert await repo.claim(placed.order.id, "w2", later, later + timedelta(seconds=30))


async def test_stuck_orders_are_found_only_when_unleased_and_idle(database: str) -> None:
    repo = TortoiseOrderRepository()
    t0 = utcnow()
    (idle,) = await repo.place([_order()], t0 - timedelta(minutes=5))
    (fresh,) = await repo.place([_order()], t0)
    (leased,) = await repo.place([_order()], t0 - timedelta(minutes=5))
    await repo.claim(leased.order.id, "w1", t0, t0 + timedelta(seconds=30))
    stuck = await repo.stuck_orders(t0, t0 - timedelta(seconds=60), 100)
    assert stuck == [QueuedOrder(idle.order.id, idle.order.user_id)]
    assert uuid.UUID(str(fresh.order.id)) not in stuck


async def test_placement_while_the_database_is_down_is_refused_and_stores_nothing(
    tmp_path: Path,
) -> None:
    from tests.faults.harness import PrivatePostgres

    server = PrivatePostgres()
    await asyncio.to_thread(server.init)
    await asyncio.to_thread(server.start)
    try:
        await open_database(Settings(database_url=server.url), run_migrations=True)
        repo = TortoiseOrderRepository()
        await asyncio.to_thread(server.stop)
        with pytest.raises(StorageUnavailableError):
            await repo.place([_order(coid="while-down")], utcnow())
        await asyncio.to_thread(server.start)
        await close_database()
        await open_database(Settings(database_url=server.url), run_migrations=False)
        page = await repo.list_for_user("alice", first=10, after=None, status=None, order_type=None)
        assert page.orders == []
    finally:
        await close_database()
        await asyncio.to_thread(server.stop)
        server.remove()
