"""The trigger watcher: resting orders in memory, each fired once its trigger holds.

One watcher is active across all workers (``tasks.watcher`` holds a Redis lock for it). Its
:meth:`TriggerWatcher.run`:

1. registers for every order event, *then* takes the market's update cursor and reads the
   WAITING orders from the database into a :class:`~eterna.domain.triggers.RestingBook`, so an order
   that starts or stops resting meanwhile is seen in the read or as an event, and no pool
   change after the read is missed;
2. checks every pair and awaited mint once: a trigger that passed while no watcher was
   active (a failover) fires now;
3. follows market updates (a pool changed or launched), order events (an order started
   resting: check it at once; it left WAITING: forget it) and the clock (expiries).

Stops are observed on every update touching their pair's routes, whichever way the price
moved; a trailing stop's higher best price is kept in memory at once and stored with a
monotonic write (``raise_trail_best``), not a step, so a takeover goes on from it.

The checks (:mod:`eterna.application.triggers.checks`) run per pair and per awaited mint an update
touched; at ``expiresAt`` an order goes WAITING -> EXPIRED.

Writes (FIRE, EXPIRE) are ``repo.apply`` calls guarded by the order's ``last_seq`` and by no
lease, so a cancel, a worker, or a second watcher during a failover racing them ends in
exactly one outcome. The FIRE of an OCO leg is written with its sibling's CANCEL, both
guarded (:mod:`eterna.application.groups`): of two legs firing at once, one fires.
Events are published after the commit, then a fired order is queued (if that fails, the
reconciler queues the PENDING order later); the worker checks the trigger
again on a fresh quote before it routes. Lost events are covered by the database: every
``resync_seconds`` the watcher takes in the WAITING orders changed since its last look (an
index range), and re-reads them all when its listener overflowed. An order that left WAITING
unheard stays in the book until a write for it fails on ``last_seq``, which drops it.

A market update whose pool price moved against a pair's swap is skipped for that pair
(:meth:`~eterna.domain.triggers.PoolState.may_help`): that keeps the watcher quiet while the orders
it fired fill, each fill being such an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from eterna.application import groups
from eterna.application.events.hub import EventHub, Listener
from eterna.application.ports import (
    EventPublisher,
    Intake,
    MarketData,
    OrderQueue,
    QueuedOrder,
    TriggerStore,
    take_step,
)
from eterna.application.triggers.checks import Cause, Firing, TriggerChecks
from eterna.application.triggers.pretrade import Expired, PreTrade, Rest
from eterna.application.twap import TwapScheduler
from eterna.core.logs import about
from eterna.domain import steps
from eterna.domain.errors import EternaError, LeaseLostError
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.tokens import SOL, USDC, Token
from eterna.domain.triggers import Pair, RestingBook, RestingOrder
from eterna.routing.router import Router

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
# The longest the intake reader blocks before it looks again.
INTAKE_WAIT_SECONDS = 1.0
# Statuses whose events the watcher hears for any order (see TriggerWatcher._hears).
_ENTERS_OR_LEAVES = frozenset({OrderStatus.WAITING, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
CATCH_UP_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class WatcherConfig:
    """Settings of the trigger watcher."""

    confirm_concurrency: int = 16
    resync_seconds: float = 30.0
    event_queue_size: int = 100_000
    hubs: frozenset[str] = frozenset({SOL.mint, USDC.mint})  # the router's two-hop hubs


class TriggerWatcher:
    """Fire resting limit and sniper orders when the market meets them; expire them on time."""

    def __init__(
        self,
        repo: TriggerStore,
        router: Router,
        market: MarketData,
        config: WatcherConfig,
        *,
        hub: EventHub,
        publisher: EventPublisher,
        queue: OrderQueue,
        clock: Callable[[], datetime],
        intake: Intake | None = None,
        twap: TwapScheduler | None = None,
    ) -> None:
        self._repo = repo
        self._twap = twap
        self._intake = intake
        self._pretrade = PreTrade(router, market)
        self._checks = TriggerChecks(router, market, concurrency=config.confirm_concurrency)
        self._market = market
        self._hub = hub
        self._publisher = publisher
        self._queue = queue
        self._config = config
        self._clock = clock
        self.book = RestingBook()
        self.loaded = asyncio.Event()  # set once the book is read (tests and benchmarks wait)
        self._orders: dict[uuid.UUID, Order] = {}
        self._tokens: dict[Pair, tuple[Token, Token]] = {}
        self._pairs: dict[Pair, Cause] = {}
        self._stop_pairs: dict[Pair, Cause] = {}  # observe every stop of the pair
        # Stops that started resting: observe only them (a market update observes all).
        self._new_stops: dict[Pair, dict[uuid.UUID, Cause]] = {}
        self._mints: dict[str, Cause] = {}
        self._wake = asyncio.Event()
        self._reads = asyncio.Semaphore(config.confirm_concurrency)

    async def run(self) -> None:
        """Watch until cancelled."""
        self.loaded.clear()
        with self._hub.listen_all(self._config.event_queue_size, where=self._hears) as listener:
            cursor = await self._market.cursor()
            await self._load(Cause("the watcher started"))
            self.loaded.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._follow_market(cursor), name="watcher-market")
                group.create_task(self._follow_orders(listener), name="watcher-orders")
                group.create_task(self._evaluate(), name="watcher-evaluate")
                if self._intake is not None:
                    group.create_task(self._follow_intake(self._intake), name="watcher-intake")
                if self._twap is not None:  # TWAPs are scheduled by the same single holder
                    group.create_task(self._twap.run(), name="watcher-twap")

    # -- inputs -----------------------------------------------------------------------

    async def _load(self, cause: Cause) -> None:
        orders = await self._repo.resting_orders()
        self.book, self._orders, self._tokens = RestingBook(), {}, {}
        for order in orders:
            self._remember(order, cause)
        log.info("watcher holds %d resting orders", len(self.book))

    def _remember(self, order: Order, cause: Cause | None) -> None:
        """Index the order; with a cause, check its pair or mint on the next pass.

        A trailing stop keeps the higher of its best prices here and in the order read
        (a raise may not be stored yet): its trigger never moves down. A working TWAP rests
        in WAITING too, but has no trigger: its scheduler drives it.
        """
        if order.type is OrderType.TWAP:
            return
        held = self.book.trail_best(order.id)
        if held is not None and (order.trail_best is None or order.trail_best < held):
            order = replace(order, trail_best=held)
        self.book.remove(order.id)
        self.book.add(RestingOrder.of(order))
        self._orders[order.id] = order
        pair = (order.token_in.mint, order.token_out.mint)
        if order.type is not OrderType.SNIPER:
            self._tokens[pair] = (order.token_in, order.token_out)
        if cause is None:
            return
        if order.type is OrderType.SNIPER:
            self._mints[order.token_out.mint] = cause
        elif order.type.is_stop:
            self._new_stops.setdefault(pair, {})[order.id] = cause
        else:
            self._pairs[pair] = cause
        self._wake.set()

    def _forget(self, order_id: uuid.UUID) -> Order | None:
        self.book.remove(order_id)
        return self._orders.pop(order_id, None)

    async def _follow_market(self, cursor: int) -> None:
        spots: dict[str, Fraction] = {}
        async for update in self._market.updates(cursor):
            pool, cause = update.pool, Cause.of(update)
            before = spots.get(pool.address)
            if pool.price is not None:
                spots[pool.address] = pool.price
            for pair in self.book.limit_pairs():
                if pool.may_help(pair, self._config.hubs, before):
                    self._pairs[pair] = cause
            for pair in self.book.stop_pairs():
                # Either way: a fall may fire a stop-loss or trailing stop, a rise a
                # take-profit, and a rise raises a trailing stop's best price.
                if pool.a_to_b_for(pair, self._config.hubs) is not None:
                    self._stop_pairs[pair] = cause
            for mint in pool.mints:
                if self.book.snipers_for(mint):
                    self._mints[mint] = cause
            self._wake.set()

    async def _follow_orders(self, listener: Listener) -> None:
        synced, checked = self._clock(), time.monotonic()
        while True:
            first = await listener.next(self._config.resync_seconds)
            if listener.overflowed:
                listener.overflowed = False
                listener.drain()  # the database read below covers them
                synced = self._clock()
                await self._load(Cause("the watcher resynced"))
                continue
            if time.monotonic() - checked > self._config.resync_seconds:
                synced, checked = await self._catch_up(synced), time.monotonic()
            events = ([first] if first else []) + listener.drain()
            resting = [e for e in events if self._is_news(e)]
            for event in resting:
                if event.status is not OrderStatus.WAITING:
                    self._forget(event.order_id)
            waiting = {e.order_id: e for e in resting if e.status is OrderStatus.WAITING}
            for order in await asyncio.gather(*(self._get(i) for i in waiting)):
                if order is not None and order.status is OrderStatus.WAITING:
                    # Resting after failing on price, it waits for the market to move: checked
                    # at once, it would fire into the same failure again and again.
                    failed = waiting[order.id].failure is not None
                    self._remember(order, None if failed else Cause("it started resting"))

    async def _follow_intake(self, intake: Intake) -> None:
        """Take new limit and sniper orders, a few users at a time, and look at each once."""
        while True:
            try:
                taken = await intake.take(self._config.confirm_concurrency)
                if not taken:
                    await intake.wait(INTAKE_WAIT_SECONDS)
                    continue
            except Exception as exc:  # the intake's store is away: the reconciler covers it
                log.warning("watcher intake unavailable (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await asyncio.gather(*(self._first_look(o) for o in taken))

    async def _first_look(self, queued: QueuedOrder) -> None:
        """Rest a new order whose trigger does not hold; queue it for a worker if it does.

        The check is the worker's own (:mod:`.pretrade`), so the order's steps read as
        they would had a worker looked. Anything but a clear verdict (the order moved on,
        a venue failed) leaves the order to the workers, which retry as for any order.
        """
        order = await self._get(queued.order_id)
        if order is None or order.status is not OrderStatus.PENDING or order.last_seq != 1:
            return  # cancelled, or already taken up by a worker (the reconciler queued it)
        try:
            async with self._reads:
                verdict = await self._pretrade.check(order, self._clock())
        except EternaError as exc:
            log.info("first look at order %s failed (%s): queued for a worker", order.id, exc)
            verdict = None
        try:
            if isinstance(verdict, Rest):
                await self._record(
                    order,
                    steps.Rested(
                        message=verdict.message,
                        details=verdict.details,
                        token_out=verdict.token_out,
                    ),
                )
            elif isinstance(verdict, Expired):
                await self._record(order, steps.Expired(message=verdict.message))
            else:
                await self._queue.enqueue([queued])
        except Exception as exc:  # the database or the queue is away
            log.warning(
                "first look at order %s not recorded (%s); the reconciler will queue it",
                order.id,
                exc,
                extra=about(order.id),
            )

    async def _record(self, order: Order, step: steps.Step) -> None:
        """Apply a first-look step unless the order moved on; publish its event.

        The WAITING event brings the order into the book, as a worker's REST would.
        """
        now = self._clock()
        try:
            _, event = await take_step(
                self._repo, order, step, owner=None, now=now, lease_until=now
            )
        except LeaseLostError:
            return  # cancelled meanwhile, or a worker took it up
        await self._publisher.publish([event])
        log.info(
            "order %s seq=%d %s: %s",
            order.id,
            event.seq,
            event.status.value,
            step.message,
            extra=about(order.id),
        )

    async def _catch_up(self, since: datetime) -> datetime:
        """Take in the orders that started resting since the last look (lost events)."""
        now = self._clock()
        # A margin for commits that were in flight, and for clocks of other processes.
        for order in await self._repo.resting_orders(since - CATCH_UP_MARGIN):
            known = self._orders.get(order.id)
            if known is None or known.last_seq < order.last_seq:
                self._remember(order, Cause("the watcher caught up"))
        return now

    @staticmethod
    def may_concern(event: OrderEvent) -> bool:
        """Tell whether an event may concern a watcher, whatever orders it holds.

        Every event the watcher hears (see :meth:`_hears`) is one of these: an order entering
        WAITING, a cancel or an expiry, or an order going back to PENDING after seq 1 (fired,
        or retried). The distributed mode appends them to a stream of their own, which the
        watcher reads instead of every event of every order.
        """
        return event.status in _ENTERS_OR_LEAVES or (
            event.status is OrderStatus.PENDING and event.seq > 1
        )

    def _hears(self, order_id: uuid.UUID, status: OrderStatus) -> bool:
        """Tell whether an event may be news: of an order held here, or one entering WAITING.

        Decided from the order id and status alone, so the event stream's dispatcher skips
        the others (every market order's steps) without decoding them. A cancel or expiry is
        heard even for an order not held yet (it may be read from the database right now);
        a firing by a second watcher during a failover is not, and the book drops that order
        when its own write fails on ``last_seq``.
        """
        return status in _ENTERS_OR_LEAVES or order_id in self._orders

    def _is_news(self, event: OrderEvent) -> bool:
        known = self._orders.get(event.order_id)
        if known is not None:
            return event.seq > known.last_seq
        return event.status is OrderStatus.WAITING

    async def _get(self, order_id: uuid.UUID) -> Order | None:
        async with self._reads:
            return await self._repo.get(order_id)

    # -- checks -----------------------------------------------------------------------

    async def _evaluate(self) -> None:
        while True:
            expiry = self.book.next_expiry()
            timeout = None if expiry is None else (expiry - self._clock()).total_seconds()
            if timeout is None or timeout > 0:
                # asyncio.timeout, not wait_for: see Listener.next.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
            self._wake.clear()
            try:
                await self._expire_due()
            except Exception:  # the database is unreachable: try again a little later
                log.exception("expiring resting orders failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)
            pairs, self._pairs = self._pairs, {}
            stops, self._stop_pairs = self._stop_pairs, {}
            new, self._new_stops = self._new_stops, {}
            fresh = {p: (next(iter(ids.values())), set(ids)) for p, ids in new.items()}
            for pair in stops:
                fresh.pop(pair, None)  # every stop of the pair is observed anyway
            mints, self._mints = self._mints, {}
            await asyncio.gather(
                *(
                    self._guarded(self._check_pair(p, c), self._pairs, p, c)
                    for p, c in pairs.items()
                ),
                *(
                    self._guarded(self._check_stops(p, c), self._stop_pairs, p, c)
                    for p, c in stops.items()
                ),
                *(
                    self._guarded(self._check_stops(p, c, ids), self._stop_pairs, p, c)
                    for p, (c, ids) in fresh.items()
                ),
                *(
                    self._guarded(self._check_mint(m, c), self._mints, m, c)
                    for m, c in mints.items()
                ),
            )

    async def _guarded(
        self,
        check: Coroutine[Any, Any, None],
        target: dict[Any, Cause],
        key: Pair | str,
        cause: Cause,
    ) -> None:
        try:
            await check
        except Exception as exc:  # a failed check is retried; the watcher keeps watching
            if isinstance(exc, EternaError):
                log.warning("trigger check of %s failed (%s); retrying", key, exc)
            else:
                log.exception("trigger check of %s failed; retrying", key)
            loop = asyncio.get_running_loop()
            loop.call_later(RETRY_SECONDS, self._retry, target, key, cause)

    def _retry(self, target: dict[Any, Cause], key: Pair | str, cause: Cause) -> None:
        target.setdefault(key, cause)
        self._wake.set()

    async def _check_pair(self, pair: Pair, cause: Cause) -> None:
        smallest, tokens = self.book.smallest_amount(pair), self._tokens.get(pair)
        if smallest is not None and tokens is not None:
            await self._checks.limits(tokens, smallest, self._candidates(pair), cause, self._fire)

    def _candidates(self, pair: Pair) -> Callable[[Decimal], list[Order]]:
        def at(price: Decimal) -> list[Order]:
            found = (self._orders.get(r.order_id) for r in self.book.limit_candidates(pair, price))
            return [o for o in found if o is not None]

        return at

    async def _check_stops(
        self, pair: Pair, cause: Cause, only: set[uuid.UUID] | None = None
    ) -> None:
        """Observe the pair's stops (or only those named); a failure retries the whole pair."""
        groups, tokens = self.book.stop_groups(pair, only), self._tokens.get(pair)
        if groups and tokens is not None:
            await self._checks.stops(
                tokens,
                groups,
                self._orders.get,
                cause=cause,
                fire=self._fire,
                raised=self._raise_trails,
                only=only,
            )

    async def _raise_trails(self, marks: list[tuple[uuid.UUID, Decimal]]) -> None:
        """Keep trailing stops' higher best prices, here and in the store.

        The book holds them first (the observation raised them there), so the next
        observation compares with them even if the store is away; stored (monotonically)
        so a restart or a takeover keeps them.
        """
        for order_id, best in marks:
            known = self._orders.get(order_id)
            if known is not None and (known.trail_best is None or known.trail_best < best):
                self._orders[order_id] = replace(known, trail_best=best)
        await self._repo.raise_trail_best(marks)

    async def _check_mint(self, mint: str, cause: Cause) -> None:
        found = (self._orders.get(r.order_id) for r in self.book.snipers_for(mint))
        orders = [o for o in found if o is not None]
        if orders:
            await self._checks.snipers(mint, orders, cause, self._fire)

    # -- writes -----------------------------------------------------------------------

    async def _fire(self, firing: Firing) -> None:
        """Fire one order through one write guarded by its ``last_seq``, then queue it.

        Every kind fires here, stops too: the open sibling of an OCO leg is cancelled by a
        second guarded step joined to this write, so the group moves at once or not at all.
        """
        order = firing.order
        if order.id not in self.book:  # fired, cancelled or expired since it was picked
            return
        step = steps.Fired(
            message=firing.message, details=firing.details, token_out=firing.token_out
        )
        if await self._write(order, step):
            try:
                await self._queue.enqueue([QueuedOrder(order.id, order.user_id)])
            except EternaError as exc:
                log.warning(
                    "fired order %s not queued (%s); the reconciler will",
                    order.id,
                    exc,
                    extra=about(order.id),
                )

    async def _expire_due(self) -> None:
        expired = self.book.expired(self._clock())
        due = [o for r in expired if (o := self._orders.get(r.order_id)) and o.expires_at]
        for i, order in enumerate(due):
            message = f"expired at {order.expires_at:%Y-%m-%dT%H:%M:%S%z} before its trigger held"
            try:
                await self._write(order, steps.Expired(message=message))
            except BaseException:
                for later in due[i + 1 :]:  # back in the expiry heap, to try again
                    self._remember(later, None)
                raise

    async def _write(self, order: Order, step: steps.Step) -> bool:
        """Apply the step unless the order moved on; return whether it was written.

        A FIRE of an OCO leg is written with its sibling's cancel (:mod:`..groups`): the
        sibling leaves the book with it.
        """
        self._forget(order.id)  # out of the book first: nothing else may fire it meanwhile
        now = self._clock()
        try:
            if isinstance(step, steps.Fired):
                _, events = await groups.fire(
                    self._repo, order, step, owner=None, now=now, lease_until=now
                )
            else:
                _, event = await take_step(
                    self._repo, order, step, owner=None, now=now, lease_until=now
                )
                events = [event]
        except LeaseLostError:
            fresh = await self._repo.get(order.id)
            if fresh is not None and fresh.status is OrderStatus.WAITING:
                self._remember(fresh, Cause("it changed while being checked"))
            return False
        except BaseException:
            self._remember(order, None)  # not written: keep it; the caller retries later
            raise
        for joined in events[1:]:
            self._forget(joined.order_id)
        await self._publisher.publish(events)
        for event in events:
            log.info(
                "order %s seq=%d %s: %s",
                event.order_id,
                event.seq,
                event.status.value,
                event.message,
                extra=about(event.order_id),
            )
        return True
