"""Composition root shared by the API and the worker: build every piece for a run mode.

Embedded (no REDIS_URL): one process holds the API, an in-memory queue, the engine and the
local chain, on SQLite in the data folder (or on DATABASE_URL when set), and migrates at start.
Distributed (REDIS_URL and DATABASE_URL): API processes queue orders on a Redis Stream and
fan events out from another one; ``eterna worker`` processes execute; migrations are a
release step (``eterna migrate``).

The market is a Solana cluster: a shared ``eterna chain`` at ETERNA_SOLANA_RPC_URL, or the
local chain run in the process (:mod:`eterna.entrypoints.market`).

Every process that executes orders also competes to run the trigger watcher of limit and
sniper orders (``tasks.watcher``): exactly one runs it, under a Redis lock; the embedded
process always does.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

import redis.asyncio as aioredis
from tortoise import Tortoise
from tortoise.context import set_global_context
from tortoise.migrations.api.migrate import migrate

from eterna.adapters.auth import MIN_SECRET_LENGTH, JwtAuth, check_secret
from eterna.adapters.events.batching import BatchingPublisher
from eterna.adapters.events.transport import (
    LocalPublisher,
    RedisStreamDispatcher,
    RedisStreamPublisher,
)
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.metrics import Metrics
from eterna.application.admin import AdminService
from eterna.application.audit import BatchingAuditLog
from eterna.application.engine import EngineConfig, ExecutionEngine
from eterna.application.events.hub import EventHub
from eterna.application.events.sweep import MissedEventSweep
from eterna.application.ports import EventPublisher, MarketData, OrderStore, StoreObserver
from eterna.application.ratelimit import (
    InMemoryRateLimiter,
    NoRateLimit,
    RateLimit,
    RateLimiter,
    RedisRateLimiter,
)
from eterna.application.reconciler import Reconciler
from eterna.application.service import OrderService, ServiceLimits
from eterna.application.triggers.watcher import TriggerWatcher, WatcherConfig
from eterna.application.twap import TwapScheduler
from eterna.core.clock import utcnow
from eterna.core.loop_lag import LoopLag
from eterna.domain.orders import OrderType
from eterna.domain.tokens import TokenRegistry
from eterna.entrypoints.administration import admin_service, trading_pauses
from eterna.entrypoints.config import Settings
from eterna.entrypoints.market import CHAIN_MAX_LEGS, open_chain
from eterna.entrypoints.migration_state import MigrationState
from eterna.entrypoints.observe import observe, watch
from eterna.routing.router import Router
from models.audit import TortoiseAuditLog
from models.config import is_postgres_url, ping, tortoise_config
from models.postgres import PostgresOrderStore, open_postgres_store
from models.tortoise_store import TortoiseOrderStore
from tasks.broker import READ_AHEAD, FairBroker, build_broker, set_engine
from tasks.consumer import OrderConsumer
from tasks.intake import LanesIntake
from tasks.lanes import Lanes, MemoryLanes, RedisLanes
from tasks.queue import TaskiqOrderQueue
from tasks.watcher import AlwaysHeld, Lock, RedisLock, WatcherRunner, lock_owner

log = logging.getLogger(__name__)

Role = Literal["api", "worker"]


@dataclass
class Runtime:
    """Everything a process of Eterna runs on."""

    settings: Settings
    chain: LocalNode | None  # the in-process local chain, when there is no shared one
    router: Router
    hub: EventHub
    repo: OrderStore
    broker: FairBroker
    service: OrderService
    engine: ExecutionEngine | None
    reconciler: Reconciler | None
    auth: JwtAuth
    redis: aioredis.Redis | None
    metrics: Metrics
    watcher: WatcherRunner | None = None  # in processes that execute orders
    sweep: MissedEventSweep | None = None  # in processes that serve subscriptions
    consumer: OrderConsumer | None = None  # in processes that execute orders
    migrations: MigrationState | None = None  # where migrations are a release step
    admin: AdminService | None = None  # the administrators' operations (API processes)

    @property
    def runs_engine(self) -> bool:
        """Tell whether this process executes orders."""
        return self.engine is not None


def events_stream(settings: Settings) -> str:
    """Return the Redis Stream that carries order events."""
    return f"{settings.redis_prefix}:events"


def resting_stream(settings: Settings) -> str:
    """Return the Redis Stream of the events that may concern the trigger watcher."""
    return f"{settings.redis_prefix}:events:resting"


def watcher_lock_key(settings: Settings) -> str:
    """Return the Redis key whose holder runs the trigger watcher."""
    return f"{settings.redis_prefix}:watcher"


def local_secret_path(settings: Settings) -> Path:
    """Return where the embedded mode keeps its generated secret (absolute)."""
    return (settings.data_dir / "jwt_secret").resolve()


def jwt_auth(settings: Settings, *, create_secret: bool = True) -> JwtAuth:
    """Return the JWT verifier; the embedded mode keeps a generated secret in its data folder.

    ``create_secret=False`` refuses to invent one: a token signed with a secret no server
    holds is refused as an invalid token later, far from the cause (``eterna token`` run
    from another folder than the server's).

    :raises ValueError: when the distributed mode has no strong JWT_SECRET, or when there is
        no secret to use and none may be made.
    """
    if settings.jwt_secret is not None:
        secret = check_secret(settings.jwt_secret.get_secret_value())
    elif settings.distributed:
        raise ValueError(
            f"the distributed mode needs JWT_SECRET (at least {MIN_SECRET_LENGTH} characters)"
        )
    elif not create_secret and not local_secret_path(settings).exists():
        raise ValueError(
            f"no secret at {local_secret_path(settings)}: no `eterna serve` has run with this "
            "data folder. Run this where the server runs, point ETERNA_DATA_DIR at its data "
            "folder, or set JWT_SECRET to the server's"
        )
    else:
        secret = _local_secret(settings.data_dir)
    return JwtAuth(
        secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def rate_limiter(settings: Settings, redis: aioredis.Redis | None) -> RateLimiter:
    """Return the per-user mutation limiter: shared through Redis when there is one."""
    return _per_minute(settings.rate_limit_per_minute, redis, settings.redis_prefix)


def order_budget(settings: Settings, redis: aioredis.Redis | None) -> RateLimiter:
    """Return the per-user order budget (one unit an order): shared through Redis if any."""
    return _per_minute(settings.orders_per_minute, redis, f"{settings.redis_prefix}:budget")


def _per_minute(limit: int, redis: aioredis.Redis | None, prefix: str) -> RateLimiter:
    if limit <= 0:
        return NoRateLimit()
    rate = RateLimit(limit, period_seconds=60.0)
    if redis is not None:
        return RedisRateLimiter(redis, rate, prefix=prefix)
    return InMemoryRateLimiter(rate)


def lanes(settings: Settings, redis: aioredis.Redis | None, name: str) -> Lanes:
    """Return per-user lanes named ``name``: in Redis when there is one, else in memory."""
    if redis is None:
        return MemoryLanes()
    return RedisLanes(redis, f"{settings.redis_prefix}:{name}")


def _local_secret(data_dir: Path) -> str:
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


# Connections Tortoise keeps beside the Postgres store's pool: migrations, /health and the
# order counts of the metrics are all it serves there.
TORTOISE_BESIDE_POSTGRES = 2


async def open_database(settings: Settings, *, run_migrations: bool) -> None:
    """Connect Tortoise (and apply migrations first when asked)."""
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    pool_size = TORTOISE_BESIDE_POSTGRES if is_postgres_url(url) else settings.db_pool_size
    config = tortoise_config(url, pool_size=pool_size)
    if run_migrations:
        await migrate(config=config)
        await close_database()
    # Requests and tasks run outside the task that initialised Tortoise: share it globally.
    set_global_context(await Tortoise.init(config=config))


async def open_store(settings: Settings, observer: StoreObserver | None) -> OrderStore:
    """Return the order store: on Postgres its own asyncpg store, else the Tortoise one."""
    url = settings.effective_database_url
    if is_postgres_url(url):
        return await open_postgres_store(url, pool_size=settings.db_pool_size, observer=observer)
    return TortoiseOrderStore(observer=observer)


async def close_store(store: OrderStore, *, and_database: bool = False) -> None:
    """Close the store's own connections (the Postgres store's pool), then Tortoise's if asked."""
    if isinstance(store, PostgresOrderStore):
        await store.close()
    if and_database:
        await close_database()


