"""The repository's hot statements on Postgres, without Tortoise's query builder.

Each is one prepared, parameterised statement through Tortoise's own connection, with the
same conversions (each value goes through its field's ``to_db_value``, each row through the
model's ``_init_from_db``) and Tortoise's exception translation. A step is a single
statement, a writable CTE that updates the order and inserts its event, so it commits or
fails as a whole in one round trip; a claim is one ``UPDATE ... RETURNING``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from eterna.adapters.events.codec import event_data
from eterna.core.background import Background
from eterna.domain.orders import PLACED_MESSAGE, TERMINAL_STATUSES, Order, OrderEvent, OrderStatus
from models.orders import OrderEventModel, OrderModel

log = logging.getLogger(__name__)

_FINISHED_SQL = ",".join(f"'{value}'" for value in sorted(s.value for s in TERMINAL_STATUSES))
# The event row of a step, after the order it belongs to: (column, Postgres type).
_EVENT_VALUES = (
    ("user_id", "varchar"),
    ("seq", "int4"),
    ("status", "varchar"),
    ("at", "timestamptz"),
    ("attempt", "int4"),
    ("message", "text"),
    ("data", "jsonb"),
    ("failure", "varchar"),
)
# A trailing stop's best price only rises: the comparison is in the statement, as numbers.
RAISE_TRAIL_SQL = (
    'UPDATE "orders" AS o SET "trail_best"=v.best '
    "FROM unnest($1::uuid[],$2::text[]) AS v(id,best) "
    'WHERE o."id"=v.id AND o."status"=\'WAITING\' '
    'AND (o."trail_best" IS NULL OR o."trail_best"::numeric < v.best::numeric)'
)
RENEW_SQL = 'UPDATE "orders" SET "lease_until"=$1 WHERE "id"=$2 AND "lease_owner"=$3'
RELEASE_SQL = (
    'UPDATE "orders" SET "lease_owner"=NULL,"lease_until"=NULL WHERE "id"=$1 AND "lease_owner"=$2'
)


class Statements:
    """Statements that name every column, built once the models are bound.

    Columns are known only after ``Tortoise.init`` (a foreign key adds its ``order_id``).
    Only column names from the models' metadata are spliced in; every value is a parameter.
    """

    def __init__(self) -> None:
        orders = ",".join(f'"{c}"' for c in sorted(OrderModel._meta.db_fields))
        events = ",".join(f'"{c}"' for c in sorted(OrderEventModel._meta.db_fields))
        self.claim = (
            'UPDATE "orders" SET "lease_owner"=$1,"lease_until"=$2 '  # noqa: S608
            f'WHERE "id"=$3 AND "status" NOT IN ({_FINISHED_SQL}) '
            'AND ("lease_until" IS NULL OR "lease_until"<$4 OR "lease_owner"=$1) '
            f"RETURNING {orders}"
        )
        # Many claims at once: one row of (id, owner, lease until, now) each.
        returned = ",".join(f'o."{c}"' for c in sorted(OrderModel._meta.db_fields))
        self.claims = (
            'WITH "c" AS (SELECT * FROM unnest($1::uuid[],$2::varchar[],$3::timestamptz[],'  # noqa: S608
            '$4::timestamptz[]) AS "c"("id","owner","until","now")) '
            'UPDATE "orders" AS o SET "lease_owner"=c."owner","lease_until"=c."until" '
            f'FROM "c" WHERE o."id"=c."id" AND o."status" NOT IN ({_FINISHED_SQL}) '
            'AND (o."lease_until" IS NULL OR o."lease_until"<c."now" '
            f'OR o."lease_owner"=c."owner") RETURNING {returned}'
        )
        self.get = f'SELECT {orders} FROM "orders" WHERE "id"=$1'  # noqa: S608
        self.updated_since = (
            f'SELECT {orders} FROM "orders" '  # noqa: S608
            'WHERE "user_id"=$1 AND "updated_at">=$2'
        )
        # Both arms use an index: ("user_id", "updated_at") and the primary key.
        self.changed_between = (
            'SELECT "id","user_id","last_seq","updated_at" FROM "orders" '
            'WHERE ("user_id"=ANY($1::varchar[]) OR "id"=ANY($2::uuid[])) '
            'AND "updated_at">=$3 AND "updated_at"<$4'
        )
        self.events = (
            f'SELECT {events} FROM "order_events" '  # noqa: S608
            'WHERE "order_id"=$1 AND "seq">$2 ORDER BY "seq"'
        )
        self.events_of_orders = (
            f'SELECT {events} FROM "order_events" '  # noqa: S608
            'WHERE "order_id"=ANY($1::uuid[]) ORDER BY "order_id","seq"'
        )
        self.placement_columns, self.placement = _placement_sql()


def _placement_sql() -> tuple[tuple[str, ...], str]:
    """Return the columns of an order row and the one statement that places a batch.

    The orders go in as one array per column (``unnest``), and the PENDING event of each
    is inserted from what that insert returned: one statement, atomic, one round trip,
    however large the batch.
    """
    columns = tuple(sorted(OrderModel._meta.db_fields))
    arrays = ",".join(f"${i}::{_sql_type(OrderModel, c)}[]" for i, c in enumerate(columns, start=1))
    n = len(columns)
    event_types = {c: _sql_type(OrderEventModel, c) for c in ("status", "message", "data")}
    names = ",".join(f'"{c}"' for c in columns)
    sql = (
        f'WITH "placed" AS (INSERT INTO "orders" ({names}) '  # noqa: S608
        f'SELECT * FROM unnest({arrays}) RETURNING "id","user_id","created_at") '
        'INSERT INTO "order_events" '
        '("order_id","user_id","seq","status","at","attempt","message","data") '
        f'SELECT "id","user_id",1,${n + 1}::{event_types["status"]},"created_at",0,'
        f'${n + 2}::{event_types["message"]},${n + 3}::{event_types["data"]} FROM "placed"'
    )
    return columns, sql


def _sql_type(model: type[OrderModel | OrderEventModel], column: str) -> str:
    """Return the Postgres type of a model's column, as Tortoise creates it."""
    return str(model._meta.fields_map[column].get_for_dialect("postgres", "SQL_TYPE"))


