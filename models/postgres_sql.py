"""The Postgres store's statements, written against the migrated schema, and their values.

Column names and types are those the migrations create (``tests/integration/
test_postgres_store.py`` compares them with the migrated tables). Types are cast unbounded
(``varchar``, ``numeric``): a value its column cannot hold then fails on assignment, where
an explicit cast to ``varchar(n)`` would cut it short in silence. Every value is a
parameter; only these constant names are spliced into the text.

A step is one statement, a writable CTE that updates the guarded order and inserts its
event, so it commits or fails whole in one round trip; many steps, many claims and a batch
of placements are each one statement over ``unnest`` of one array per column.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from eterna.domain.orders import TERMINAL_STATUSES
from models.rows import EVENT_COLUMNS, ORDER_COLUMNS, STEP_COLUMNS, STEP_OPTIONAL_COLUMNS

# The Postgres type of every column a statement writes (as the migrations make them).
ORDER_TYPES: Mapping[str, str] = {
    "id": "uuid",
    "user_id": "varchar",
    "client_order_id": "varchar",
    "type": "varchar",
    "status": "varchar",
    "token_in_mint": "varchar",
    "token_in_symbol": "varchar",
    "token_in_decimals": "int2",
    "token_out_mint": "varchar",
    "token_out_symbol": "varchar",
    "token_out_decimals": "int2",
    "amount_in": "numeric",
    "slippage_bps": "int4",
    "limit_price": "varchar",
    "min_liquidity": "numeric",
    "max_price_impact_bps": "int4",
    "trigger_price": "varchar",
    "trail_bps": "int4",
    "trail_best": "varchar",
    "fired_at": "timestamptz",
    "group_id": "uuid",
    "max_slippage_bps": "int4",
    "simulated": "bool",
    "min_fill": "numeric",
    "filled_in": "numeric",
    "fills": "jsonb",
    "expires_at": "timestamptz",
    "twap_slices": "int4",
    "twap_duration_seconds": "int4",
    "twap_jitter_bps": "int4",
    "twap_next_slice": "int4",
    "twap_next_at": "timestamptz",
    "twap_reported": "int4",
    "parent_id": "uuid",
    "slice_index": "int4",
    "attempts": "int4",
    "last_seq": "int4",
    "route": "jsonb",
    "pending_tx": "jsonb",
    "amount_out": "numeric",
    "executed_price": "varchar",
    "tx_signature": "varchar",
    "failure_reason": "text",
    "lease_owner": "varchar",
    "lease_until": "timestamptz",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
EVENT_TYPES: Mapping[str, str] = {
    "order_id": "uuid",
    "user_id": "varchar",
    "seq": "int4",
    "status": "varchar",
    "at": "timestamptz",
    "attempt": "int4",
    "message": "text",
    "data": "jsonb",
    "failure": "varchar",
}


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


# How a column's value is sent when asyncpg cannot take it as it is: JSON as its text (the
# driver's jsonb codec takes text), enums by value. Every other column goes as it is.
_ENCODERS = {
    "route": _json_text,
    "pending_tx": _json_text,
    "fills": _json_text,
    "data": _json_text,
    "type": _enum_value,
    "status": _enum_value,
    "failure": _enum_value,
}


def encode(column: str, value: Any) -> Any:
    """Return a column's value as asyncpg sends it."""
    encoder = _ENCODERS.get(column)
    return value if encoder is None or value is None else encoder(value)


def encode_all(column: str, values: Iterable[Any]) -> list[Any]:
    """Return a column's values as asyncpg sends them (one array of a batch statement)."""
    encoder = _ENCODERS.get(column)
    if encoder is None:
        return list(values)
    return [None if v is None else encoder(v) for v in values]


def _names(columns: Sequence[str], prefix: str = "") -> str:
    return ",".join(f'{prefix}"{c}"' for c in columns)


_FINISHED = ",".join(f"'{s.value}'" for s in sorted(TERMINAL_STATUSES, key=lambda s: s.value))
_ORDERS = _names(ORDER_COLUMNS)
_EVENTS = _names(EVENT_COLUMNS)