async def close_database() -> None:
    """Close Tortoise's connections; a later init may open another database, of any dialect.

    Each dialect has a connection name of its own (``models.config.connection_name``), so
    the SQL Tortoise cached for one is never reused for the other.
    """
    await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, role: Role) -> AsyncIterator[Runtime]:
    """Build and start the pieces for this role; stop them on exit."""
    auth = jwt_auth(settings)
    await open_database(settings, run_migrations=not settings.distributed)
    migrations = await _migration_state(settings)
    redis = aioredis.from_url(settings.redis_url) if settings.redis_url else None
    hub = EventHub()
    publisher, dispatcher = _event_transport(settings, role, redis, hub)
    link = await open_chain(settings)
    router = Router(link.venues, max_legs=CHAIN_MAX_LEGS)
    admission = LoopLag(settings.worker_max_loop_lag_ms / 1000)
    broker = build_broker(
        lanes(settings, redis, "orders"),
        read_ahead=READ_AHEAD if redis else 1,
        admission=admission,
    )
    intake = LanesIntake(lanes(settings, redis, "intake"))
    metrics = observe(settings, role, broker)
    # Every placement and step is observed where it is persisted (eterna.adapters.metrics).
    repo = await open_store(settings, metrics)
    queue = TaskiqOrderQueue(broker)
    engine = None
    reconciler = None
    watcher = None
    consumer = None
    if role == "worker" or not settings.distributed:
        engine = ExecutionEngine(
            repo,
            router,
            link.gateway,
            publisher,
            EngineConfig(
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.max_attempts,
                backoff_base_ms=settings.backoff_base_ms,
                backoff_max_ms=settings.backoff_max_ms,
            ),
            market=link.market,
        )
        set_engine(broker, engine)
        consumer = OrderConsumer(
            broker, engine, concurrency=settings.worker_concurrency, admission=admission
        )
        reconciler = Reconciler(
            repo,
            queue,
            utcnow,
            interval_seconds=settings.reconcile_seconds,
            stale_after_seconds=max(settings.lease_seconds, settings.reconcile_seconds),
        )
        watcher = _watcher_runner(
            settings,
            redis=redis,
            hub=hub,
            repo=repo,
            router=router,
            market=link.market,
            publisher=publisher,
            queue=queue,
            intake=intake,
        )
    watch(metrics, role=role, hub=hub, engine=engine, runner=watcher, redis=redis, repo=repo)
    service = OrderService(
        repo,
        queue,
        tokens=TokenRegistry(link.tokens),
        router=router,
        hub=hub,
        publisher=publisher,
        limits=ServiceLimits(
            max_batch=settings.max_batch,
            max_in_flight=settings.max_orders_in_flight_per_user,
            max_open=settings.max_open_orders_per_user,
            max_resting=settings.max_resting_orders_per_user,
            max_page_size=settings.max_page_size,
            max_notional_usd=settings.max_notional_usd,
            max_expiry_horizon=timedelta(days=settings.max_expiry_horizon_days),
            min_fill_bps=settings.min_fill_bps,
            supported_types=frozenset(OrderType),
        ),
        clock=utcnow,
        intake=intake,
        rate_limiter=rate_limiter(settings, redis),
        order_budget=order_budget(settings, redis),
        pauses=trading_pauses(settings, redis),
        audit=BatchingAuditLog(TortoiseAuditLog()),
    )
    runtime = Runtime(
        settings=settings,
        chain=link.node,
        router=router,
        hub=hub,
        repo=repo,
        broker=broker,
        service=service,
        engine=engine,
        reconciler=reconciler,
        auth=auth,
        redis=redis,
        metrics=metrics,
        watcher=watcher,
        consumer=consumer,
        migrations=migrations,
        admin=admin_service(service, repo),
        sweep=(
            MissedEventSweep(hub, repo, utcnow, interval_seconds=settings.idle_recheck_seconds)
            if role == "api"
            else None
        ),
    )
    await _start(runtime, role, dispatcher)
    try:
        yield runtime
    finally:
        # Orders placed last are published and queued before Redis goes.
        if not await service.settle():
            log.warning("some orders placed last were not queued; the reconciler will")
        if watcher is not None:
            await watcher.stop()
        await _stop_execution(runtime)
        if reconciler is not None:
            await reconciler.stop()
        if runtime.sweep is not None:
            await runtime.sweep.stop()
        if dispatcher is not None:
            await dispatcher.stop()
        await broker.shutdown()
        if redis is not None:
            await redis.aclose()
        await link.close()
        await close_store(repo, and_database=True)
        # What start-up froze would never be freed: a process that starts runtimes again
        # (tests, the embedded commands) would keep every stopped one, chain and all.
        gc.unfreeze()