def placement_values(rows: Sequence[OrderModel]) -> list[Any]:
    """Return the parameters of the placement statement: one array per column, then the event.

    Every order's first event is PENDING with the placement message and no data.
    """
    columns = statements().placement_columns
    arrays = [[db_value(OrderModel, c, getattr(row, c)) for row in rows] for c in columns]
    first = {"status": OrderStatus.PENDING, "message": PLACED_MESSAGE, "data": {}}
    return [*arrays, *(db_value(OrderEventModel, c, v) for c, v in first.items())]


@functools.cache
def statements() -> Statements:
    """Return the statements (built on first use, after the models are bound)."""
    return Statements()


@functools.lru_cache(maxsize=256)
def apply_sql(columns: tuple[str, ...], *, guard_owner: bool) -> str:
    """Return the one statement of a step: update the guarded order, then insert its event.

    The event is inserted only for the row the UPDATE changed, so a lost guard inserts
    nothing, and a duplicate seq fails the whole statement (the UPDATE with it).
    """
    sets = ",".join(f'"{c}"=${i}' for i, c in enumerate(columns, start=1))
    n = len(columns)
    where = f'"id"=${n + 1} AND "last_seq"=${n + 2}'
    n += 2
    if guard_owner:
        where += f' AND "lease_owner"=${n + 1}'
        n += 1
    names = ",".join(f'"{c}"' for c, _ in _EVENT_VALUES)
    values = ",".join(f"${n + i}::{t}" for i, (_, t) in enumerate(_EVENT_VALUES, start=1))
    return (
        f'WITH "moved" AS (UPDATE "orders" SET {sets} WHERE {where} RETURNING "id") '  # noqa: S608
        f'INSERT INTO "order_events" ("order_id",{names}) SELECT "id",{values} FROM "moved" '
        'RETURNING "seq"'
    )


# Every step sets these columns of the order; the others only when it carries them.
STEP_COLUMNS = ("status", "last_seq", "updated_at", "attempts")
STEP_OPTIONAL_COLUMNS = (
    "lease_owner",
    "lease_until",
    "pending_tx",
    "route",
    "tx_signature",
    "amount_out",
    "executed_price",
    "failure_reason",
    "fired_at",
    "token_out_symbol",
    "token_out_decimals",
)

