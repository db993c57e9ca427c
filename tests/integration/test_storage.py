"""What is particular to the database stores: migrations, and a database that goes away.

The contract every store keeps (exact amounts, guards, leases, pages) is tested against all
of them in test_store_contract.py.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.context import require_context
from tortoise.migrations.autodetector import MigrationAutodetector

import migrations
from eterna.application.ports import OrderStore
from eterna.core.clock import utcnow
from eterna.domain.errors import StorageUnavailableError
from eterna.domain.orders import OrderType, PlaceOrder
from eterna.domain.tokens import SOL, USDC
from eterna.entrypoints.bootstrap import close_database, close_store, open_database, open_store
from eterna.entrypoints.config import Settings
from models.config import tortoise_config
from models.tortoise_store import TortoiseOrderStore

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
    conn = require_context().db()
    _, rows = await conn.execute_query("SELECT app, name FROM tortoise_migrations")
    on_disk = sorted(p.stem for p in Path(migrations.__file__).parent.glob("[0-9]*.py"))
    assert on_disk[0] == "0001_initial"
    assert [(r["app"], r["name"]) for r in rows] == [("models", name) for name in on_disk]


@pytest.mark.parametrize("kind", ["postgres", "tortoise"])
async def test_placement_while_the_database_is_down_is_refused_and_stores_nothing(
    tmp_path: Path, kind: str
) -> None:
    from tests.faults.harness import PrivatePostgres

    server = PrivatePostgres()
    await asyncio.to_thread(server.init)
    await asyncio.to_thread(server.start)
    store: OrderStore | None = None
    try:
        settings = Settings(database_url=server.url)
        await open_database(settings, run_migrations=True)
        store = await open_store(settings, observer=None) if kind == "postgres" else None
        repo = store if store is not None else TortoiseOrderStore()
        await asyncio.to_thread(server.stop)
        with pytest.raises(StorageUnavailableError):
            await repo.place([_order(coid="while-down")], utcnow())
        await asyncio.to_thread(server.start)
        await close_database()
        await open_database(settings, run_migrations=False)
        page = await repo.list_for_user("alice", first=10, after=None, status=None, order_type=None)
        assert page.orders == []
        (placed,) = await repo.place([_order(coid="while-down")], utcnow())
        assert placed.created
    finally:
        if store is not None:
            await close_store(store)
        await close_database()
        await asyncio.to_thread(server.stop)
        server.remove()
