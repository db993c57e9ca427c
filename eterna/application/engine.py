"""The execution engine: drive one order from PENDING to a terminal status, exactly once.

Rules that make execution effectively-once on an at-least-once queue:
- A worker acts on an order only while it holds the order's lease (taken with a conditional
  UPDATE); every write is guarded by the lease and by ``last_seq``, so a stale worker's write
  fails instead of forking the history.
- Each step is persisted before the next begins, and the engine resumes from the persisted
  status. The signed transaction is persisted (BUILDING) before it is first sent.
- A transaction is never re-sent blindly: on resume the engine first asks the chain whether
  the signature landed. Re-sending the *same* transaction is harmless (same signature); a new
  transaction is built only after the old one failed on chain or its blockhash expired.
- Transient failures go back to the queue (RETRY) with exponential backoff and jitter, and a
  fresh quote, up to ``max_attempts``; permanent ones end the order FAILED with the reason.

Before a transaction is sent, the gateway simulates it (by default; always on a live
cluster): a failing simulation sends nothing, and a dry run sends nothing at all - the
rules are in :mod:`.simulation`.

Limit and sniper orders take the same path once their trigger holds. Before routing, the
engine checks the trigger on a fresh quote (:mod:`.triggers.pretrade`): an order whose trigger
does not hold goes back to WAITING (REST), where the trigger watcher looks after it. A REST
resets the attempt count, so each firing gets the full retry budget; and when the last
attempt of a limit or sniper order failed on price (slippage, liquidity), it rests again
rather than failing, until it fires anew or expires. A stop, once fired, is a market order:
it fails rather than rest again (and fails at once, nothing sent, when the fresh quote pays
below its ``limitPrice`` floor).

A leg of an OCO group whose trigger holds on this first look (placed beyond its trigger, or
queued before the watcher saw it) fires here before it routes: a FIRE step written with its
sibling's cancel (:mod:`.groups`), as the watcher fires one. If the sibling fired first, that
write loses and the leg (cancelled by it) is left alone.

An order giving ``maxSlippageBps`` gets each attempt's tolerance from
:class:`~eterna.application.slippage.AdaptiveSlippage` (depth, the pools' recent moves, recent
failures; widened after a slippage failure, never above the cap); the ROUTING event says
what it chose and why.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from opentelemetry import trace

from eterna.application import groups, spans
from eterna.application.ports import (
    EventPublisher,
    ExecutionStore,
    MarketData,
    QueuedOrder,
    take_step,
)
from eterna.application.simulation import (
    RestAgain,
    after_failed_simulation,
    landing_note,
    simulated_fill,
)
from eterna.application.slippage import AdaptiveSlippage
from eterna.application.triggers.checks import STOP_TRIGGERS
from eterna.application.triggers.pretrade import Expired, PreTrade, Refuse, Rest, Verdict
from eterna.core.clock import utcnow
from eterna.core.fair_gate import CALLER
from eterna.core.logs import about
from eterna.domain import steps
from eterna.domain.errors import LeaseLostError, NoRouteError, TransientError, VenueError
from eterna.domain.failures import FailureKind
from eterna.domain.groups import LoneLegError, is_open_leg
from eterna.domain.orders import Order, OrderStatus, OrderType
from eterna.domain.tokens import Token, format_amount, price_of
from eterna.routing.router import Router
from eterna.routing.venues import (
    ChainGateway,
    Landing,
    SwapInstruction,
    SwapRequest,
    Transaction,
    TxState,
)

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("eterna.engine")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings of the execution engine."""

    lease_seconds: float = 30.0
    max_attempts: int = 3
    backoff_base_ms: int = 250
    backoff_max_ms: int = 5_000
    confirm_poll_ms: int = 100


