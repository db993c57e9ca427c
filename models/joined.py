"""The joined write's one retry, shared by both database stores.

Every statement that writes several orders takes their locks in id order, so a joined write
(an OCO leg's firing with its sibling's cancel) should never deadlock with the engine's own
writes; a transaction from elsewhere may still make Postgres abort it. It then runs once
more, and is reported transient if aborted again (nothing was written either time).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from eterna.domain.errors import TransientError
from eterna.domain.groups import StepWrite

# How many times a joined write runs when Postgres aborts it (deadlock, serialization).
JOINED_TRIES = 2

log = logging.getLogger(__name__)


async def run_joined(write: Callable[[], Awaitable[None]], writes: Sequence[StepWrite]) -> None:
    """Run the joined write, once more if Postgres aborted it.

    :raises TransientError: when Postgres aborted it every time (nothing was written).
    """
    for attempt in range(JOINED_TRIES):
        try:
            await write()
        except asyncpg.TransactionRollbackError as exc:
            if attempt + 1 < JOINED_TRIES:
                log.warning(
                    "joined write aborted by Postgres (%s); running it again",
                    type(exc).__name__,
                )
                continue
            ids = [w.before.id for w in writes]
            raise TransientError(
                f"the joined write of orders {ids} was aborted ({type(exc).__name__}); "
                "nothing was written, retry"
            ) from exc
        return
