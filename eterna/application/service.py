"""The order service: what the API may do, validated and owned per user.

Resolvers call only this service. Every read and action is scoped to the caller: another
user's order is reported exactly as a missing one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from eterna.application.audit import (
    CANCELLED,
    PLACED,
    AuditEntry,
    AuditLog,
    Caller,
    MemoryAuditLog,
)
from eterna.application.events.hub import EventHub
from eterna.application.events.streams import order_event_stream, user_event_stream
from eterna.application.pauses import MemoryPauses, TradingPauses, pauses_of
from eterna.application.ports import (
    EventPublisher,
    Intake,
    OpenOrders,
    OrderCursor,
    OrderQueue,
    Placement,
    QueuedOrder,
    ServiceStore,
    StoredOrders,
    take_step,
)
from eterna.application.ratelimit import (
    NoRateLimit,
    RateLimitedError,
    RateLimiter,
    RefusalMemo,
)
from eterna.core.background import Background
from eterna.core.logs import about, about_many
from eterna.domain.errors import (
    EternaError,
    LeaseLostError,
    NoRouteError,
    RejectedError,
    RejectionCode,
    StorageNotMigratedError,
    StorageUnavailableError,
    TransientError,
)
from eterna.domain.fills import (
    DEFAULT_MIN_FILL_BPS,
    LEAST_MIN_FILL_BPS,
    MAX_FILLS,
    default_min_fill,
)
from eterna.domain.groups import LEG_TYPES, LEGS, OrderGroup, new_group_id
from eterna.domain.orders import (
    DEFAULT_SLIPPAGE_BPS,
    MAX_DURATION_SECONDS,
    MAX_JITTER_BPS,
    MAX_SLICES,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    PlaceOrder,
    TwapPlan,
    placed_event,
)
from eterna.domain.state_machine import Trigger, can_apply
from eterna.domain.steps import Cancelled
from eterna.domain.stops import MAX_TRAIL_BPS
from eterna.domain.tokens import EXACT, USDC, Token, TokenRegistry, format_amount, is_mint_address
from eterna.domain.twap import split_amount
from eterna.routing.router import Router, RoutingDecision
from eterna.routing.venues import VenueInfo

log = logging.getLogger(__name__)


def _retrieved(future: asyncio.Future[frozenset[str]]) -> None:
    """Mark a background read's failure as seen: the caller may have stopped waiting."""
    if not future.cancelled():
        future.exception()


CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MAX_SLIPPAGE_BPS = 5_000
MAX_TOKEN_REF_LENGTH = 44  # a base58 mint; every symbol is shorter
# SPL token amounts are u64 base units: no account can hold more, so no order can move more.
MAX_BASE_UNITS = 2**64 - 1
# Storage holds amounts with 16 integer digits (NUMERIC(28, 12)).
MAX_AMOUNT = Decimal(10) ** 16
# A limit price is tokenOut per tokenIn: 18 decimals and 18 integer digits span every pair.
LIMIT_PRICE_QUANTUM = Decimal(10) ** -18
MAX_LIMIT_PRICE = Decimal(10) ** 18
PRICE_TTL = timedelta(seconds=60)
# Placements whose seq 1 and queue message may be in flight after their answer at once;
# beyond them a placement waits for its own (see OrderService.place).
MAX_ANNOUNCING = 256
# How many times a group's cancel (and a refused group's withdrawal of a leg it stored) tries
# again a leg that is still open but changing right now, and the pause between tries.
LEG_CANCEL_TRIES = 3
LEG_CANCEL_PAUSE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as a client sent it: tokens by symbol or mint, optional fields unset."""

    type: OrderType
    token_in: str
    token_out: str
    amount_in: Decimal
    slippage_bps: int | None = None
    limit_price: Decimal | None = None
    min_liquidity: Decimal | None = None
    max_price_impact_bps: int | None = None
    expires_at: datetime | None = None
    client_order_id: str | None = None
    trigger_price: Decimal | None = None
    trail_bps: int | None = None
    slices: int | None = None  # TWAP
    duration_seconds: int | None = None  # TWAP
    jitter_bps: int | None = None  # TWAP, optional
    max_slippage_bps: int | None = None
    all_or_none: bool | None = None  # LIMIT: false (the default) fills in parts
    min_fill_amount: Decimal | None = None  # LIMIT filling in parts: least tokenIn per fill


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """Bounds the service enforces on every request.

    The per-user caps count unfinished orders (0 switches a cap off): ``max_in_flight``
    PENDING through SUBMITTED, ``max_open`` those plus WAITING, ``max_resting`` unfinished
    limit and sniper orders.
    """

    max_batch: int = 100
    max_in_flight: int = 0
    max_open: int = 0
    max_resting: int = 0
    max_page_size: int = 100
    default_page_size: int = 20
    supported_types: frozenset[OrderType] = field(default_factory=lambda: frozenset(OrderType))
    max_notional_usd: Decimal = Decimal(1_000_000)
    max_expiry_horizon: timedelta = timedelta(days=30)
    # USDC spent to price a token (see OrderService._usd_price): large enough for precision.
    pricing_usdc_amount: Decimal = Decimal(1_000)
    # A LIMIT order filling in parts without minFillAmount: its least fill, in bps of amountIn.
    min_fill_bps: int = DEFAULT_MIN_FILL_BPS


@dataclass(frozen=True, slots=True)
class OrdersPage:
    """A page of orders with the cursor of each."""

    orders: list[tuple[Order, str]]
    has_next: bool
    has_previous: bool


def encode_cursor(order: Order) -> str:
    """Return the opaque, stable cursor of an order in the newest-first list."""
    raw = f"{order.created_at.isoformat()}|{order.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> OrderCursor:
    """Decode a cursor; raise RejectedError unless it is a position storage can compare.

    Cursors come back from clients, so anything may arrive. The time is moved to UTC here:
    an offset that carries it outside the years a datetime holds
    (``0001-01-01T00:00:00+14:00``) is refused like any other malformed cursor instead of
    failing in the database driver, and every store compares UTC with UTC.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, order_id = base64.urlsafe_b64decode(padded).decode().partition("|")
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        return OrderCursor(created_at=at.astimezone(UTC), order_id=uuid.UUID(order_id))
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise RejectedError(RejectionCode.INVALID_INPUT, "not a valid cursor", "after") from None


