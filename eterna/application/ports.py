"""The ports the engine and the API talk through; storage and queue implement them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from eterna.domain.groups import StepWrite
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder
from eterna.domain.steps import Step
from eterna.domain.triggers import MarketUpdate, PoolState


@dataclass(frozen=True, slots=True)
class Placement:
    """The result of placing one command: the order, and whether it was new."""

    order: Order
    created: bool


@dataclass(frozen=True, slots=True)
class StoredOrders:
    """A page of stored orders, newest first, and whether older ones follow."""

    orders: list[Order]
    has_next: bool


@dataclass(frozen=True, slots=True)
class OrderCursor:
    """A stable position in the newest-first order list."""

    created_at: datetime
    order_id: uuid.UUID


class QueuedOrder(NamedTuple):
    """An order to queue, and whose lane it waits in (its user's)."""

    order_id: uuid.UUID
    user_id: str


@dataclass(frozen=True, slots=True)
class OpenOrders:
    """How many unfinished orders a user has.

    ``in_flight``: PENDING through SUBMITTED, of every type (queued or executing);
    ``waiting``: WAITING; ``conditional``: unfinished limit and sniper orders, resting or not.
    """

    in_flight: int = 0
    waiting: int = 0
    conditional: int = 0

    @property
    def open(self) -> int:
        """Return every unfinished order."""
        return self.in_flight + self.waiting


class OrderMark(NamedTuple):
    """Where an order stands: its owner, its last event's seq and when it last changed."""

    order_id: uuid.UUID
    user_id: str
    last_seq: int
    updated_at: datetime


class StoreObserver(Protocol):
    """Told of every placement and step a store committed (the metrics watch through it).

    A store calls it after the commit, once per order placed or step written; a step its
    guard refused is never reported.
    """

    def placed(self, orders: Iterable[Order]) -> None:
        """Observe newly placed orders."""
        ...

    def recorded(self, before: Order, after: Order, event: OrderEvent) -> None:
        """Observe one step: the order before it, after it, and its event."""
        ...


class StepStore(Protocol):
    """Persists the steps of orders, each guarded so that exactly one writer wins."""

    async def record(
        self,
        before: Order,
        after: Order,
        event: OrderEvent,
        *,
        owner: str | None,
        lease_until: datetime,
    ) -> None:
        """Store the order's new state and its event in one transaction.

        Written only while the order is still at ``before.last_seq`` and, with an ``owner``,
        leased to it (the lease is extended to ``lease_until``; a terminal step clears it).
        ``UNIQUE(order_id, seq)`` is the safety net under the guard.

        :raises LeaseLostError: when another writer moved the order on or holds its lease.
        """
        ...

    async def record_joined(
        self, writes: Sequence[StepWrite], *, owner: str | None, lease_until: datetime
    ) -> None:
        """Store the steps of several orders in one transaction: all of them, or none.

        Each is guarded by the ``last_seq`` its writer read; the first also by ``owner``, as
        :meth:`record` guards (the others are written whoever leases them). An OCO leg's
        firing and its sibling's cancel are written so (:mod:`eterna.domain.groups`). Rows
        are locked in id order, so two joined writes of the same orders never deadlock.

        :raises LeaseLostError: when any guard refused its step; nothing was written.
        """
        ...

    async def group_orders(self, group_id: uuid.UUID) -> list[Order]:
        """Return the legs of an OCO group (empty when there is no such group)."""
        ...


class PlacementStore(Protocol):
    """What placing orders needs."""

    async def place(self, commands: Sequence[PlaceOrder], now: datetime) -> list[Placement]:
        """Insert the orders with their PENDING event, all or none.

        A repeated (user, clientOrderId) returns the order placed first instead.
        """
        ...

    async def placed_client_orders(
        self, user_id: str, client_order_ids: Sequence[str]
    ) -> dict[str, Order]:
        """Return the user's orders placed with these clientOrderIds, by clientOrderId."""
        ...

    async def open_orders(self, user_id: str) -> OpenOrders:
        """Return how many unfinished orders the user has, in flight and resting."""
        ...


class OrderReader(Protocol):
    """What reading orders and their history needs."""

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order, whoever owns it."""
        ...

    async def list_for_user(
        self,
        user_id: str,
        *,
        first: int,
        after: OrderCursor | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> StoredOrders:
        """Return the user's orders, newest first, after the cursor."""
        ...

    async def events(self, order_id: uuid.UUID, after_seq: int = 0) -> list[OrderEvent]:
        """Return the order's events with seq > after_seq, in seq order."""
        ...

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders at once, each list in seq order."""
        ...

    async def user_orders_updated_since(self, user_id: str, since: datetime) -> list[Order]:
        """Return the user's orders changed at or after since."""
        ...

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the child orders (TWAP slices) of each parent, by slice index."""
        ...

    async def orders_changed_between(
        self,
        user_ids: Sequence[str],
        order_ids: Sequence[uuid.UUID],
        since: datetime,
        until: datetime,
    ) -> list[OrderMark]:
        """Return where the orders of those users or ids changed in [since, until) stand."""
        ...


class ExecutionStore(StepStore, Protocol):
    """What the execution engine needs: leases, and guarded steps."""

    async def claim(
        self, order_id: uuid.UUID, owner: str, now: datetime, lease_until: datetime
    ) -> Order | None:
        """Take the order's lease if it is free or expired and the order is not finished."""
        ...

    async def renew(self, order_id: uuid.UUID, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; return False when it is no longer ours."""
        ...

    async def release(self, order_id: uuid.UUID, owner: str) -> None:
        """Give the lease back."""
        ...


class TriggerStore(StepStore, Protocol):
    """What the trigger watcher needs."""

    async def resting_orders(self, updated_since: datetime | None = None) -> list[Order]:
        """Return every WAITING order, or those changed at or after updated_since.

        The trigger watcher's book is rebuilt from it at start, and caught up with it.
        """
        ...

    async def raise_trail_best(self, marks: Sequence[tuple[uuid.UUID, Decimal]]) -> None:
        """Store trailing stops' new best prices: each only if above the stored one.

        Monotonic and not tied to ``last_seq`` (a best price is no step of the order): two
        watchers overlapping during a failover can only raise it, never lower it.
        """
        ...

    async def get(self, order_id: uuid.UUID) -> Order | None:
        """Return the order."""
        ...


class TwapStore(StepStore, Protocol):
    """What the TWAP scheduler needs: the working TWAPs, their slices, and placing one."""

    async def active_twaps(self) -> list[Order]:
        """Return every TWAP order still PENDING or WAITING (working)."""
        ...

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the child orders (TWAP slices) of each parent, by slice index."""
        ...

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of many orders at once, each list in seq order."""
        ...

    async def place_child(
        self, before: Order, after: Order, event: OrderEvent, child: Order, child_event: OrderEvent
    ) -> None:
        """Store a parent's step and a new child order with its seq-1 event, all or none.

        The parent's step is guarded by its ``last_seq`` (no lease) as any step is; the
        child's id is unique, so the same slice can never be stored twice.

        :raises LeaseLostError: when the parent moved on (a cancel, another scheduler), or
            the child exists already; nothing is stored then.
        """
        ...


class StuckOrders(Protocol):
    """What the reconciler needs."""

    async def stuck_orders(
        self, now: datetime, older_than: datetime, limit: int
    ) -> list[QueuedOrder]:
        """Return unfinished orders that no live lease covers and that nobody touched lately."""
        ...


class ServiceStore(PlacementStore, OrderReader, StepStore, Protocol):
    """What the order service needs: placing, reading, and its owner's cancel."""


class OrderStore(ServiceStore, ExecutionStore, TriggerStore, TwapStore, StuckOrders, Protocol):
    """Everything: what a storage adapter implements (Postgres, SQLite, in memory)."""


async def take_step(
    store: StepStore,
    order: Order,
    step: Step,
    *,
    owner: str | None,
    now: datetime,
    lease_until: datetime,
) -> tuple[Order, OrderEvent]:
    """Apply the step to the order (the domain's rules) and store the result, guarded.

    :raises LeaseLostError: when another writer moved the order on or holds its lease.
    """
    after, event = order.apply(step, now)
    await store.record(order, after, event, owner=owner, lease_until=lease_until)
    return after, event


class EventPublisher(Protocol):
    """Hands committed events to subscribers, wherever they are."""

    async def publish(self, events: Sequence[OrderEvent]) -> None:
        """Publish events that are already committed."""
        ...


class OrderQueue(Protocol):
    """Queues orders for execution by a worker, each in its user's lane."""

    async def enqueue(self, orders: Sequence[QueuedOrder]) -> None:
        """Queue the orders; delivery is at least once."""
        ...


class Intake(Protocol):
    """Hands new limit and sniper orders to the trigger watcher, each in its user's lane."""

    async def submit(self, orders: Sequence[QueuedOrder]) -> None:
        """Queue the orders for the watcher's first look."""
        ...

    async def take(self, count: int) -> list[QueuedOrder]:
        """Take up to count orders, one user at a time in turn (empty when none waits)."""
        ...

    async def wait(self, timeout_seconds: float) -> None:
        """Return when an order may have been submitted, or after the timeout."""
        ...


class MarketData(Protocol):
    """What the market says about pools: who trades a mint, and a feed of pool changes."""

    async def pools_of(self, mint: str) -> list[PoolState]:
        """Return every pool trading the mint (empty when none does yet).

        :raises VenueUnavailableError: when the market cannot be reached.
        """
        ...

    async def cursor(self) -> int:
        """Return the seq of the latest update, to follow the feed from now on."""
        ...

    def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        """Yield every pool update after seq ``after``, forever, waiting for new ones."""
        ...