GET = f'SELECT {_ORDERS} FROM "orders" WHERE "id"=$1'  # noqa: S608
BY_KEYS = (
    f'SELECT {_ORDERS} FROM "orders" WHERE ("user_id","client_order_id") IN '  # noqa: S608
    "(SELECT * FROM unnest($1::varchar[],$2::varchar[]))"
)
BY_CLIENT_IDS = (
    f'SELECT {_ORDERS} FROM "orders" '  # noqa: S608
    'WHERE "user_id"=$1 AND "client_order_id"=ANY($2::varchar[])'
)
OPEN_COUNTS = (
    'SELECT "status","type",count(*) AS "n" FROM "orders" '  # noqa: S608
    f'WHERE "user_id"=$1 AND "status" NOT IN ({_FINISHED}) GROUP BY "status","type"'
)
UPDATED_SINCE = f'SELECT {_ORDERS} FROM "orders" WHERE "user_id"=$1 AND "updated_at">=$2'  # noqa: S608
# Both arms use an index: ("user_id", "updated_at") and the primary key.
CHANGED_BETWEEN = (
    'SELECT "id","user_id","last_seq","updated_at" FROM "orders" '
    'WHERE ("user_id"=ANY($1::varchar[]) OR "id"=ANY($2::uuid[])) '
    'AND "updated_at">=$3 AND "updated_at"<$4'
)
ACTIVE_TWAPS = (
    f'SELECT {_ORDERS} FROM "orders" '  # noqa: S608
    "WHERE \"type\"='TWAP' AND \"status\" IN ('PENDING','WAITING')"
)
CHILDREN = (
    f'SELECT {_ORDERS} FROM "orders" '  # noqa: S608
    'WHERE "parent_id"=ANY($1::uuid[]) ORDER BY "parent_id","slice_index"'
)
RESTING = f'SELECT {_ORDERS} FROM "orders" WHERE "status"=\'WAITING\''  # noqa: S608
RESTING_SINCE = f'{RESTING} AND "updated_at">=$1'
STUCK = (
    'SELECT "id","user_id" FROM "orders" '  # noqa: S608
    f"WHERE \"status\" NOT IN ({_FINISHED},'WAITING') "
    'AND ("lease_until" IS NULL OR "lease_until"<$1) AND "updated_at"<$2 '
    'ORDER BY "updated_at" LIMIT $3'
)
# The legs of an OCO group (index group_id), in a stable order.
GROUP = f'SELECT {_ORDERS} FROM "orders" WHERE "group_id"=$1 ORDER BY "created_at","id"'  # noqa: S608
# Joined steps lock their orders first, in id order: two of them over the same orders queue
# behind each other instead of deadlocking.
LOCK = 'SELECT "id" FROM "orders" WHERE "id"=ANY($1::uuid[]) ORDER BY "id" FOR UPDATE'
EVENTS = (
    f'SELECT {_EVENTS} FROM "order_events" '  # noqa: S608
    'WHERE "order_id"=$1 AND "seq">$2 ORDER BY "seq"'
)
# The owner's check and the history in one read: the order's row comes out once even when
# no event follows after_seq (its event columns then NULL).
OWNED_EVENTS = (
    "SELECT " + ",".join(f'"e"."{c}"' for c in EVENT_COLUMNS) + ' FROM "orders" "o" '  # noqa: S608
    'LEFT JOIN "order_events" "e" ON "e"."order_id"="o"."id" AND "e"."seq">$3 '
    'WHERE "o"."id"=$1 AND "o"."user_id"=$2 ORDER BY "e"."seq"'
)
EVENTS_OF_ORDERS = (
    f'SELECT {_EVENTS} FROM "order_events" '  # noqa: S608
    'WHERE "order_id"=ANY($1::uuid[]) ORDER BY "order_id","seq"'
)
RENEW = 'UPDATE "orders" SET "lease_until"=$1 WHERE "id"=$2 AND "lease_owner"=$3'
RELEASE = (
    'UPDATE "orders" SET "lease_owner"=NULL,"lease_until"=NULL WHERE "id"=$1 AND "lease_owner"=$2'
)


def _locked_in_id_order(name: str, source: str, where: str = "") -> str:
    """Return a CTE ``name`` that locks the orders whose ids CTE ``source`` lists, in id order.

    A statement that updates several orders joins this CTE, so it takes their row locks in
    id order (the lock is taken as each row leaves the sort), whatever plan the update
    gets: the order :data:`LOCK` (a joined write) takes them in. Two such writes sharing
    orders then wait for each other instead of deadlocking.
    """
    return (
        f'"{name}" AS MATERIALIZED (SELECT o."id" FROM "orders" AS o '  # noqa: S608
        f'WHERE o."id" IN (SELECT "id" FROM "{source}"){where} ORDER BY o."id" FOR UPDATE)'
    )