def parse_order_id(raw: str) -> uuid.UUID | None:
    """Return the UUID of an order id, or None when it cannot be one."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _token_amount(value: Decimal, token: Token, field_name: str, code: RejectionCode) -> Decimal:
    """Return an amount of the token that is positive, exact in its decimals and holdable."""
    if not value.is_finite() or value <= 0:
        raise RejectedError(code, f"{field_name} must be positive", field_name)
    try:
        units = token.to_base_units(value)
    except ValueError:
        raise RejectedError(
            code,
            f"{field_name} has more than {token.decimals} decimals ({token.label})",
            field_name,
        ) from None
    if units > MAX_BASE_UNITS or value >= MAX_AMOUNT:
        raise RejectedError(
            code, f"{field_name} is larger than any {token.label} balance", field_name
        )
    return value


def _check_limit_price(price: Decimal, name: str = "limitPrice") -> None:
    if not price.is_finite() or price <= 0:
        raise RejectedError(RejectionCode.INVALID_INPUT, f"{name} must be positive", name)
    if price >= MAX_LIMIT_PRICE or price != price.quantize(LIMIT_PRICE_QUANTUM, context=EXACT):
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            f"{name} must be below 10^18 with at most 18 decimals",
            name,
        )


def _check_stop_fields(request: OrderRequest) -> None:
    """Refuse a stop without what its kind needs, or with a floor it could never trade at."""
    kind = request.type
    needs_trigger = kind in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)
    if needs_trigger and request.trigger_price is None:
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            f"a {kind.value} order needs a triggerPrice",
            "triggerPrice",
        )
    if not needs_trigger and request.trigger_price is not None:
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            "triggerPrice is only for STOP_LOSS and TAKE_PROFIT orders",
            "triggerPrice",
        )
    trail = request.trail_bps
    if kind is OrderType.TRAILING_STOP and trail is None:
        raise RejectedError(
            RejectionCode.INVALID_INPUT, "a TRAILING_STOP order needs trailBps", "trailBps"
        )
    if kind is not OrderType.TRAILING_STOP and trail is not None:
        raise RejectedError(
            RejectionCode.INVALID_INPUT, "trailBps is only for TRAILING_STOP orders", "trailBps"
        )
    if trail is not None and not 1 <= trail <= MAX_TRAIL_BPS:
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            f"trailBps must be between 1 and {MAX_TRAIL_BPS}",
            "trailBps",
        )
    if request.trigger_price is not None:
        _check_limit_price(request.trigger_price, "triggerPrice")
        limit = request.limit_price
        # A floor above the trigger is a limit order, not a stop: it could not trade when
        # the stop fires at its trigger.
        if limit is not None and limit.is_finite() and limit > request.trigger_price:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"limitPrice {limit} is above triggerPrice {request.trigger_price}: a stop's "
                "limitPrice is the least it accepts once fired, at or below its trigger",
                "limitPrice",
            )


def _twap_plan(request: OrderRequest) -> TwapPlan | None:
    """Return a TWAP's plan, or refuse its fields on any other type (or out of bounds)."""
    fields = {
        "slices": request.slices,
        "durationSeconds": request.duration_seconds,
        "jitterBps": request.jitter_bps,
    }
    if request.type is not OrderType.TWAP:
        for name, value in fields.items():
            if value is not None:
                raise RejectedError(
                    RejectionCode.INVALID_INPUT, f"{name} is only for TWAP orders", name
                )
        return None
    bounds = {
        "slices": (1, MAX_SLICES),
        "durationSeconds": (1, MAX_DURATION_SECONDS),
        "jitterBps": (0, MAX_JITTER_BPS),
    }
    for name, (low, high) in bounds.items():
        value = fields[name]
        if value is None and name != "jitterBps":
            raise RejectedError(
                RejectionCode.INVALID_INPUT, f"a TWAP order needs {name} ({low}..{high})", name
            )
        if value is not None and not low <= value <= high:
            raise RejectedError(
                RejectionCode.INVALID_INPUT, f"{name} must be between {low} and {high}", name
            )
    return TwapPlan(
        slices=request.slices or 1,
        duration_seconds=request.duration_seconds or 1,
        jitter_bps=request.jitter_bps or 0,
    )


@dataclass(slots=True)
class _UserLock:
    """A user's placement lock, and how many placements hold or wait for it."""

    lock: asyncio.Lock
    users: int = 0
    # Placements of the user waiting for the lock: whoever takes it next stores them all.
    waiting: list[_Waiting] = field(default_factory=list)


@dataclass(eq=False)
class _Waiting:
    """One placeOrder(s) call's admitted-or-not commands, waiting to be stored."""

    commands: list[tuple[int, PlaceOrder]]
    results: list[Order | RejectedError | None]
    caller: Caller
    placements: list[tuple[int, Placement]] = field(default_factory=list)
    refusal: RejectedError | None = None  # storage unavailable: the whole call is refused
    storing: asyncio.Future[None] | None = None  # the storing of the batch it is part of


def _over_cap(
    counts: OpenOrders, command: PlaceOrder, limits: ServiceLimits
) -> RejectedError | None:
    """Return why one more order would break a cap of the user's, or None when it fits."""
    if limits.max_in_flight and counts.in_flight >= limits.max_in_flight:
        return RejectedError(
            RejectionCode.TOO_MANY_ORDERS_IN_FLIGHT,
            f"you have {counts.in_flight} orders in flight (PENDING to SUBMITTED), the most "
            f"allowed is {limits.max_in_flight}: wait for some to finish",
        )
    if limits.max_open and counts.open >= limits.max_open:
        return RejectedError(
            RejectionCode.TOO_MANY_OPEN_ORDERS,
            f"you have {counts.open} open orders, the most allowed is {limits.max_open}: "
            "wait for some to finish or cancel resting ones",
        )
    resting = command.type is not OrderType.MARKET
    if resting and limits.max_resting and counts.conditional >= limits.max_resting:
        return RejectedError(
            RejectionCode.TOO_MANY_RESTING_ORDERS,
            f"you have {counts.conditional} open limit and sniper orders, the most allowed is "
            f"{limits.max_resting}: cancel some or wait for them to fill or expire",
            "type",
        )
    return None


def _counted(counts: OpenOrders, command: PlaceOrder) -> OpenOrders:
    """Return the counts with one more order placed (it starts PENDING)."""
    resting = command.type is not OrderType.MARKET
    return replace(
        counts,
        in_flight=counts.in_flight + 1,
        conditional=counts.conditional + (1 if resting else 0),
    )


def _log_placed(order: Order, *, created: bool) -> None:
    what = "placed" if created else "placed again: the same clientOrderId returns it"
    log.info(
        "order %s %s: %s %s %s -> %s",
        order.id,
        what,
        order.type.value,
        order.amount_in,
        order.token_in.label,
        order.token_out.label,
        extra={**about(order.id), "user_id": order.user_id},
    )