_STEP_SETTABLE = frozenset((*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS))
# A step on its way to Postgres: the order as its writer read it, the lease owner guarding
# the write (None: guarded by seq alone), the columns it sets and its event.
PendingStep = tuple[Order, str | None, Mapping[str, Any], OrderEvent]


@functools.cache
def steps_sql() -> str:
    """Return the one statement that persists many steps (of different orders) at once.

    Each step is a row of ``unnest``: its ordinal, the guard (order id, the ``last_seq`` its
    writer read, the lease owner or NULL), the columns it sets, a flag per optional column
    (unset columns keep their value) and its event. The event of a step is inserted only if
    its own guarded update matched, so a step that lost its guard writes nothing while the
    others commit; a duplicate seq fails the whole statement. The ordinals of the steps that
    were written come back.
    """
    inputs = [("n", "int4"), ("id", "uuid"), ("prev_seq", "int4"), ("owner", "varchar")]
    inputs += [
        (f"v_{c}", _sql_type(OrderModel, c)) for c in (*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS)
    ]
    inputs += [(f"k_{c}", "bool") for c in STEP_OPTIONAL_COLUMNS]
    inputs += [(f"e_{c}", t) for c, t in _EVENT_VALUES]
    arrays = ",".join(f"${i}::{t}[]" for i, (_, t) in enumerate(inputs, start=1))
    names = ",".join(f'"{name}"' for name, _ in inputs)
    sets = [f'"{c}"=s."v_{c}"' for c in STEP_COLUMNS]
    sets += [
        f'"{c}"=CASE WHEN s."k_{c}" THEN s."v_{c}" ELSE o."{c}" END' for c in STEP_OPTIONAL_COLUMNS
    ]
    event_columns = ",".join(f'"{c}"' for c, _ in _EVENT_VALUES)
    event_values = ",".join(f's."e_{c}"' for c, _ in _EVENT_VALUES)
    return (
        f'WITH "s" AS (SELECT * FROM unnest({arrays}) AS "s"({names})), '  # noqa: S608
        f'"moved" AS (UPDATE "orders" AS o SET {",".join(sets)} FROM "s" '
        'WHERE o."id"=s."id" AND o."last_seq"=s."prev_seq" '
        'AND (s."owner" IS NULL OR o."lease_owner"=s."owner") RETURNING s."n"), '
        f'"written" AS (INSERT INTO "order_events" ("order_id",{event_columns}) '
        f'SELECT s."id",{event_values} FROM "s" JOIN "moved" USING ("n") RETURNING 1) '
        'SELECT "n" FROM "moved"'
    )


def steps_values(steps: Sequence[PendingStep]) -> list[Any]:
    """Return the parameters of :func:`steps_sql`: one array per input column, a row a step."""
    for _, _, updates, _ in steps:
        if unknown := set(updates) - _STEP_SETTABLE:
            raise ValueError(f"a step cannot set {sorted(unknown)}")
    columns: list[list[Any]] = [
        list(range(len(steps))),
        [order.id for order, _, _, _ in steps],
        [order.last_seq for order, _, _, _ in steps],
        [owner for _, owner, _, _ in steps],
    ]
    columns += [
        [
            db_value(OrderModel, name, updates[name]) if name in updates else None
            for *_, updates, _ in steps
        ]
        for name in (*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS)
    ]
    columns += [[name in updates for *_, updates, _ in steps] for name in STEP_OPTIONAL_COLUMNS]
    events = [_event_row(order, event) for order, _, _, event in steps]
    columns += [
        [db_value(OrderEventModel, name, row[name]) for row in events] for name, _ in _EVENT_VALUES
    ]
    return columns


def _event_row(order: Order, event: OrderEvent) -> dict[str, Any]:
    return {
        "user_id": order.user_id,
        "seq": event.seq,
        "status": event.status,
        "at": event.at,
        "attempt": event.attempt,
        "message": event.message,
        "data": event_data(event),
        "failure": event.failure,
    }


def db_value(model: type[OrderModel | OrderEventModel], name: str, value: Any) -> Any:
    """Return value as Tortoise sends it for the field: validated, encoded.

    Tortoise's own queryset updates call ``to_db_value`` without an instance, as here.
    """
    return model._meta.fields_map[name].to_db_value(value, None)  # type: ignore[arg-type]