async def _stop_execution(runtime: Runtime) -> None:
    """Stop the embedded mode's worker, then the engine's background work."""
    if runtime.consumer is not None and not runtime.settings.distributed:
        await runtime.consumer.stop(runtime.settings.shutdown_grace_seconds)
    if runtime.engine is not None:
        await runtime.engine.close()


async def _migration_state(settings: Settings) -> MigrationState | None:
    """Check the migrations where they are a release step (the distributed mode)."""
    if not settings.distributed:
        return None  # migrated at start
    config = tortoise_config(settings.effective_database_url, pool_size=settings.db_pool_size)
    state = MigrationState(config["apps"])
    await state.check()
    return state


async def _start(runtime: Runtime, role: Role, dispatcher: RedisStreamDispatcher | None) -> None:
    """Start the queue, the event reader and the background tasks; then settle the heap."""
    runtime.broker.is_worker_process = runtime.consumer is not None
    await runtime.broker.startup()
    if runtime.consumer is not None and not runtime.settings.distributed:
        runtime.consumer.start()  # the embedded mode's worker
    if dispatcher is not None:
        await dispatcher.start()
    if runtime.reconciler is not None:
        runtime.reconciler.start()
    if runtime.sweep is not None:
        runtime.sweep.start()
    await _start_watcher(runtime.watcher)
    freeze_startup_heap()


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, schema, models, pools) out of the cyclic GC's scans.

    A process holds a couple of hundred thousand objects once it is up; each full collection
    walked them all, pausing the event loop for 60 to 140 ms (measured in the API under
    load), which is what the slowest requests waited for. Frozen objects are never freed or
    scanned again (until the runtime stops and unfreezes them); what the process allocates
    later is collected as before.
    """
    gc.collect()
    gc.freeze()


async def _start_watcher(watcher: WatcherRunner | None) -> None:
    if watcher is None:
        return
    # Connect here, not lazily in the watcher's first query: a connection still being opened
    # when a short-lived runtime stops would be left behind (aiosqlite's thread).
    await ping()
    watcher.start()


def _event_transport(
    settings: Settings, role: Role, redis: aioredis.Redis | None, hub: EventHub
) -> tuple[EventPublisher, RedisStreamDispatcher | None]:
    """Return the publisher of committed events, and the API's reader of the event stream.

    Appends to the stream are batched: the steps a busy worker finishes at once share a
    round trip. The local hub takes events synchronously and needs no batching.
    """
    if redis is None:
        return LocalPublisher(hub), None
    stream = events_stream(settings)
    dispatcher = RedisStreamDispatcher(redis, stream, hub) if role == "api" else None
    side = (resting_stream(settings), TriggerWatcher.may_concern)
    return BatchingPublisher(RedisStreamPublisher(redis, stream, side=side)), dispatcher


def _watcher_runner(
    settings: Settings,
    *,
    redis: aioredis.Redis | None,
    hub: EventHub,
    repo: OrderStore,
    router: Router,
    market: MarketData,
    publisher: EventPublisher,
    queue: TaskiqOrderQueue,
    intake: LanesIntake,
) -> WatcherRunner:
    """Return the trigger watcher, run while this process holds the watcher lock.

    A worker reads the stream of events that may concern resting orders into its hub only
    while it runs the watcher.
    """
    watcher = TriggerWatcher(
        repo,
        router,
        market,
        WatcherConfig(
            confirm_concurrency=settings.watcher_concurrency,
            resync_seconds=settings.watcher_resync_seconds,
        ),
        hub=hub,
        publisher=publisher,
        queue=queue,
        clock=utcnow,
        intake=intake,
        # TWAPs are scheduled by the watcher's single holder too (decision 0028).
        twap=TwapScheduler(repo, publisher=publisher, queue=queue, clock=utcnow),
    )
    ttl_ms = settings.watcher_lock_ttl_ms
    if redis is None:
        return WatcherRunner(watcher, AlwaysHeld(), ttl_ms=ttl_ms)
    lock: Lock = RedisLock(redis, watcher_lock_key(settings), lock_owner(), ttl_ms)
    stream = resting_stream(settings)
    return WatcherRunner(
        watcher, lock, ttl_ms=ttl_ms, events=lambda: RedisStreamDispatcher(redis, stream, hub)
    )
