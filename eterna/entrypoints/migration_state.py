"""Whether the database has every migration: a database never migrated is said plainly.

In the distributed mode migrations are a release step (``eterna migrate``), so an API or a
worker may start on a database without Eterna's tables. That looked like an outage:
``/health`` said the database was ok and placement answered UNAVAILABLE ... retry, with
nothing logged. A process now checks at start, logs one line with the fix, and ``/health``
reports it until the migrations are applied (checked again on each call meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tortoise.context import require_context
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.migrations.executor import MigrationExecutor

log = logging.getLogger("eterna")

NOT_MIGRATED = "database not migrated: run `eterna migrate`"


class MigrationState:
    """The migrations the database still lacks, as last checked; the fix logged once."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        self._apps = dict(apps)
        self.pending: tuple[str, ...] = ()
        self._said = False

    async def check(self) -> tuple[str, ...]:
        """Check again; log the fix the first time migrations are found missing.

        A database that does not answer leaves the last answer as it was: that is an
        outage, which /health reports on its own, not a missing migration.
        """
        connection = require_context().db()
        try:
            await connection.execute_query("SELECT 1")
        except (DBConnectionError, OperationalError, OSError):
            return self.pending
        steps = await MigrationExecutor(connection, self._apps).plan()
        self.pending = tuple(
            f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward
        )
        if self.pending and not self._said:
            log.error(
                "%s (%d migration(s) pending, up to %s)",
                NOT_MIGRATED,
                len(self.pending),
                self.pending[-1],
            )
        self._said = bool(self.pending)
        return self.pending