def step_values(
    order: Order, owner: str | None, updates: Mapping[str, Any], event: OrderEvent
) -> list[Any]:
    """Return the parameters of :func:`apply_sql` for a step, as Tortoise would send them."""
    values = [db_value(OrderModel, name, value) for name, value in updates.items()]
    values += [order.id, order.last_seq]
    if owner is not None:
        values.append(owner)
    raw = _event_row(order, event)
    values += [db_value(OrderEventModel, name, raw[name]) for name, _ in _EVENT_VALUES]
    return values


def postgres_client() -> BaseDBAsyncClient | None:
    """Return Tortoise's connection when it is asyncpg (the fast path), else None."""
    conn = OrderModel._meta.db
    if conn.capabilities.dialect != "postgres":
        return None
    return conn if type(conn).__module__.startswith("tortoise.backends.asyncpg") else None


# How long a writer keeps its connection after a statement, waiting for the next one.
HOLD_SECONDS = 0.05


class HeldConnection:
    """A pooled connection that a writer running one statement at a time keeps between them.

    Taking a connection from asyncpg's pool and handing it back costs more CPU than the
    statement (about 65 µs of the 130 µs of a one-row statement here, the hand-back running
    in a task of its own). A batch writer runs its statements one after another, so it keeps
    its connection while they follow each other closely, and gives it back once none came
    for ``hold_seconds``: an idle writer holds nothing.

    It is given back at once after any error; when the pool it came from was replaced
    (Tortoise initialised again), began to close, or expired its connections; and when the
    pool has no free connection left for anyone else. A pool that closes therefore waits
    for one statement at most, and the statement after it fails as any other would on a
    closing pool. A second statement arriving while one runs takes its own connection from
    the pool. Errors, also those of taking a connection, are translated as Tortoise
    translates them.
    """

    def __init__(self, hold_seconds: float = HOLD_SECONDS) -> None:
        self._hold = hold_seconds
        self._conn: Any = None
        self._pool: Any = None
        self._generation: Any = None
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_used = 0.0
        self._releasing = Background()

    def holding(self) -> bool:
        """Tell whether a connection is kept right now."""
        return self._conn is not None

    async def fetch(
        self, client: BaseDBAsyncClient, sql: str, values: Sequence[Any]
    ) -> list[dict[str, Any]]:
        """Run the statement on the kept connection (taking one first if needed)."""
        pool = getattr(client, "_pool", None)
        if self._conn is not None and not self._still_good(pool):
            self._give_back()
        if self._busy or pool is None or pool.is_closing():
            return await client.execute_query_dict(sql, list(values))
        self._busy = True
        try:
            rows = await client._translate_exceptions(  # type: ignore[attr-defined]
                self._run, pool, sql, values
            )
        except BaseException:
            self._give_back()
            raise
        finally:
            self._busy = False
        if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
            self._give_back()  # others may be waiting for a connection
        else:
            self._last_used = asyncio.get_running_loop().time()
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self._hold, self._check_idle)
        return [dict(row) for row in rows]

    async def _run(self, client: Any, pool: Any, sql: str, values: Sequence[Any]) -> Any:
        client.log.debug("%s: %s", sql, values)  # Tortoise's own statement log
        if self._conn is None:
            self._conn = await pool.acquire()
            self._pool = pool
            self._generation = getattr(pool, "_generation", None)
        return await self._conn.fetch(sql, *values)

    def _still_good(self, pool: Any) -> bool:
        return (
            self._pool is pool
            and not pool.is_closing()
            and getattr(pool, "_generation", None) == self._generation
            and not self._conn.is_closed()
        )

    def _check_idle(self) -> None:
        self._timer = None
        if self._conn is None or self._busy:
            return  # a statement running now arms the timer again when it is done
        loop = asyncio.get_running_loop()
        idle_for = loop.time() - self._last_used
        if idle_for < self._hold:
            self._timer = loop.call_later(self._hold - idle_for, self._check_idle)
            return
        self._give_back()

    def _give_back(self) -> None:
        """Hand the connection back to its pool (in a task: the pool's release is async)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        conn, pool, self._conn, self._pool = self._conn, self._pool, None, None
        if conn is None:
            return
        self._releasing.spawn(_release(pool, conn))


async def _release(pool: Any, conn: Any) -> None:
    try:
        await pool.release(conn)
    except Exception as exc:  # a broken connection is the pool's to replace
        log.warning("could not hand a connection back to the pool: %s", exc)