# A trailing stop's best price only rises: the comparison is in the statement, as numbers
# (the column is text, so "99.9" would sort above "150"). Not tied to last_seq: a best price
# is no step of the order, and two watchers overlapping can only raise it. Rows are locked
# in id order first.
RAISE_TRAIL_BEST = (
    'WITH "v" AS (SELECT * FROM unnest($1::uuid[],$2::varchar[]) AS v("id","best")), '  # noqa: S608
    + _locked_in_id_order("l", "v", " AND o.\"status\"='WAITING'")
    + ' UPDATE "orders" AS o SET "trail_best"=v."best" '
    'FROM "v" JOIN "l" USING ("id") '
    'WHERE o."id"=v."id" AND o."status"=\'WAITING\' '
    'AND (o."trail_best" IS NULL OR o."trail_best"::numeric<v."best"::numeric)'
)
CLAIM = (
    'UPDATE "orders" SET "lease_owner"=$1,"lease_until"=$2 '  # noqa: S608
    f'WHERE "id"=$3 AND "status" NOT IN ({_FINISHED}) '
    'AND ("lease_until" IS NULL OR "lease_until"<$4 OR "lease_owner"=$1) '
    f"RETURNING {_ORDERS}"
)
# Many claims at once: one row of (id, owner, lease until, now) each. One order claimed
# twice in a batch is updated once: only the claim whose owner the row names has won it.
# Rows are locked in id order first.
CLAIMS = (
    'WITH "c" AS (SELECT * FROM unnest($1::uuid[],$2::varchar[],$3::timestamptz[],'  # noqa: S608
    '$4::timestamptz[]) AS "c"("id","owner","until","now")), '
    + _locked_in_id_order("l", "c", f' AND o."status" NOT IN ({_FINISHED})')
    + ' UPDATE "orders" AS o SET "lease_owner"=c."owner","lease_until"=c."until" '  # noqa: S608
    f'FROM "c" JOIN "l" USING ("id") WHERE o."id"=c."id" AND o."status" NOT IN ({_FINISHED}) '
    'AND (o."lease_until" IS NULL OR o."lease_until"<c."now" '
    f'OR o."lease_owner"=c."owner") RETURNING {_names(ORDER_COLUMNS, "o.")}'
)


def _arrays(types: Sequence[str], start: int = 1) -> str:
    return ",".join(f"${i}::{t}[]" for i, t in enumerate(types, start=start))


def _placement() -> str:
    """Return the statement that places a batch: the orders, then each one's seq-1 event.

    Each event is inserted only with its order (joined on what the insert returned), and
    the whole is one statement: all or none, one round trip, however large the batch.
    """
    n = len(ORDER_COLUMNS)
    orders = _arrays([ORDER_TYPES[c] for c in ORDER_COLUMNS])
    events = _arrays([EVENT_TYPES[c] for c in EVENT_COLUMNS], start=n + 1)
    return (
        f'WITH "placed" AS (INSERT INTO "orders" ({_ORDERS}) '  # noqa: S608
        f'SELECT * FROM unnest({orders}) RETURNING "id"), '
        f'"e" AS (SELECT * FROM unnest({events}) AS "e"({_EVENTS})) '
        f'INSERT INTO "order_events" ({_EVENTS}) '
        f'SELECT {_names(EVENT_COLUMNS, "e.")} FROM "e" JOIN "placed" ON "placed"."id"=e."order_id"'
    )


PLACEMENT = _placement()


