"""The writes that carry orders on Postgres, plain or grouped: placing, claiming, stepping.

:class:`PostgresOrderStore <models.postgres.PostgresOrderStore>` hands these three writes to
a :class:`HotWrites`; it never knows how they reach the database. :class:`DirectWrites` runs
each in its own statement on a pooled connection. :class:`GroupCommit` is the speed layer
(docs/decisions/0014-group-commit-and-held-connections.md): steps of different orders that
finish together share one statement, and so do claims of orders a worker takes up together
(:class:`eterna.core.coalesce.Coalescer`), each row under its own guards; each of the three
writers keeps its connection between statements
(:class:`models.held_connection.HeldConnection`). Both answer exactly alike, which
``tests/integration/test_store_contract.py`` checks by running on both.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from eterna.core.background import Background
from eterna.core.coalesce import Coalescer
from models.held_connection import HeldConnection
from models.postgres_sql import (
    CLAIM,
    CLAIMS,
    PLACEMENT,
    RELEASE,
    STEPS,
    step_sql,
    step_values,
    steps_values,
)

log = logging.getLogger(__name__)

# A step on its way: the order's id, the last_seq its writer read, the lease owner guarding
# the write (None: guarded by seq alone), the columns it sets and its event's row.
PendingStep = tuple[uuid.UUID, int, str | None, Mapping[str, Any], Mapping[str, Any]]
# A claim on its way: order id, owner, now, lease until.
Claim = tuple[uuid.UUID, str, datetime, datetime]
# Errors that say the database was not reached (or the answer was lost), not what is wrong
# with one step of a batch.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
)
# Turns of the event loop a batch of steps, and of claims, waits for more to join. Measured
# end to end (3,000 orders): 0 and 0 gave claims of 1.9 on average and 259 orders/s; 3 and
# 10 gave 6 claims and 17 steps a statement, and 318-348 orders/s.
STEP_LINGER = 3
CLAIM_LINGER = 10


class HotWrites(Protocol):
    """How the Postgres store's placements, claims and steps reach the database."""

    async def place(self, values: Sequence[Any]) -> None:
        """Run the placement statement with these values (all or none)."""
        ...

    async def claim(self, claim: Claim) -> asyncpg.Record | None:
        """Take the lease if free, expired or the owner's, on an unfinished order; its row."""
        ...

    async def step(self, step: PendingStep) -> bool:
        """Write the step if its guard holds; tell whether it did."""
        ...

    async def close(self) -> None:
        """Give back every connection kept."""
        ...


