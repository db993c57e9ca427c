"""What an administrator may do, each action audited.

Pause and resume trading, cancel a user's open orders, read any order and the audit trail.

The role is checked where the request arrives (the GraphQL resolvers refuse FORBIDDEN);
this service trusts its callers and records who they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eterna.application.audit import (
    CANCELLED_USER_ORDERS,
    PAUSED,
    READ_ORDER,
    RESUMED,
    AuditEntry,
    Caller,
)
from eterna.application.pauses import ALL, TradingPauses, pair_key
from eterna.application.ports import OrderCursor, ServiceStore
from eterna.application.service import OrderService, parse_order_id
from eterna.domain.errors import RejectedError, RejectionCode
from eterna.domain.orders import Order, OrderStatus
from eterna.domain.tokens import Token, TokenRegistry

# Orders read per page while cancelling a user's open orders.
PAGE = 200
MAX_AUDIT_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class Pause:
    """A pause in force: all trading, or a pair (both directions)."""

    key: str
    label: str


class AdminService:
    """Administrators' operations over the order service, its store and the pauses."""

    def __init__(
        self,
        service: OrderService,
        repo: ServiceStore,
        pauses: TradingPauses,
        tokens: TokenRegistry,
        clock: Callable[[], datetime],
    ) -> None:
        self._service = service
        self._repo = repo
        self._pauses = pauses
        self._tokens = tokens
        self._clock = clock

    async def pauses(self) -> list[Pause]:
        """Return the pauses in force."""
        paused = await self._pauses.paused()
        return sorted((Pause(k, self._label(k)) for k in paused), key=lambda p: p.label)

    async def pause(self, caller: Caller, pair: str | None) -> list[Pause]:
        """Pause all trading (``pair`` None) or one pair; return the pauses in force."""
        key = self._key(pair)
        await self._pauses.pause(key)
        await self._audit(caller, PAUSED, key, self._label(key))
        return await self.pauses()

    async def resume(self, caller: Caller, pair: str | None) -> list[Pause]:
        """Lift the pause of all trading or of one pair; return the pauses in force."""
        key = self._key(pair)
        await self._pauses.resume(key)
        await self._audit(caller, RESUMED, key, self._label(key))
        return await self.pauses()

    async def cancel_user_orders(self, caller: Caller, user_id: str) -> list[Order]:
        """Cancel every PENDING and WAITING order of the user; return those cancelled.

        An order that moves on meanwhile (a worker took it) is left to finish.
        """
        open_ids: list[str] = []
        after: OrderCursor | None
        for status in (OrderStatus.PENDING, OrderStatus.WAITING):
            after = None
            while True:
                page = await self._repo.list_for_user(
                    user_id, first=PAGE, after=after, status=status, order_type=None
                )
                open_ids += [str(o.id) for o in page.orders]
                if not page.has_next or not page.orders:
                    break
                last = page.orders[-1]
                after = OrderCursor(last.created_at, last.id)
        cancelled = []
        for order_id in open_ids:
            try:
                cancelled.append(await self._service.cancel_of(user_id, order_id, caller))
            except RejectedError:
                continue  # it finished or moved on meanwhile
        await self._audit(caller, CANCELLED_USER_ORDERS, user_id, f"{len(cancelled)} cancelled")
        return cancelled

    async def read_order(self, caller: Caller, order_id: str) -> Order | None:
        """Return any user's order (None when there is none); the read is audited."""
        parsed = parse_order_id(order_id)
        order = await self._repo.get(parsed) if parsed is not None else None
        if order is not None:
            await self._audit(caller, READ_ORDER, str(order.id), f"owner {order.user_id}")
        return order

    async def audit_trail(
        self, *, limit: int, actor: str | None, subject: str | None
    ) -> list[AuditEntry]:
        """Return the newest audit entries first (at most MAX_AUDIT_ENTRIES).

        :raises RejectedError: INVALID_INPUT for a limit out of bounds.
        """
        if not 1 <= limit <= MAX_AUDIT_ENTRIES:
            raise RejectedError(
                RejectionCode.INVALID_INPUT, f"limit must be 1 to {MAX_AUDIT_ENTRIES}", "limit"
            )
        return await self._service.audit.recent(limit=limit, actor=actor, subject=subject)

    async def _audit(self, caller: Caller, action: str, subject: str, detail: str) -> None:
        entry = AuditEntry.of(caller, action, subject, self._clock(), detail)
        await self._service.audit.record([entry])

    def _key(self, pair: str | None) -> str:
        """Return the pause key of ``pair`` ("SOL/USDC", symbols or mints), ALL for None.

        :raises RejectedError: INVALID_INPUT or UNKNOWN_TOKEN naming ``pair``.
        """
        if pair is None:
            return ALL
        parts = pair.split("/")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise RejectedError(
                RejectionCode.INVALID_INPUT, "pair must be two tokens, e.g. SOL/USDC", "pair"
            )
        a, b = (self._token(p.strip()) for p in parts)
        if a.mint == b.mint:
            raise RejectedError(RejectionCode.SAME_TOKEN, "a pair has two tokens", "pair")
        return pair_key(a, b)

    def _token(self, ref: str) -> Token:
        token = self._tokens.get(ref) if ref.isascii() else None
        if token is None:
            raise RejectedError(RejectionCode.UNKNOWN_TOKEN, f"unknown token {ref!r}", "pair")
        return token

    def _label(self, key: str) -> str:
        if key == ALL:
            return "all trading"
        mints = key.split("/")
        labels = [(t.label if (t := self._tokens.get(m)) else m) for m in mints]
        return "/".join(sorted(labels))