def placement_values(
    orders: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[list[Any]]:
    """Return the parameters of :data:`PLACEMENT`: one array per column of each table."""
    values = [encode_all(c, (row[c] for row in orders)) for c in ORDER_COLUMNS]
    values += [encode_all(c, (row[c] for row in events)) for c in EVENT_COLUMNS]
    return values


_SETTABLE = frozenset((*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS))
_EVENT_VALUES = EVENT_COLUMNS[1:]  # the order's id comes from the guarded update


@functools.lru_cache(maxsize=256)
def step_sql(columns: tuple[str, ...], *, guard_owner: bool) -> str:
    """Return the one statement of a step: update the guarded order, then insert its event.

    The event is inserted only for the row the UPDATE changed, so a lost guard inserts
    nothing (and returns no row), and a duplicate seq fails the whole statement.
    """
    if unknown := set(columns) - _SETTABLE:
        raise ValueError(f"a step cannot set {sorted(unknown)}")
    sets = ",".join(f'"{c}"=${i}::{ORDER_TYPES[c]}' for i, c in enumerate(columns, start=1))
    n = len(columns)
    where = f'"id"=${n + 1} AND "last_seq"=${n + 2}'
    n += 2
    if guard_owner:
        where += f' AND "lease_owner"=${n + 1}'
        n += 1
    values = ",".join(f"${n + i}::{EVENT_TYPES[c]}" for i, c in enumerate(_EVENT_VALUES, start=1))
    return (
        f'WITH "moved" AS (UPDATE "orders" SET {sets} WHERE {where} RETURNING "id") '  # noqa: S608
        f'INSERT INTO "order_events" ("order_id",{_names(_EVENT_VALUES)}) '
        f'SELECT "id",{values} FROM "moved" RETURNING "seq"'
    )


def step_values(
    order_id: Any,
    last_seq: int,
    owner: str | None,
    sets: Mapping[str, Any],
    event: Mapping[str, Any],
) -> list[Any]:
    """Return the parameters of :func:`step_sql` for one step."""
    values = [encode(c, v) for c, v in sets.items()]
    values += [order_id, last_seq]
    if owner is not None:
        values.append(owner)
    values += [encode(c, event[c]) for c in _EVENT_VALUES]
    return values


def _steps_sql() -> str:
    """Return the one statement that persists many steps (of different orders) at once.

    Each step is a row of ``unnest``: its ordinal, the guard (order id, the ``last_seq`` its
    writer read, the lease owner or NULL), the columns it sets, a flag per optional column
    (unset columns keep their value) and its event. The event of a step is inserted only if
    its own guarded update matched, so a step that lost its guard writes nothing while the
    others commit; a duplicate seq fails the whole statement. The ordinals of the steps that
    were written come back. The orders' rows are locked in id order first.
    """
    inputs = [("n", "int4"), ("id", "uuid"), ("prev_seq", "int4"), ("owner", "varchar")]
    inputs += [(f"v_{c}", ORDER_TYPES[c]) for c in (*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS)]
    inputs += [(f"k_{c}", "bool") for c in STEP_OPTIONAL_COLUMNS]
    inputs += [(f"e_{c}", EVENT_TYPES[c]) for c in _EVENT_VALUES]
    sets = [f'"{c}"=s."v_{c}"' for c in STEP_COLUMNS]
    sets += [
        f'"{c}"=CASE WHEN s."k_{c}" THEN s."v_{c}" ELSE o."{c}" END' for c in STEP_OPTIONAL_COLUMNS
    ]
    return (
        f'WITH "s" AS (SELECT * FROM unnest({_arrays([t for _, t in inputs])}) '  # noqa: S608
        f'AS "s"({_names([name for name, _ in inputs])})), '
        f"{_locked_in_id_order('l', 's')}, "
        f'"moved" AS (UPDATE "orders" AS o SET {",".join(sets)} FROM "s" JOIN "l" USING ("id") '
        'WHERE o."id"=s."id" AND o."last_seq"=s."prev_seq" '
        'AND (s."owner" IS NULL OR o."lease_owner"=s."owner") RETURNING s."n"), '
        f'"written" AS (INSERT INTO "order_events" ("order_id",{_names(_EVENT_VALUES)}) '
        f'SELECT s."id",{_names([f"e_{c}" for c in _EVENT_VALUES], "s.")} '
        'FROM "s" JOIN "moved" USING ("n") RETURNING 1) '
        'SELECT "n" FROM "moved"'
    )


STEPS = _steps_sql()


def steps_values(
    steps: Sequence[tuple[Any, int, str | None, Mapping[str, Any], Mapping[str, Any]]],
) -> list[list[Any]]:
    """Return the parameters of :data:`STEPS`: one array per input column, a row a step.

    Each step is (order id, the seq its writer read, owner or None, columns set, event row).
    """
    for *_, sets, _ in steps:
        if unknown := set(sets) - _SETTABLE:
            raise ValueError(f"a step cannot set {sorted(unknown)}")
    columns: list[list[Any]] = [
        list(range(len(steps))),
        [order_id for order_id, *_ in steps],
        [seq for _, seq, *_ in steps],
        [owner for _, _, owner, *_ in steps],
    ]
    columns += [
        encode_all(c, (sets.get(c) for *_, sets, _ in steps))
        for c in (*STEP_COLUMNS, *STEP_OPTIONAL_COLUMNS)
    ]
    columns += [[c in sets for *_, sets, _ in steps] for c in STEP_OPTIONAL_COLUMNS]
    columns += [encode_all(c, (event[c] for *_, event in steps)) for c in _EVENT_VALUES]
    return columns