class DirectWrites:
    """Each write in its own statement, on a connection from the pool for that statement."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._connections = pool

    async def place(self, values: Sequence[Any]) -> None:
        """Run the placement statement."""
        await self._connections.execute(PLACEMENT, *values)

    async def claim(self, claim: Claim) -> asyncpg.Record | None:
        """Run one claim."""
        order_id, owner, now, until = claim
        row: asyncpg.Record | None = await self._connections.fetchrow(
            CLAIM, owner, until, order_id, now
        )
        return row

    async def step(self, step: PendingStep) -> bool:
        """Run one step."""
        return await _write_step(self._fetch, step)

    async def _fetch(self, sql: str, values: Sequence[Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._connections.fetch(sql, *values)
        return rows

    async def close(self) -> None:
        """Nothing is kept."""


class GroupCommit:
    """Steps and claims made together share a statement; writers keep their connections."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        step_linger: int = STEP_LINGER,
        claim_linger: int = CLAIM_LINGER,
    ) -> None:
        """Batch steps and claims after waiting the given turns of the loop for more."""
        self._connections = pool
        self._step_conn = HeldConnection(pool)
        self._claim_conn = HeldConnection(pool)
        self._place_conn = HeldConnection(pool)
        # Claims trickle in as the queue hands out messages one task at a time: they wait a
        # few more turns of the loop than steps.
        self._steps: Coalescer[PendingStep, bool] = Coalescer(
            self._run_steps, name="steps", linger=step_linger
        )
        self._claims: Coalescer[Claim, asyncpg.Record | None] = Coalescer(
            self._run_claims,
            name="claims",
            linger=claim_linger,
            abandoned=self._give_back,
        )
        self.giving_back = Background()

    async def place(self, values: Sequence[Any]) -> None:
        """Run the placement statement on the placement writer's connection."""
        await self._place_conn.fetch(PLACEMENT, values)

    async def claim(self, claim: Claim) -> asyncpg.Record | None:
        """Claim with whatever other claims are made at the same moment."""
        return await self._claims.submit(claim)

    async def step(self, step: PendingStep) -> bool:
        """Write the step with whatever other steps finish at the same moment."""
        return await self._steps.submit(step)

    async def close(self) -> None:
        """Give back the leases of abandoned claims, then every kept connection."""
        await self.giving_back.settle(5.0)
        for held in (self._step_conn, self._claim_conn, self._place_conn):
            await held.close()

    async def _run_steps(self, steps: Sequence[PendingStep]) -> list[bool | BaseException]:
        # Looked up at each run, so that a test may wrap write_steps to see the batches.
        return await self.write_steps(steps)

    async def _run_claims(self, claims: Sequence[Claim]) -> list[asyncpg.Record | None]:
        return await self.claim_all(claims)

    async def write_steps(self, steps: Sequence[PendingStep]) -> list[bool | BaseException]:
        """Write the steps (each guarded on its own); tell for each whether it was written."""
        held = self._step_conn
        if len(steps) == 1:
            return [await _write_step(held.fetch, steps[0])]
        try:
            rows = await held.fetch(STEPS, steps_values(steps))
        except UNREACHABLE:
            raise  # every step of the batch shares the connection's fate, as it would alone
        except Exception:  # find the step at fault, write the others
            # One step failed the whole statement (a duplicate seq, a value its column cannot
            # hold): write each step alone, so that only the step at fault fails.
            outcomes: list[bool | BaseException] = []
            for step in steps:
                try:
                    outcomes.append(await _write_step(held.fetch, step))
                except Exception as exc:  # the outcome of that step alone
                    outcomes.append(exc)
            return outcomes
        written = {row["n"] for row in rows}
        return [n in written for n in range(len(steps))]

    async def claim_all(self, claims: Sequence[Claim]) -> list[asyncpg.Record | None]:
        """Take each lease that is free, expired or its owner's; return each order's row."""
        if len(claims) == 1:
            ((order_id, owner, now, until),) = claims
            rows = await self._claim_conn.fetch(CLAIM, (owner, until, order_id, now))
            return [rows[0] if rows else None]
        columns = [[c[i] for c in claims] for i in (0, 1, 3, 2)]  # id, owner, until, now
        rows = await self._claim_conn.fetch(CLAIMS, columns)
        by_id = {row["id"]: row for row in rows}
        won = [by_id.get(order_id) for order_id, *_ in claims]
        # One order claimed twice in a batch is updated once: the owner the row names won.
        return [
            row if row is not None and row["lease_owner"] == owner else None
            for row, (_, owner, _, _) in zip(won, claims, strict=True)
        ]

    def _give_back(self, claim: Claim, row: asyncpg.Record | None) -> None:
        """Release a lease taken for a claimer that was cancelled while its claim ran.

        Nobody will run the order; left alone, its lease would hold it for the whole lease
        time before another worker could take it.
        """
        if row is not None:
            order_id, owner, _, _ = claim
            self.giving_back.spawn(self._release_quietly(order_id, owner))

    async def _release_quietly(self, order_id: uuid.UUID, owner: str) -> None:
        try:
            await self._connections.execute(RELEASE, order_id, owner)
        except Exception as exc:  # the lease then simply expires
            log.warning("could not give back the lease of order %s: %s", order_id, exc)


# Runs a statement with its values; answers its rows.
_Fetch = Callable[[str, Sequence[Any]], Awaitable[list[asyncpg.Record]]]


async def _write_step(fetch: _Fetch, step: PendingStep) -> bool:
    """Write one step in its own statement; tell whether its guard held."""
    order_id, last_seq, owner, sets, event = step
    sql = step_sql(tuple(sets), guard_owner=owner is not None)
    return bool(await fetch(sql, step_values(order_id, last_seq, owner, sets, event)))