class ExecutionEngine:
    """Execute orders through the router and the chain gateway."""

    def __init__(
        self,
        repo: ExecutionStore,
        router: Router,
        gateway: ChainGateway,
        publisher: EventPublisher,
        config: EngineConfig,
        *,
        owner: str | None = None,
        market: MarketData | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repo
        self._router = router
        self._market = market
        self._slippage = AdaptiveSlippage(clock)
        self._pretrade = PreTrade(router, market, self._slippage)
        self._gateway = gateway
        self._publisher = publisher
        self._config = config
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        # The orders running here, and those delivered while draining, with their users
        # (whose lanes they go back to).
        self._in_flight: dict[uuid.UUID, str] = {}
        self._handed_back: dict[uuid.UUID, str] = {}
        self._draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> list[QueuedOrder]:
        """Return the orders this engine is running right now."""
        return [QueuedOrder(i, u) for i, u in self._in_flight.items()]

    def drain(self) -> None:
        """Stop taking orders: later ``execute`` calls hand the order back untouched."""
        self._draining = True

    async def wait_idle(self, wait_seconds: float) -> bool:
        """Wait until no order runs here; return False if some still run after wait_seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), wait_seconds)
        except TimeoutError:
            return False
        return True

    async def execute(self, order_id: uuid.UUID, user_id: str = "") -> Order | None:
        """Run the order until it is finished or resting; return None if it was not run here.

        Not run here: another worker holds it, it is finished, or this engine is draining
        (the caller then queues it again, in ``user_id``'s lane).
        """
        if self._draining:
            self._handed_back[order_id] = user_id
            return None
        self._in_flight[order_id] = user_id
        self._idle.clear()
        # The order's venue calls wait for a connection in its user's turn (fair_gate).
        caller = CALLER.set(user_id)
        try:
            return await self._execute(order_id)
        finally:
            CALLER.reset(caller)
            self._in_flight.pop(order_id, None)
            self._slippage.forget(order_id)
            if not self._in_flight:
                self._idle.set()

    async def close(self) -> None:
        """Stop the background work (following the market's pool moves)."""
        await self._slippage.close()

    @property
    def handed_back(self) -> list[QueuedOrder]:
        """Return the orders delivered while draining, which need queueing again."""
        return [QueuedOrder(i, u) for i, u in self._handed_back.items()]

    async def _execute(self, order_id: uuid.UUID) -> Order | None:
        now = self._clock()
        order = await self._repo.claim(order_id, self.owner, now, self._lease_until(now))
        if order is None:
            log.debug("order %s is finished or leased elsewhere", order_id)
            return None
        try:
            return await self._run(order)
        except LoneLegError as lone:  # cancelled where it would have fired
            return lone.order
        except LeaseLostError:
            log.warning("order %s: lease lost, leaving it to its new owner", order_id)
            return None
        finally:
            await self._repo.release(order_id, self.owner)

    async def _run(self, order: Order) -> Order:
        built_here: set[str] = set()
        if order.type is OrderType.TWAP:  # a parent never trades: its slices do
            return order
        while not order.status.is_terminal:
            if order.status is OrderStatus.WAITING:  # resting orders belong to the watcher
                return order
            if not spans.enabled:
                order = await self._stage(order, built_here)
                continue
            # One span per stage, its venue and chain calls inside (a no-op unless traced).
            with _tracer.start_as_current_span(f"order {order.status.value.lower()}") as span:
                span.set_attribute("eterna.order_id", str(order.id))
                span.set_attribute("eterna.attempt", order.attempts)
                order = await self._stage(order, built_here)
                span.set_attribute("eterna.status", order.status.value)
        return order

    async def _stage(self, order: Order, built_here: set[str]) -> Order:
        if order.status is OrderStatus.PENDING:
            return await self._route(order)
        if order.status is OrderStatus.ROUTING:
            return await self._build(order, built_here)
        if order.status is OrderStatus.BUILDING:
            return await self._submit(order, built_here)
        return await self._confirm(order)  # SUBMITTED

    async def _step(self, order: Order, step: steps.Step) -> Order:
        now = self._clock()
        order, event = await take_step(
            self._repo, order, step, owner=self.owner, now=now, lease_until=self._lease_until(now)
        )
        await self._publisher.publish([event])
        log.info("order %s seq=%d %s: %s", order.id, event.seq, event.status.value, step.message)
        return order

    async def _route(self, order: Order) -> Order:
        attempt = order.attempts + 1
        if order.max_slippage_bps is not None:
            self._slippage.follow(self._market)  # from the first adaptive order on
        try:
            verdict = await self._pretrade.check(order, self._clock())
        except NoRouteError as exc:
            return await self._fail(order, attempt, f"NoRoute: {exc}", FailureKind.NO_ROUTE)
        except TransientError as exc:
            return await self._retry(order, attempt, f"{type(exc).__name__}: {exc}", _kind(exc))
        if isinstance(verdict, Expired):
            return await self._step(order, steps.Expired(message=verdict.message))
        if isinstance(verdict, Rest):
            return await self._rest(order, verdict.message, verdict.details, verdict.token_out)
        if order.group_id is not None and is_open_leg(order):
            order = await self._fire_leg(order, verdict)
        if isinstance(verdict, Refuse):
            return await self._fail(order, attempt, verdict.message, verdict.failure)
        decision = verdict.decision
        route = decision.route
        venues = "+".join(leg.venue for leg in route.legs)
        return await self._step(
            order,
            steps.Routed(
                message=f"routed via {venues}: expect {route.amount_out} "
                f"{route.token_out.label}, at least {route.min_amount_out}{verdict.note}",
                attempt=attempt,
                quotes=decision.quotes,
                route=route,
                details=verdict.details,
                token_out=verdict.token_out,
            ),
        )

    async def _fire_leg(self, order: Order, verdict: Verdict) -> Order:
        """Fire an OCO leg whose trigger held on this look, cancelling its open sibling.

        :raises LeaseLostError: when the sibling fired first (and cancelled this leg).
        :raises LoneLegError: when its group holds no other leg: it was cancelled instead
            (never trades alone), and its CANCELLED published.
        """
        now = self._clock()
        kind = STOP_TRIGGERS.get(order.type, "limit")
        details = {"trigger": kind} | dict(getattr(verdict, "details", {}))
        step = steps.Fired(
            message="its trigger holds on the first look: firing before it routes",
            details=details,
        )
        try:
            order, events = await groups.fire(
                self._repo,
                order,
                step,
                owner=self.owner,
                now=now,
                lease_until=self._lease_until(now),
            )
        except LoneLegError as lone:
            await self._publisher.publish([lone.event])
            log.warning("%s", lone, extra=about(order.id))
            raise
        await self._publisher.publish(events)
        for event in events:
            log.info(
                "order %s seq=%d %s: %s",
                event.order_id,
                event.seq,
                event.status.value,
                event.message,
            )
        return order

    async def _rest(
        self,
        order: Order,
        message: str,
        details: dict[str, Any],
        token_out: Token | None = None,
        failure: FailureKind | None = None,
    ) -> Order:
        # Attempts restart at 0: the next firing gets the whole retry budget again.
        step = steps.Rested(message=message, details=details, token_out=token_out, failure=failure)
        return await self._step(order, step)

    async def _build(self, order: Order, built_here: set[str]) -> Order:
        route = order.route
        if route is None:  # cannot happen: ROUTING always carries its route
            return await self._fail(
                order, order.attempts, "internal: ROUTING without a route", FailureKind.INTERNAL
            )
        request = SwapRequest(
            memo=str(order.id),
            payer=order.user_id,
            mint_in=order.token_in.mint,
            mint_out=order.token_out.mint,
            # Split legs carry their own amounts; a two-hop's second swap spends all the first
            # one pays out, so the route executes even when the intermediate output moved.
            swaps=SwapInstruction.for_route(route),
            min_amount_out=order.token_out.to_base_units(route.min_amount_out),
        )
        try:
            tx = await self._gateway.build(request)
        except TransientError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            return await self._retry(order, order.attempts, reason, _kind(exc))
        except VenueError as exc:
            return await self._fail(
                order, order.attempts, f"{type(exc).__name__}: {exc}", exc.failure
            )
        landing = tx.landing
        if landing is not None and landing.failure is not None:
            return await self._simulation_failed(order, landing)
        built_here.add(tx.signature)
        parts = ["wrap SOL"] if tx.wrap_sol else []
        parts.append(f"{len(tx.swaps)} swap(s)")
        if tx.unwrap_sol:
            parts.append("unwrap SOL")
        details: dict[str, Any] = {"signature": tx.signature, "lastValidSlot": tx.last_valid_slot}
        note = ""
        if landing is not None:
            details["landing"] = landing.to_json()
            note = landing_note(landing, order.token_out)
        return await self._step(
            order,
            steps.Built(
                message=f"transaction built: {', '.join(parts)}; "
                f"valid until slot {tx.last_valid_slot}{note}",
                details=details,
                pending_tx=tx.to_json(),
            ),
        )

    async def _simulation_failed(self, order: Order, landing: Landing) -> Order:
        """Act on a simulation that failed, nothing sent (:mod:`.simulation` says how)."""
        verdict = after_failed_simulation(order, landing)
        if isinstance(verdict, RestAgain):
            return await self._rest(
                order, verdict.message, verdict.details, failure=verdict.failure
            )
        if verdict.failure.retryable:
            return await self._retry(order, order.attempts, verdict.reason, verdict.failure)
        return await self._fail(order, order.attempts, verdict.reason, verdict.failure)

    async def _submit(self, order: Order, built_here: set[str]) -> Order:
        tx = self._pending_tx(order)
        if tx.dry_run:
            return await self._settle_simulated(order, tx)
        message = "transaction sent"
        try:
            if tx.signature not in built_here:
                # Resumed after a crash: the transaction may have landed already.
                state = (await self._gateway.status(tx)).state
                if state is TxState.EXPIRED:
                    return await self._retry(
                        order, order.attempts, "BlockhashExpired", FailureKind.BLOCKHASH_EXPIRED
                    )
                if state is TxState.UNKNOWN:
                    await self._gateway.send(tx)
            else:
                await self._gateway.send(tx)
        except TransientError as exc:
            # The network may have the transaction anyway: never build a second one while
            # this one can still land. Confirmation re-broadcasts it until it lands or expires.
            message = f"send not acknowledged ({exc}); re-broadcasting until it lands or expires"
        return await self._step(order, steps.Submitted(message=message, tx_signature=tx.signature))

    async def _confirm(self, order: Order) -> Order:
        tx = self._pending_tx(order)
        renewed = self._clock()
        while True:
            now = self._clock()
            if (now - renewed).total_seconds() > self._config.lease_seconds / 3:
                # Waiting on the chain takes no step: keep the lease alive explicitly.
                if not await self._repo.renew(order.id, self.owner, self._lease_until(now)):
                    raise LeaseLostError(f"order {order.id}: lease taken while confirming")
                renewed = now
            try:
                status = await self._gateway.status(tx)
                if status.state is TxState.UNKNOWN:
                    # Re-broadcast the same signed transaction; it can land only once.
                    await self._gateway.send(tx)
                    await self._sleep(self._config.confirm_poll_ms / 1000)
                    continue
            except TransientError as exc:
                log.warning("order %s: status check failed: %s", order.id, exc)
                await self._sleep(self._config.confirm_poll_ms / 1000)
                continue
            break
        if status.state is TxState.CONFIRMED and status.amount_out is not None:
            amount_out = order.token_out.from_base_units(status.amount_out)
            return await self._step(order, _landed(order, tx, amount_out, status.slot))
        if status.state is TxState.EXPIRED:
            return await self._retry(
                order, order.attempts, "BlockhashExpired", FailureKind.BLOCKHASH_EXPIRED
            )
        error = status.error or "TransactionFailed"
        failure = status.failure or FailureKind.TRANSACTION_FAILED
        if failure.retryable:
            return await self._retry(order, order.attempts, error, failure)
        return await self._fail(order, order.attempts, error, failure)

    async def _settle_simulated(self, order: Order, tx: Transaction) -> Order:
        """End a dry-run order with its simulated fill: the transaction is never sent."""
        step = simulated_fill(order, tx)
        if step is None:
            return await self._fail(
                order,
                order.attempts,
                "internal: a dry-run transaction without a simulated fill",
                FailureKind.INTERNAL,
            )
        return await self._step(order, step)

    async def _retry(self, order: Order, attempt: int, reason: str, failure: FailureKind) -> Order:
        if failure is FailureKind.SLIPPAGE:
            self._slippage.slipped(order)
        if attempt >= self._config.max_attempts:
            if (
                order.type.rests_on_price
                and order.status is OrderStatus.SUBMITTED
                and failure.on_price
            ):
                return await self._rest(
                    order,
                    f"attempt {attempt} failed: {reason}; waiting for the trigger again",
                    {"error": reason},
                    failure=failure,
                )
            return await self._fail(
                order, attempt, f"{reason} (gave up after {attempt} attempts)", failure
            )
        ceiling = min(
            self._config.backoff_max_ms, self._config.backoff_base_ms * 2 ** max(attempt - 1, 0)
        )
        delay_ms = int(ceiling / 2 + self._rng.random() * ceiling / 2)
        order = await self._step(
            order,
            steps.Retried(
                message=f"attempt {attempt} failed: {reason}; next try in {delay_ms} ms",
                attempt=attempt,
                failure=failure,
                error=reason,
                details={"retryInMs": delay_ms},
            ),
        )
        await self._sleep(delay_ms / 1000)
        return order

    async def _fail(self, order: Order, attempt: int, reason: str, failure: FailureKind) -> Order:
        step = steps.Failed(
            message=f"failed: {reason}", attempt=attempt, failure=failure, error=reason
        )
        return await self._step(order, step)

    @staticmethod
    def _pending_tx(order: Order) -> Transaction:
        if order.pending_tx is None:
            raise LeaseLostError(f"order {order.id} has no pending transaction")
        return Transaction.from_json(order.pending_tx)

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._config.lease_seconds)


def _landed(
    order: Order, tx: Transaction, amount_out: Decimal, slot: int | None
) -> steps.Confirmed | steps.PartlyFilled:
    """Return the step recording a landed transaction: the order filled, or a part of it.

    An order filling in parts (:mod:`eterna.domain.fills`) traded its route's amount; what
    remains after it rests for the limit again (FILL), else the order is CONFIRMED.
    """
    received = f"received {amount_out} {order.token_out.label}"
    spent = order.part_in
    if spent is None:
        price = price_of(order.remaining_in, amount_out)
        return steps.Confirmed(
            message=f"confirmed in slot {slot}: {received} at {price}",
            tx_signature=tx.signature,
            amount_out=amount_out,
            executed_price=price,
            details={"slot": slot},
        )
    price = price_of(spent, amount_out)
    rest = order.remaining_in - spent
    fill = {"amountIn": format_amount(spent), "amountOut": format_amount(amount_out)}
    paid = f"{received} for {spent} {order.token_in.label} at {price}"
    step: type[steps.Confirmed | steps.PartlyFilled] = steps.PartlyFilled
    message = (
        f"part filled in slot {slot}: {paid}; "
        f"{format_amount(rest)} {order.token_in.label} rests for the limit"
    )
    if rest <= 0:
        step, message = steps.Confirmed, f"confirmed in slot {slot}: {paid}; the order is filled"
    return step(
        message=message,
        tx_signature=tx.signature,
        amount_in=spent,
        amount_out=amount_out,
        executed_price=price,
        details={"slot": slot, "fill": fill | {"price": format_amount(price)}},
    )


def _kind(exc: TransientError) -> FailureKind:
    """Return the failure kind an error names (a venue that did not answer, by default)."""
    failure = getattr(exc, "failure", None)
    return failure if isinstance(failure, FailureKind) else FailureKind.VENUE_UNAVAILABLE