class OrderService:
    """Place, read, cancel and watch orders on behalf of a user."""

    def __init__(
        self,
        repo: ServiceStore,
        queue: OrderQueue,
        *,
        tokens: TokenRegistry,
        router: Router,
        hub: EventHub,
        publisher: EventPublisher,
        limits: ServiceLimits,
        clock: Callable[[], datetime],
        intake: Intake,
        rate_limiter: RateLimiter | None = None,
        order_budget: RateLimiter | None = None,
        pauses: TradingPauses | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.pauses: TradingPauses = pauses or MemoryPauses()
        self.audit: AuditLog = audit or MemoryAuditLog()
        # Mutations count against it; a refusal is remembered until it ends (refused_for).
        self._rate_limiter = RefusalMemo(rate_limiter or NoRateLimit())
        self._order_budget: RateLimiter = order_budget or NoRateLimit()
        self._intake = intake
        # One placement of a user at a time in this process, so the caps see what the
        # previous one stored (see _admit).
        self._placing: dict[str, _UserLock] = {}
        self._prices: dict[str, tuple[Decimal, datetime]] = {}
        self._repo = repo
        self._queue = queue
        self._tokens = tokens
        self._router = router
        self._hub = hub
        self._publisher = publisher
        self._limits = limits
        self._clock = clock
        # New orders being announced (seq 1 published, then queued) after their placement
        # was answered.
        self._announcing = Background()

    @property
    def registry(self) -> TokenRegistry:
        """Return the tokens this service knows."""
        return self._tokens

    def mutations_refused_for(self, user_id: str) -> float | None:
        """Return how long the user's mutations stay over their rate limit here, or None.

        Known from this process's last refusal of them: any mutation they send before then
        is refused too (see :class:`~eterna.application.ratelimit.RefusalMemo`).
        """
        return self._rate_limiter.refused_for(user_id)

    @property
    def limits(self) -> ServiceLimits:
        """Return the limits in force."""
        return self._limits

    # -- placing ---------------------------------------------------------------------

    def validate(self, user_id: str, request: OrderRequest) -> PlaceOrder:
        """Turn a request into a command, or raise RejectedError saying which field is wrong."""
        if request.type not in self._limits.supported_types:
            raise RejectedError(
                RejectionCode.UNSUPPORTED_ORDER_TYPE,
                f"{request.type.value} orders are not supported yet",
                "type",
            )
        self._check_type_fields(request)
        twap = _twap_plan(request)
        token_in = self._token(request.token_in, "tokenIn")
        token_out = self._token(
            request.token_out, "tokenOut", may_be_new=request.type is OrderType.SNIPER
        )
        if token_in.mint == token_out.mint:
            raise RejectedError(
                RejectionCode.SAME_TOKEN, "tokenIn and tokenOut are the same", "tokenOut"
            )
        amount = _token_amount(
            request.amount_in, token_in, "amountIn", RejectionCode.INVALID_AMOUNT
        )
        slippage, cap = _slippage(request)
        impact = request.max_price_impact_bps
        if impact is not None and not 1 <= impact <= 10_000:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "maxPriceImpactBps must be between 1 and 10000",
                "maxPriceImpactBps",
            )
        if request.limit_price is not None:
            _check_limit_price(request.limit_price)
        if twap is not None:
            try:
                split_amount(amount, token_in, twap.slices)
            except ValueError:
                raise RejectedError(
                    RejectionCode.INVALID_AMOUNT,
                    f"amountIn is less than {twap.slices} base units of {token_in.label}: it "
                    f"cannot make {twap.slices} slices",
                    "amountIn",
                ) from None
        if request.min_liquidity is not None:
            _token_amount(
                request.min_liquidity, token_in, "minLiquidity", RejectionCode.INVALID_INPUT
            )
        expires_at = request.expires_at
        if expires_at is not None:
            self._check_expiry(expires_at)
        elif request.type not in (OrderType.MARKET, OrderType.TWAP):
            # A standing instruction is never unbounded: it rests at most the horizon.
            expires_at = self._clock() + self._limits.max_expiry_horizon
        coid = request.client_order_id
        if coid is not None and not CLIENT_ORDER_ID.match(coid):
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "clientOrderId must be 1-64 characters of A-Z a-z 0-9 _ . : -",
                "clientOrderId",
            )
        return PlaceOrder(
            user_id=user_id,
            type=request.type,
            token_in=token_in,
            token_out=token_out,
            amount_in=amount,
            slippage_bps=slippage,
            limit_price=request.limit_price,
            min_liquidity=request.min_liquidity,
            max_price_impact_bps=impact,
            expires_at=expires_at,
            client_order_id=coid,
            trigger_price=request.trigger_price,
            trail_bps=request.trail_bps,
            twap=twap,
            max_slippage_bps=cap,
            min_fill=self._min_fill(request, amount, token_in),
        )

    def _min_fill(self, request: OrderRequest, amount: Decimal, token_in: Token) -> Decimal | None:
        """Return a LIMIT order's least fill (None: all or none; eterna.domain.fills).

        :raises RejectedError: INVALID_INPUT for partial-fill fields on another kind of order,
            ``minFillAmount`` with ``allOrNone: true``, or a minFillAmount that is not a
            positive amount of tokenIn up to amountIn.
        """
        given = request.min_fill_amount
        if request.type is not OrderType.LIMIT:
            if request.all_or_none is False or given is not None:
                name = "minFillAmount" if given is not None else "allOrNone"
                raise RejectedError(
                    RejectionCode.INVALID_INPUT,
                    f"{name} is only for LIMIT orders: other orders fill whole or not at all",
                    name,
                )
            return None
        if request.all_or_none:
            if given is not None:
                raise RejectedError(
                    RejectionCode.INVALID_INPUT,
                    "minFillAmount is for an order filling in parts, not with allOrNone: true",
                    "minFillAmount",
                )
            return None
        if given is None:
            return default_min_fill(amount, token_in, self._limits.min_fill_bps)
        _token_amount(given, token_in, "minFillAmount", RejectionCode.INVALID_INPUT)
        least = default_min_fill(amount, token_in, LEAST_MIN_FILL_BPS)
        if given < least:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"minFillAmount is less than 1/{MAX_FILLS} of amountIn ({format_amount(least)}): "
                f"an order fills in at most {MAX_FILLS} parts",
                "minFillAmount",
            )
        if given > amount:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"minFillAmount is more than amountIn ({format_amount(amount)})",
                "minFillAmount",
            )
        return given

    def _check_type_fields(self, request: OrderRequest) -> None:
        floored = request.type in (OrderType.LIMIT, OrderType.TWAP) or request.type.is_stop
        if not floored and request.limit_price is not None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "limitPrice is only for LIMIT, TWAP and stop orders",
                "limitPrice",
            )
        if request.type is OrderType.LIMIT and request.limit_price is None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT, "a LIMIT order needs a limitPrice", "limitPrice"
            )
        if request.type is not OrderType.SNIPER and request.min_liquidity is not None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "minLiquidity is only for SNIPER orders",
                "minLiquidity",
            )
        if request.type in (OrderType.MARKET, OrderType.TWAP) and request.expires_at is not None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "expiresAt is only for resting orders (LIMIT, SNIPER and stops); a TWAP ends "
                "with its durationSeconds",
                "expiresAt",
            )
        _check_stop_fields(request)

    def _check_expiry(self, expires_at: datetime) -> None:
        """Refuse an expiry without a zone, in the past or beyond the horizon.

        The hints name a time a day ahead, always within the horizon: an example that is
        refused itself (a fixed date, soon past or too far) would only mislead.
        """
        now = self._clock()
        horizon = self._limits.max_expiry_horizon
        example = (now + min(horizon, timedelta(days=1))).strftime("%Y-%m-%dT%H:%M:%SZ")
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"expiresAt needs a time zone, e.g. {example}",
                "expiresAt",
            )
        if expires_at <= now:
            raise RejectedError(
                RejectionCode.INVALID_INPUT, "expiresAt is in the past", "expiresAt"
            )
        if expires_at > now + horizon:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"expiresAt is more than {horizon.days} days ahead: at most "
                f"{(now + horizon).strftime('%Y-%m-%dT%H:%M:%SZ')}, e.g. {example}",
                "expiresAt",
            )

    def _token(self, ref: str, field_name: str, *, may_be_new: bool = False) -> Token:
        ref = ref.strip()
        # Symbols and mints are ASCII; refusing the rest also stops Unicode case folding
        # from turning a look-alike ("\u017fol") into a real symbol.
        if not ref or len(ref) > MAX_TOKEN_REF_LENGTH or not ref.isascii():
            raise RejectedError(RejectionCode.UNKNOWN_TOKEN, "unknown token", field_name)
        token = self._tokens.get(ref)
        if token is not None:
            return token
        if may_be_new and is_mint_address(ref):
            return Token(ref, None, 0)
        raise RejectedError(RejectionCode.UNKNOWN_TOKEN, f"unknown token {ref!r}", field_name)

    async def place(
        self, user_id: str, requests: Sequence[OrderRequest], *, caller: Caller | None = None
    ) -> list[Order | RejectedError]:
        """Place orders; return, in input order, each order or why it was refused.

        The call counts once against the caller's mutation rate limit; over it, or over the
        batch cap, the batch is refused whole. The valid orders then spend one unit each of
        the caller's order budget, all or none (RATE_LIMITED). Each must also fit the
        caller's caps on unfinished orders, in input order (TOO_MANY_ORDERS_IN_FLIGHT,
        TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS); an order whose clientOrderId was
        placed before is never refused by a cap: it returns the order placed first. The
        admitted orders are stored in one transaction; a repeated (user, clientOrderId)
        returns the order placed first.

        The call returns once the orders are stored (committed). Their seq 1 event is then
        published and they are queued, in that order, in a task of their own
        (:meth:`settle` waits for those still in flight): market orders for the workers,
        limit and sniper orders for the trigger watcher's first look. With
        ``MAX_ANNOUNCING`` of those in flight already (Redis slow or away), the call waits
        for its own instead. Neither changes the answer: a failure of either is logged,
        subscribers read seq 1 from Postgres, and the reconciler queues a stored order whose
        message never went out.
        """
        # The pauses in force are read while the rate limit is hit: one round trip fewer to
        # wait for; the answer is read only when the call gets that far.
        pauses = self._read_pauses()
        decision = await self._rate_limiter.hit(user_id)
        if not decision.allowed:
            limited = RateLimitedError(decision.retry_after_seconds)
            return [limited] * len(requests)
        if len(requests) > self._limits.max_batch:
            refusal = RejectedError(
                RejectionCode.BATCH_TOO_LARGE,
                f"at most {self._limits.max_batch} orders per call, got {len(requests)}",
                "inputs",
            )
            return [refusal] * len(requests)
        results: list[Order | RejectedError | None] = [None] * len(requests)
        commands: list[tuple[int, PlaceOrder]] = []
        for i, request in enumerate(requests):
            try:
                command = self.validate(user_id, request)
                await self._check_notional(command)
            except RejectedError as exc:
                results[i] = exc
            else:
                commands.append((i, command))
        if commands:
            commands = await self._unpaused(commands, results, pauses)
        if commands:
            spent = await self._order_budget.hit(user_id, len(commands))
            if not spent.allowed:
                limited = RateLimitedError(spent.retry_after_seconds)
                for i, _ in commands:
                    results[i] = limited
                commands = []
        caller = caller or Caller(user_id)
        if commands and (unstored := await self._store(user_id, commands, results, caller)):
            return [unstored] * len(requests)
        return [r for r in results if r is not None]

    async def place_group(
        self, user_id: str, legs: Sequence[OrderRequest], *, caller: Caller | None = None
    ) -> OrderGroup | RejectedError:
        """Place an OCO group: two resting orders where the first to fire cancels the other.

        Both legs are stored in one transaction, or neither. Each leg is validated as a
        placed order is (a refusal names the leg: ``legs[1].triggerPrice``), must be a
        LIMIT, STOP_LOSS, TAKE_PROFIT or TRAILING_STOP, and both must spend the same
        tokenIn (they close one position); tokenOut and amountIn may differ. Legs take a
        clientOrderId each, or neither: placing the same pair again returns the group placed
        first (a key used by any other order is INVALID_INPUT). The call counts once against
        the mutation rate limit and spends two units of the order budget; the group counts as
        two orders against the caps on unfinished orders, and is refused whole when its
        second leg does not fit.
        """
        try:
            return await self._place_group(user_id, legs, caller or Caller(user_id))
        except RejectedError as exc:
            return exc

    async def _place_group(
        self, user_id: str, legs: Sequence[OrderRequest], caller: Caller
    ) -> OrderGroup:
        decision = await self._rate_limiter.hit(user_id)
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after_seconds)
        group_id = new_group_id()
        commands = await self._group_commands(user_id, legs, group_id)
        results: list[Order | RejectedError | None] = [None] * len(commands)
        kept = await self._unpaused(list(enumerate(commands)), results)
        if len(kept) < len(commands):
            raise next(r for r in results if isinstance(r, RejectedError))
        spent = await self._order_budget.hit(user_id, len(commands))
        if not spent.allowed:
            raise RateLimitedError(spent.retry_after_seconds)
        async with self._one_at_a_time(user_id):
            try:
                known = await self._placed_group(user_id, commands)
                if known is not None:
                    return known  # placed before with these clientOrderIds
                refusal = await self._group_over_cap(user_id, commands)
                if refusal is not None:
                    raise refusal
                placements = await self._repo.place(commands, self._clock())
            except StorageNotMigratedError:
                raise RejectedError(
                    RejectionCode.UNAVAILABLE,
                    "the database is not migrated: nothing was stored; the operator must run "
                    "`eterna migrate`, then retry",
                ) from None
            except StorageUnavailableError:
                raise RejectedError(
                    RejectionCode.UNAVAILABLE, "storage unavailable: nothing was stored; retry"
                ) from None
        if not all(p.created for p in placements):
            return await self._raced(user_id, placements, caller)
        orders = [p.order for p in placements]
        for order in orders:
            _log_placed(order, created=True)
        if len(self._announcing) >= MAX_ANNOUNCING:
            await self._announce(orders, caller)
        else:
            self._announcing.spawn(self._announce(orders, caller))
        return OrderGroup(group_id, orders)

    async def _placed_group(self, user_id: str, commands: list[PlaceOrder]) -> OrderGroup | None:
        """Return the group placed before with the legs' clientOrderIds, if there is one.

        :raises RejectedError: INVALID_INPUT when a leg's clientOrderId names an order that
            is not a leg of one group with the other's.
        """
        keys = [c.client_order_id for c in commands if c.client_order_id is not None]
        if not keys:
            return None
        found = await self._repo.placed_client_orders(user_id, keys)
        if not found:
            return None
        legs = [found.get(k) for k in keys]
        first, second = legs
        if (
            first is not None
            and second is not None
            and first.group_id is not None
            and first.group_id == second.group_id
        ):
            return OrderGroup(first.group_id, [first, second])
        i = next(i for i, leg in enumerate(legs) if leg is not None)
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            f"clientOrderId {keys[i]!r} names an order placed before, not a leg of a group "
            "with the other leg's clientOrderId",
            f"legs[{i}].clientOrderId",
        )

    async def _raced(self, user_id: str, placements: list[Placement], caller: Caller) -> OrderGroup:
        """Settle a group placed at the same moment by another process, with the same keys.

        Both legs found placed before: that group is the answer. One found and one new (two
        different groups raced for the keys): the new leg is cancelled before anything looks
        at it (:meth:`_withdraw`), and the placement refused.
        """
        first, second = (p.order for p in placements)
        if not any(p.created for p in placements) and first.group_id == second.group_id:
            assert first.group_id is not None  # noqa: S101 - legs placed as a group
            return OrderGroup(first.group_id, [first, second])
        for placement in placements:
            if placement.created:
                await self._withdraw(user_id, placement.order, caller)
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            "another placement took one of these clientOrderIds at the same moment; nothing "
            "was placed",
            "legs",
        )

    async def _withdraw(self, user_id: str, leg: Order, caller: Caller) -> None:
        """Cancel a leg stored by a group placement that is being refused.

        Tried :data:`LEG_CANCEL_TRIES` times. A cancel that still fails (the leg changing
        right now, storage away) is logged and left to the leg's firing: its group holds no
        other leg, so where it would fire it is cancelled instead
        (:func:`eterna.application.groups.fire`), and it never trades.
        """
        failure: Exception | None = None
        for attempt in range(LEG_CANCEL_TRIES):
            if attempt:
                await asyncio.sleep(LEG_CANCEL_PAUSE_SECONDS)
            try:
                await self.cancel_of(user_id, str(leg.id), caller)
                return
            # NOT_CANCELLABLE, storage unavailable, or anything else: the answer stays the
            # refusal, and the leg is covered by its firing's check.
            except Exception as exc:
                failure = exc
            try:
                fresh = await self.get(user_id, str(leg.id))
            except Exception as exc:
                failure = exc
                continue
            if fresh is None or not can_apply(fresh.status, Trigger.CANCEL):
                return  # finished meanwhile (by its firing, which cancels a lone leg)
        log.warning(
            "leg %s of a refused group placement not cancelled (%s); it is cancelled "
            "where it would fire, since its group holds no other leg",
            leg.id,
            failure,
            extra={**about(leg.id), "user_id": user_id},
        )

    async def _group_commands(
        self, user_id: str, legs: Sequence[OrderRequest], group_id: uuid.UUID
    ) -> list[PlaceOrder]:
        """Validate a group's legs; return their commands, sharing the group id."""
        if len(legs) != LEGS:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"an OCO group has exactly {LEGS} legs, got {len(legs)}",
                "legs",
            )
        commands: list[PlaceOrder] = []
        for i, leg in enumerate(legs):
            where = f"legs[{i}]"
            if leg.type not in LEG_TYPES:
                names = ", ".join(sorted(t.value for t in LEG_TYPES))
                raise RejectedError(
                    RejectionCode.INVALID_INPUT,
                    f"a leg of an OCO group rests until its trigger holds: one of {names}, "
                    f"not {leg.type.value}",
                    f"{where}.type",
                )
            try:
                command = self.validate(user_id, leg)
                await self._check_notional(command)
            except RejectedError as exc:
                raise RejectedError(
                    exc.code, exc.message, f"{where}.{exc.field}" if exc.field else where
                ) from None
            commands.append(replace(command, group_id=group_id))
        keys = [c.client_order_id for c in commands]
        if (keys[0] is None) != (keys[1] is None) or (keys[0] is not None and keys[0] == keys[1]):
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "give both legs of an OCO group a clientOrderId, each its own, or neither",
                "legs[1].clientOrderId",
            )
        if commands[0].token_in.mint != commands[1].token_in.mint:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "both legs of an OCO group spend the same tokenIn (they close one position)",
                "legs[1].tokenIn",
            )
        return commands

    async def _group_over_cap(
        self, user_id: str, commands: list[PlaceOrder]
    ) -> RejectedError | None:
        """Return why the group's legs (two orders) do not both fit the caps, or None."""
        limits = self._limits
        if not (limits.max_in_flight or limits.max_open or limits.max_resting):
            return None
        counts = await self._repo.open_orders(user_id)
        for command in commands:
            refusal = _over_cap(counts, command, limits)
            if refusal is not None:
                return refusal
            counts = _counted(counts, command)
        return None

    def _read_pauses(self) -> asyncio.Future[frozenset[str]]:
        """Start reading the pauses in force (a failure is kept for whoever awaits it)."""
        reading = asyncio.ensure_future(self.pauses.paused())
        reading.add_done_callback(_retrieved)
        return reading

    async def _unpaused(
        self,
        commands: list[tuple[int, PlaceOrder]],
        results: list[Order | RejectedError | None],
        reading: Awaitable[frozenset[str]] | None = None,
    ) -> list[tuple[int, PlaceOrder]]:
        """Refuse the commands whose pair (or all trading) an administrator paused.

        ``reading`` is a read of the pauses already under way (else one is made here).
        """
        try:
            paused = await (self.pauses.paused() if reading is None else reading)
        except StorageUnavailableError:
            refusal = RejectedError(
                RejectionCode.UNAVAILABLE, "cannot tell whether trading is paused; retry"
            )
            for i, _ in commands:
                results[i] = refusal
            return []
        if not paused:
            return commands
        kept = []
        for i, command in commands:
            why = pauses_of(paused, command.token_in, command.token_out)
            if why is None:
                kept.append((i, command))
            else:
                results[i] = RejectedError(
                    RejectionCode.TRADING_PAUSED, f"{why} is paused by an administrator"
                )
        return kept

    async def _store(
        self,
        user_id: str,
        commands: list[tuple[int, PlaceOrder]],
        results: list[Order | RejectedError | None],
        caller: Caller,
    ) -> RejectedError | None:
        """Admit the commands within the caps, store them, fill in results; announce them.

        Calls of one user are stored one after the other, under the user's lock. The calls
        that queued for the lock meanwhile are stored together by the first of them to take
        it: one count of the open orders and one insert for all, in the order they came,
        so each answer is the one it would have had alone (the caps count the earlier
        calls' orders; a repeated clientOrderId returns the order placed first).

        Return the refusal of the whole call when storage is unavailable.
        """
        own = _Waiting(commands, results, caller)
        async with self._one_at_a_time(user_id, own) as entry:
            storing = own.storing
            if storing is None:  # nobody took it yet: store every call waiting, in order
                batch, entry.waiting = entry.waiting, []
                storing = asyncio.ensure_future(self._store_together(user_id, batch))
                for waiting in batch:
                    waiting.storing = storing
            # Shielded: a caller that gives up does not stop the others' orders being stored;
            # the next to take the lock waits for this batch first.
            await asyncio.shield(storing)
        if own.refusal is not None:
            return own.refusal
        logged = log.isEnabledFor(logging.INFO)  # skip formatting the lines when off
        for i, placement in own.placements:
            results[i] = placement.order
            if logged:
                _log_placed(placement.order, created=placement.created)
        fresh = [p.order for _, p in own.placements if p.created]
        if fresh and len(self._announcing) >= MAX_ANNOUNCING:
            # Redis is slow or away: placing waits for it again rather than piling up.
            await self._announce(fresh, caller)
        elif fresh:
            self._announcing.spawn(self._announce(fresh, caller))
        return None

    async def _store_together(self, user_id: str, batch: list[_Waiting]) -> None:
        """Admit and store the commands of the waiting calls as one, in order."""
        merged: list[tuple[int, PlaceOrder]] = []
        owner: list[tuple[_Waiting, int]] = []
        for waiting in batch:
            for i, command in waiting.commands:
                owner.append((waiting, i))
                merged.append((len(merged), command))
        refusals: list[Order | RejectedError | None] = [None] * len(merged)
        try:
            admitted = await self._admit(user_id, merged, refusals)
            placements = await self._repo.place([c for _, c in admitted], self._clock())
        except (StorageNotMigratedError, StorageUnavailableError) as exc:
            refusal = RejectedError(
                RejectionCode.UNAVAILABLE,
                "the database is not migrated: nothing was stored; the operator must run "
                "`eterna migrate`, then retry"
                if isinstance(exc, StorageNotMigratedError)
                else "storage unavailable: nothing was stored; retry (with the same "
                "clientOrderId to stay idempotent)",
            )
            for waiting in batch:
                waiting.refusal = refusal
            return
        first_of_key: dict[str, tuple[int, Order]] = {}
        for (k, command), placement in zip(admitted, placements, strict=True):
            waiting, i = owner[k]
            waiting.placements.append((i, placement))
            key = command.client_order_id
            if key and key not in first_of_key:
                first_of_key[key] = (k, placement.order)
        for k, refused in enumerate(refusals):
            if refused is None:
                continue
            # A repeat refused by a cap returns the order placed first, also when an earlier
            # call of this batch placed it (``_admit`` looked before the insert).
            key = merged[k][1].client_order_id
            known = first_of_key.get(key) if key else None
            waiting, i = owner[k]
            if isinstance(refused, RejectedError) and known is not None and known[0] < k:
                waiting.results[i] = known[1]
            else:
                waiting.results[i] = refused

    @contextlib.asynccontextmanager
    async def _one_at_a_time(
        self, user_id: str, waiting: _Waiting | None = None
    ) -> AsyncIterator[_UserLock]:
        """Hold the user's placement lock; the lock is forgotten once nobody holds or waits.

        ``waiting`` joins the calls whoever takes the lock next stores (``_store``).
        """
        entry = self._placing.get(user_id)
        if entry is None:
            entry = self._placing[user_id] = _UserLock(asyncio.Lock())
        entry.users += 1
        if waiting is not None:
            entry.waiting.append(waiting)
        try:
            async with entry.lock:
                yield entry
        finally:
            if waiting is not None and waiting.storing is None and waiting in entry.waiting:
                entry.waiting.remove(waiting)  # given up before anyone took it: not stored
            entry.users -= 1
            if entry.users == 0:
                del self._placing[user_id]

    async def _admit(
        self,
        user_id: str,
        commands: list[tuple[int, PlaceOrder]],
        results: list[Order | RejectedError | None],
    ) -> list[tuple[int, PlaceOrder]]:
        """Return the commands that fit the caller's caps, in input order; refuse the rest.

        The counts are read while this process places nothing else for the user, so two
        calls of one user here never both take the last place. Calls of one user on
        different API processes at the same moment may overshoot a cap by one batch each.
        """
        limits = self._limits
        if not (limits.max_in_flight or limits.max_open or limits.max_resting):
            return commands
        counts = await self._repo.open_orders(user_id)
        admitted: list[tuple[int, PlaceOrder]] = []
        refused: list[tuple[int, PlaceOrder, RejectedError]] = []
        for i, command in commands:
            refusal = _over_cap(counts, command, limits)
            if refusal is None:
                admitted.append((i, command))
                counts = _counted(counts, command)
            else:
                refused.append((i, command, refusal))
        # A repeat of a clientOrderId placed before creates nothing: never refuse it.
        keys = [c.client_order_id for _, c, _ in refused if c.client_order_id]
        placed = await self._repo.placed_client_orders(user_id, keys) if keys else {}
        for i, command, refusal in refused:
            known = placed.get(command.client_order_id or "")
            results[i] = refusal if known is None else known
        return admitted

    async def _announce(self, orders: list[Order], caller: Caller) -> None:
        """Publish seq 1 of new orders, then queue them (market) or hand them to the watcher.

        Subscribers hear seq 1 live, before any step a worker takes (it is published before
        the order is queued); otherwise each would read it from the database. A limit or
        sniper order never waits in the workers' queue behind market orders: the trigger
        watcher looks at it first, and queues it for a worker only when its trigger holds.
        """
        ids = [o.id for o in orders]
        try:
            await self._publisher.publish([placed_event(o) for o in orders])
        except Exception:  # never skip the queue for it
            log.exception("could not publish seq 1 of %d orders", len(ids), extra=about_many(ids))
        market = [QueuedOrder(o.id, o.user_id) for o in orders if o.type is OrderType.MARKET]
        # A TWAP goes to neither: the TWAP scheduler reads the working ones from the store.
        resting = [
            QueuedOrder(o.id, o.user_id)
            for o in orders
            if o.type not in (OrderType.MARKET, OrderType.TWAP)
        ]
        try:
            await self._enqueue(market)
            if resting:
                await self._intake.submit(resting)
        except Exception:  # nobody awaits this task: say so here
            log.exception(
                "could not queue %d orders; the reconciler will", len(ids), extra=about_many(ids)
            )
        # Last: the audit entry never delays an order's execution.
        now = self._clock()
        entries = [AuditEntry.of(caller, PLACED, str(o.id), now) for o in orders]
        try:
            await self.audit.record(entries)
        except Exception:
            log.exception("could not audit %d placements", len(ids), extra=about_many(ids))

    async def settle(self, timeout_seconds: float = 5.0) -> bool:
        """Wait until every placed order was announced; False if some still were not."""
        return await self._announcing.settle(timeout_seconds)

    async def _check_notional(self, command: PlaceOrder) -> None:
        """Refuse an order worth more than the maximum notional, valued in USD.

        The value is amountIn at the price a purchase of ``pricing_usdc_amount`` USDC worth
        of tokenIn would pay now (USDC counts as 1 USD). When the token cannot be priced
        (no route to USDC, venues down), only the u64 bound of ``validate`` applies.
        """
        cap = self._limits.max_notional_usd
        if cap <= 0:
            return
        price = await self._usd_price(command.token_in)
        if price is None:
            return
        value = command.amount_in * price
        if value > cap:
            raise RejectedError(
                RejectionCode.INVALID_AMOUNT,
                f"amountIn is worth about {value:,.0f} USD, over the maximum order size of "
                f"{cap:,.0f} USD",
                "amountIn",
            )

    async def _usd_price(self, token: Token) -> Decimal | None:
        usdc = self._tokens.get(USDC.mint)
        if usdc is None:
            return None
        if token.mint == usdc.mint:
            return Decimal(1)
        now = self._clock()
        cached = self._prices.get(token.mint)
        if cached is not None and now - cached[1] < PRICE_TTL:
            return cached[0]
        spend = self._limits.pricing_usdc_amount
        try:
            decision = await self._router.route(usdc, token, spend, slippage_bps=MAX_SLIPPAGE_BPS)
        except EternaError as exc:
            log.info("cannot price %s in USD (%s); notional not checked", token.label, exc)
            return None
        bought = decision.route.amount_out
        if bought <= 0:
            return None
        price = spend / bought
        self._prices[token.mint] = (price, now)
        return price

    async def _enqueue(self, orders: list[QueuedOrder]) -> None:
        if not orders:
            return
        try:
            await self._queue.enqueue(orders)
        except EternaError as exc:
            # The orders are stored as PENDING; the reconciler queues them again.
            log.warning(
                "could not queue %d orders (%s); the reconciler will",
                len(orders),
                exc,
                extra=about_many([o.order_id for o in orders]),
            )

    async def cancel(self, user_id: str, order_id: str, *, caller: Caller | None = None) -> Order:
        """Cancel the caller's PENDING or WAITING order.

        A cancel racing the worker ends in exactly one outcome: the write that lands first
        wins, because both are guarded by the order's ``last_seq``.

        :raises RejectedError: NOT_FOUND, NOT_CANCELLABLE once the order has moved on, or
            RATE_LIMITED (a RateLimitedError saying when to retry).
        """
        decision = await self._rate_limiter.hit(user_id)
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after_seconds)
        return await self.cancel_of(user_id, order_id, caller or Caller(user_id))

    async def cancel_of(self, user_id: str, order_id: str, caller: Caller) -> Order:
        """Cancel ``user_id``'s order on behalf of ``caller`` (no rate limit); audit it.

        :raises RejectedError: NOT_FOUND or NOT_CANCELLABLE.
        """
        by = "its owner" if caller.user_id == user_id else f"administrator {caller.user_id}"
        for _ in range(3):
            order = await self.get(user_id, order_id)
            if order is None:
                raise RejectedError(RejectionCode.NOT_FOUND, "order not found", "id")
            if not can_apply(order.status, Trigger.CANCEL):
                raise RejectedError(
                    RejectionCode.NOT_CANCELLABLE,
                    f"a {order.status.value} order can no longer be cancelled",
                    "id",
                )
            now = self._clock()
            try:
                order, event = await take_step(
                    self._repo,
                    order,
                    Cancelled(message=f"cancelled by {by}"),
                    owner=None,
                    now=now,
                    lease_until=now,
                )
            except LeaseLostError:
                continue  # it moved on while we looked: read it again
            await self._publisher.publish([event])
            log.info(
                "order %s cancelled by %s",
                order.id,
                by,
                extra={**about(order.id), "user_id": order.user_id, "actor": caller.user_id},
            )
            await self._audit_cancel(caller, order)
            return order
        raise RejectedError(
            RejectionCode.NOT_CANCELLABLE, "the order is changing right now; try again", "id"
        )

    async def cancel_group(
        self, user_id: str, group_id: str, *, caller: Caller | None = None
    ) -> OrderGroup:
        """Cancel the legs of the caller's OCO group that can still be cancelled.

        Each leg is cancelled as ``cancelOrder`` cancels it (guarded by its ``last_seq``);
        a leg that fired (routing or later) or finished is left as it is. A leg still open
        but changing right now is tried again (:data:`LEG_CANCEL_TRIES` rounds); one still
        open after them refuses the call, naming it, so that success always means no leg
        of the group is left open.

        :raises RejectedError: NOT_FOUND, NOT_CANCELLABLE when no leg could be cancelled or
            a leg stayed open (its id in the message; a retry cancels what is left), or
            RATE_LIMITED.
        """
        decision = await self._rate_limiter.hit(user_id)
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after_seconds)
        group = await self.get_group(user_id, group_id)
        if group is None:
            raise RejectedError(RejectionCode.NOT_FOUND, "order group not found", "id")
        caller = caller or Caller(user_id)
        cancelled = 0
        for leg in group.orders:
            if can_apply(leg.status, Trigger.CANCEL) and await self._cancel_leg(leg, caller):
                cancelled += 1
        if not cancelled:
            raise RejectedError(
                RejectionCode.NOT_CANCELLABLE,
                "no leg of the group can be cancelled any more (fired or finished)",
                "id",
            )
        return await self.get_group(user_id, group_id) or group

    async def _cancel_leg(self, leg: Order, caller: Caller) -> bool:
        """Cancel an open leg of a group; tell whether this call cancelled it.

        ``cancel_of`` answers NOT_CANCELLABLE both for a leg that finished or fired (left
        as it is: False) and for one that kept changing while it tried: read again, a leg
        still open is tried again.

        :raises RejectedError: NOT_CANCELLABLE naming the leg when it is still open after
            :data:`LEG_CANCEL_TRIES` rounds; NOT_FOUND.
        """
        for attempt in range(LEG_CANCEL_TRIES):
            if attempt:
                await asyncio.sleep(LEG_CANCEL_PAUSE_SECONDS)
            try:
                await self.cancel_of(leg.user_id, str(leg.id), caller)
            except RejectedError as exc:
                if exc.code is not RejectionCode.NOT_CANCELLABLE:
                    raise
            else:
                return True
            fresh = await self.get(leg.user_id, str(leg.id))
            if fresh is None or not can_apply(fresh.status, Trigger.CANCEL):
                return False  # fired or finished meanwhile: left as it is
        raise RejectedError(
            RejectionCode.NOT_CANCELLABLE,
            f"leg {leg.id} of the group is still open but kept changing while it was being "
            "cancelled; try cancelOrderGroup again",
            "id",
        )

    async def get_group(self, user_id: str, group_id: str) -> OrderGroup | None:
        """Return the caller's OCO group, or None (also for someone else's)."""
        parsed = parse_order_id(group_id)
        if parsed is None:
            return None
        legs = await self._repo.group_orders(parsed)
        if not legs or any(o.user_id != user_id for o in legs):
            return None
        return OrderGroup(parsed, legs)

    async def _audit_cancel(self, caller: Caller, order: Order) -> None:
        try:
            await self.audit.record(
                [AuditEntry.of(caller, CANCELLED, str(order.id), self._clock())]
            )
        except Exception:  # the cancel stands; the gap in the trail is logged
            log.exception("could not audit the cancel of %s", order.id, extra=about(order.id))

    # -- reading ---------------------------------------------------------------------

    async def get(self, user_id: str, order_id: str) -> Order | None:
        """Return the caller's order, or None (also for someone else's)."""
        parsed = parse_order_id(order_id)
        if parsed is None:
            return None
        order = await self._repo.get(parsed)
        return order if order is not None and order.user_id == user_id else None

    async def list_orders(
        self,
        user_id: str,
        *,
        first: int | None,
        after: str | None,
        status: OrderStatus | None,
        order_type: OrderType | None,
    ) -> OrdersPage:
        """Return a page of the caller's orders, newest first."""
        size = self._limits.default_page_size if first is None else first
        if not 0 <= size <= self._limits.max_page_size:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"first must be between 0 and {self._limits.max_page_size}",
                "first",
            )
        cursor = decode_cursor(after) if after else None
        page: StoredOrders = await self._repo.list_for_user(
            user_id, first=size, after=cursor, status=status, order_type=order_type
        )
        return OrdersPage(
            orders=[(o, encode_cursor(o)) for o in page.orders],
            has_next=page.has_next,
            has_previous=cursor is not None,
        )

    async def events_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Return the events of orders the caller already read (and so owns), by order."""
        return await self._repo.events_of_orders(order_ids)

    async def children_of(self, parent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Order]]:
        """Return the slices of TWAP orders the caller already read (and so owns), by order."""
        return await self._repo.children_of(parent_ids)

    async def order_events(
        self, user_id: str, order_id: str, after_seq: int
    ) -> AsyncIterator[OrderEvent]:
        """Return the gap-free event stream of the caller's order.

        The owner's check and the history are one read, made by the stream once its listener
        is registered: when the order is not the caller's, the stream raises NOT_FOUND before
        yielding anything (an unreadable id or a negative afterSeq are refused here).

        :raises RejectedError: NOT_FOUND when the order is not the caller's.
        """
        parsed = parse_order_id(order_id)
        if parsed is None:
            raise RejectedError(RejectionCode.NOT_FOUND, "order not found", "orderId")
        if after_seq < 0:
            if await self.get(user_id, order_id) is None:  # the order's absence comes first
                raise RejectedError(RejectionCode.NOT_FOUND, "order not found", "orderId")
            raise RejectedError(RejectionCode.INVALID_INPUT, "afterSeq must be >= 0", "afterSeq")
        return order_event_stream(
            self._hub,
            self._repo,
            parsed,
            after_seq=after_seq,
            owner=user_id,
        )

    def my_order_events(self, user_id: str) -> AsyncIterator[OrderEvent]:
        """Return the live event stream of all the caller's orders."""
        return user_event_stream(
            self._hub,
            self._repo,
            user_id,
            now=self._clock,
        )

    # -- market ----------------------------------------------------------------------

    def tokens(self) -> list[Token]:
        """Return the tradeable tokens."""
        return list(self._tokens)

    async def venues(self) -> list[VenueInfo]:
        """Describe every venue the router quotes."""
        return [await v.info() for v in self._router.venues]

    async def quote(
        self, token_in: str, token_out: str, amount_in: Decimal, slippage_bps: int | None
    ) -> RoutingDecision:
        """Preview the route for a market order without placing it.

        :raises RejectedError: for invalid input, no route, or unavailable venues.
        """
        command = self.validate(
            "",
            OrderRequest(
                type=OrderType.MARKET,
                token_in=token_in,
                token_out=token_out,
                amount_in=amount_in,
                slippage_bps=slippage_bps,
            ),
        )
        try:
            return await self._router.route(
                command.token_in,
                command.token_out,
                command.amount_in,
                slippage_bps=command.slippage_bps,
            )
        except NoRouteError as exc:
            raise RejectedError(RejectionCode.NO_ROUTE, str(exc)) from None
        except TransientError as exc:
            raise RejectedError(RejectionCode.UNAVAILABLE, str(exc)) from None


def _slippage(request: OrderRequest) -> tuple[int, int | None]:
    """Return the order's slippageBps and its adaptive cap (None: a fixed tolerance).

    With ``maxSlippageBps`` the engine picks each attempt's tolerance up to it, and
    ``slippageBps`` holds the cap (the widest floor the order may get).

    :raises RejectedError: INVALID_INPUT when both are given, or one is out of range.
    """
    cap = request.max_slippage_bps
    if cap is not None:
        if request.slippage_bps is not None:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                "give slippageBps (a fixed tolerance) or maxSlippageBps (adaptive, up to "
                "it), not both",
                "maxSlippageBps",
            )
        if not 1 <= cap <= MAX_SLIPPAGE_BPS:
            raise RejectedError(
                RejectionCode.INVALID_INPUT,
                f"maxSlippageBps must be between 1 and {MAX_SLIPPAGE_BPS}",
                "maxSlippageBps",
            )
        return cap, cap
    slippage = DEFAULT_SLIPPAGE_BPS if request.slippage_bps is None else request.slippage_bps
    if not 1 <= slippage <= MAX_SLIPPAGE_BPS:
        raise RejectedError(
            RejectionCode.INVALID_INPUT,
            f"slippageBps must be between 1 and {MAX_SLIPPAGE_BPS}",
            "slippageBps",
        )
    return slippage, None
