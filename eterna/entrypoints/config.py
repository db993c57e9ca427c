"""Settings, read once from the environment by the composition roots.

The seed's variable names are kept (``PORT``, ``DATABASE_URL``, ``REDIS_URL``, ``JWT_SECRET``,
``DEX_API_KEY``); everything else is ``ETERNA_*``. Components never read the environment:
they receive the frozen pieces they need.

Every field has a description: ``eterna settings`` prints them, each command's ``--help``
names the settings it reads (by :data:`SECTIONS`), and a test fails when a field is missing
from either or from the configuration table of docs/operations.md.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from solders.pubkey import Pubkey


class Settings(BaseSettings):
    """Every setting of Eterna, with its default."""

    model_config = SettingsConfigDict(env_prefix="ETERNA_", extra="ignore", frozen=True)

    port: int = Field(
        8000,
        validation_alias=AliasChoices("PORT", "ETERNA_PORT"),
        description="HTTP and websocket port of `eterna serve`",
    )
    host: str = Field(
        "127.0.0.1",
        description="interface `serve`, `chain` and a worker's /metrics bind",
    )
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL"),
        description="postgres://user:pass@host:5432/db for Postgres; unset: SQLite in the "
        "data folder",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL"),
        description="set it (with DATABASE_URL) for the distributed mode",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("JWT_SECRET"),
        description="HS256 secret; required, 32+ characters, in the distributed mode "
        "(unset: generated in the data folder)",
    )
    dex_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("DEX_API_KEY"),
        description="reserved for a future venue adapter that quotes through a DEX "
        "aggregator's HTTP API (its key); the chain and Solana RPC need none",
    )

    data_dir: Path = Field(
        Path(".eterna"), description="SQLite file and generated secret of the embedded mode"
    )
    redis_prefix: str = Field("eterna", description="prefix of the queue and event stream keys")
    db_pool_size: int = Field(
        20,
        description="Postgres connections per process for the order store (Tortoise keeps 2 "
        "more for migrations, /health and metrics)",
    )
    log_level: str = Field("INFO", description="log level (DEBUG, INFO, WARNING, ERROR)")
    log_format: Literal["console", "json"] = Field(
        "console",
        description="console: readable lines; json: one JSON object per line, with order_id",
    )
    metrics_port: int = Field(
        9464,
        ge=0,
        le=65535,
        description="first port a worker tries for /metrics (it takes the first free of 16); "
        "0: no endpoint",
    )

    max_batch: int = Field(100, description="most orders one placeOrders call may carry")
    max_page_size: int = Field(100, description="largest `first` of `orders`")
    token_ttl_hours: int = Field(
        24, description="lifetime of tokens printed by `serve` and `token`"
    )
    graphiql: bool = Field(default=True, description="serve GraphiQL at /graphql to browsers")
    order_page: bool = Field(
        default=True,
        description="serve the live order page at / (off: the API serves GraphQL only)",
    )
    system_allocator: bool = Field(
        default=True,
        description="`serve` runs on the C library's allocator (PYTHONMALLOC=malloc), so "
        "memory freed after a flood of connections returns to the system; costs a few % "
        "of CPU; an explicit PYTHONMALLOC wins",
    )
    idle_recheck_seconds: float = Field(
        5.0,
        description="the API checks this often for events its subscriptions missed "
        "(a publish lost in a crash)",
    )

    worker_concurrency: int = Field(64, description="orders one worker runs at once")
    worker_max_loop_lag_ms: float = Field(
        10.0,
        ge=0,
        description="a worker takes no new order while its event loop runs this late "
        "(smoothed); 0 takes one whenever a slot is free",
    )
    lease_seconds: float = Field(
        30.0, description="how long a worker's claim on an order lasts without renewal"
    )
    max_attempts: int = Field(3, description="tries per order for transient failures")
    backoff_base_ms: int = Field(250, description="first backoff between tries (doubles)")
    backoff_max_ms: int = Field(5_000, description="longest backoff between tries")
    reconcile_seconds: float = Field(
        10.0, description="how often workers look for orders nothing is working on"
    )
    shutdown_grace_seconds: float = Field(
        10.0,
        description="on SIGTERM a worker finishes running orders this long, then hands the "
        "rest back",
    )
    global_orders_per_minute: int = Field(
        0,
        ge=0,
        description="orders all workers together may start per minute, shared in Redis "
        "(0: no limit)",
    )

    # -- the market: a Solana cluster over JSON-RPC, or the local chain in the process --
    solana_rpc_url: str | None = Field(
        None,
        description="JSON-RPC URL of a shared `eterna chain` (its /admin/pools lists the "
        "pools); unset, each process runs the local chain itself",
    )
    solana_ws_url: str | None = Field(
        None,
        description="websocket URL of its subscriptions (unset: the RPC URL with a ws scheme)",
    )
    venue_timeout_seconds: float = Field(
        5.0, gt=0, description="timeout of one JSON-RPC call to the chain"
    )
    solana_cluster: Literal["mainnet", "devnet", "localnet"] | None = Field(
        None,
        description="the cluster the RPC URL must serve (checked against its genesis hash at "
        "start-up); unset: told by the genesis hash",
    )
    solana_commitment: Literal["confirmed", "finalized"] = Field(
        "confirmed", description="commitment a transaction must reach to count as landed"
    )
    dry_run: bool = Field(
        default=False,
        description="simulate every order's transaction and end the order with the simulated "
        "fill, sending nothing; always on for devnet and mainnet until ETERNA_LIVE=true",
    )
    live: bool = Field(
        default=False,
        description="send real transactions on devnet and mainnet (unset there: dry run)",
    )
    simulate: bool = Field(
        default=True,
        description="simulate each transaction before sending it (compute limit from its "
        "units, priority fee from recent fees, a failing one is never sent); false is "
        "honoured on the local chain only",
    )
    priority_fee_percentile: int = Field(
        75,
        ge=0,
        le=100,
        description="priority fee: this percentile of the recent slots' fees over the "
        "accounts a route writes (getRecentPrioritizationFees), with simulation on",
    )
    max_priority_fee_microlamports: int = Field(
        1_000_000, ge=0, description="highest priority fee paid, in micro-lamports per unit"
    )
    compute_unit_margin_percent: int = Field(
        20,
        ge=0,
        le=500,
        description="compute-unit limit: the simulation's units plus this margin",
    )
    solana_rpc_concurrency: int = Field(
        8,
        ge=1,
        description="JSON-RPC calls one process has under way at once (and connections "
        "kept); the rest wait, one user at a time in turn",
    )
    solana_rpc_batch: int = Field(
        32,
        ge=1,
        le=1_000,
        description="JSON-RPC calls made in the same moment sent as one batch request, at "
        "most this many (1: every call a request of its own)",
    )
    pools_file: Path | None = Field(
        None,
        description="JSON file of the pools to trade at ETERNA_SOLANA_RPC_URL: addresses, and "
        "tokens whose pools are discovered with getProgramAccounts (unset: the chain's "
        "/admin/pools)",
    )
    pools_refresh_seconds: float = Field(
        300.0, gt=0, description="how often the pools of the pools file are read again"
    )
    lookup_tables: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="comma-separated addresses of the address lookup tables routes of three "
        "or more swaps may use on a real cluster (the local chain's are found by themselves)",
    )

    # -- the local chain: `eterna chain`, LiteSVM with the DEX programs behind Solana JSON-RPC --
    programs_dir: Path | None = Field(
        None,
        description="folder holding the DEX programs' binaries (unset: ../shared/programs, "
        "then programs/ in the data folder)",
    )
    chain_port: int = Field(
        8899, description="port of `eterna chain`: JSON-RPC and websocket subscriptions"
    )
    chain_seed: int = Field(
        7, description="seed of the local chain's genesis (tokens, pools, prices) and faults"
    )
    chain_slot_ms: int = Field(
        400, ge=0, description="slot length of the local chain; 0 moves slots only on request"
    )
    chain_drift: bool = Field(
        default=True, description="a market maker swaps on the local chain every slot (price drift)"
    )
    chain_launch_seconds: float = Field(
        0.0,
        ge=0,
        description="seeded random token launches on the local chain every this many seconds "
        "of chain time (0: only on demand)",
    )
    chain_latency_ms: int = Field(
        0, ge=0, description="injected latency per JSON-RPC request to the local chain"
    )
    chain_error_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of JSON-RPC requests answered with HTTP 503 (half of failed sends "
        "landed anyway)",
    )
    chain_drop_rate: float = Field(
        0.0, ge=0, le=1, description="share of sent transactions the local chain drops"
    )
    chain_expire_rate: float = Field(
        0.0, ge=0, le=1, description="share of getLatestBlockhash answers already expired"
    )
    chain_price_move_rate: float = Field(
        0.0, ge=0, le=1, description="share of sends an adverse swap lands just before"
    )
    chain_price_move_bps: int = Field(
        100, ge=0, le=5_000, description="how far that adverse swap moves the price, in bps"
    )
    wallet: Path | None = Field(
        None,
        description="the deployment wallet that signs every order: a keypair file as "
        "solana-keygen writes it, readable by its owner only (chmod 600); required on devnet "
        "and mainnet; unset on the local chain: the chain seed's wallet; the local chain "
        "funds it at genesis",
    )

    # -- the trigger watcher (limit, sniper and stop orders) --
    # One watcher runs across all workers, under a Redis lock with this TTL (renewed every
    # third of it): a dead holder is replaced within about TTL + TTL/3.
    watcher_lock_ttl_ms: int = Field(
        5_000, ge=300, description="TTL of the Redis lock whose holder runs the trigger watcher"
    )
    watcher_resync_seconds: float = Field(
        30.0, gt=0, description="the watcher re-reads resting orders this often (lost events)"
    )
    watcher_concurrency: int = Field(
        16, ge=1, description="routes the watcher runs at once to confirm candidates"
    )

    # -- security (docs/security.md) --
    jwt_issuer: str | None = Field(None, description="when set, tokens must carry this `iss`")
    jwt_audience: str | None = Field(None, description="when set, tokens must carry this `aud`")
    jwt_leeway_seconds: int = Field(10, ge=0, le=300, description="clock skew allowed on `exp`")
    # Cost limits of a GraphQL document (docs/security.md), checked in one linear pass
    # before graphql-core's validation; counts take fragments as expanded where spread. Every
    # default admits a full placeOrders batch written inline, GraphiQL's introspection query,
    # examples/*.graphql, the order page's and the generated clients' operations.
    # Parsing and validating cost about 14 us a token here, whatever the shape: 3,500 tokens
    # keep the worst document near 50 ms and admit a batch of 100 orders with every field
    # written inline (3,220 tokens).
    max_tokens: int = Field(
        3_500, ge=100, description="most lexer tokens (comments included) in a GraphQL document"
    )
    max_query_depth: int = Field(10, ge=1, description="deepest nesting of a GraphQL document")
    max_aliases: int = Field(
        15, ge=0, description="most aliases in a GraphQL document, fragments expanded"
    )
    max_selections: int = Field(
        1_200,
        ge=10,
        description="most selections in a GraphQL document with its fragments expanded "
        "(fields, fragment spreads, inline fragments, variable references)",
    )
    max_field_repeats: int = Field(
        10,
        ge=1,
        description="most times one field may be selected at one place of the result "
        "(through fragments too)",
    )
    max_fragments: int = Field(50, ge=0, description="most fragments in a GraphQL document")
    max_operations: int = Field(40, ge=1, description="most operations in a GraphQL document")
    max_directives: int = Field(
        5, ge=1, description="most directives on one field, fragment, operation or variable"
    )
    max_variables: int = Field(50, ge=0, description="most variables one operation declares")
    max_variable_values: int = Field(
        2_000,
        ge=10,
        description="most values in a request's variables (each list item, object entry and "
        "scalar)",
    )
    max_body_bytes: int = Field(
        256 * 1024, ge=1024, description="largest HTTP body and websocket message"
    )
    max_subscriptions_per_connection: int = Field(
        20, ge=1, description="operations one websocket may run at once"
    )
    introspection: bool = Field(
        default=True, description="schema introspection; switch off in production"
    )
    field_suggestions: bool = Field(
        default=True, description='"Did you mean ...?" hints; switch off in production'
    )
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="comma-separated browser origins allowed to open websockets "
        '(same-origin always; "*" any)',
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="comma-separated origins allowed by CORS on HTTP (empty: none)"
    )
    rate_limit_per_minute: int = Field(
        120,
        ge=0,
        description="mutations per user per minute, shared by all API processes (0: off)",
    )
    orders_per_minute: int = Field(
        1_200,
        ge=0,
        description="orders per user per minute, each order of a placeOrders call counting "
        "once, shared by all API processes (0: off)",
    )
    max_orders_in_flight_per_user: int = Field(
        500, ge=0, description="a user's orders PENDING to SUBMITTED at once (0: no cap)"
    )
    max_open_orders_per_user: int = Field(
        2_000,
        ge=0,
        description="a user's unfinished orders at once, in flight or WAITING (0: no cap)",
    )
    max_resting_orders_per_user: int = Field(
        1_000,
        ge=0,
        description="a user's unfinished limit, sniper and stop orders at once (0: no cap)",
    )
    quote_rate_limit_per_minute: int = Field(
        120,
        ge=0,
        description="`quote` fields (each alias counts) per user per minute, shared by all "
        "API processes (0: off)",
    )
    anonymous_rate_limit_per_minute: int = Field(
        60,
        ge=0,
        description="`quote`, `tokens` and `venues` fields without a token (each alias "
        "counts) per client address per minute, shared by all API processes (0: off)",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="comma-separated addresses or CIDRs of reverse proxies whose "
        "X-Forwarded-For is believed (empty: the peer is the client)",
    )
    ws_init_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="a websocket that sends no connection_init this long is closed (4408)",
    )
    max_connections_per_address: int = Field(
        100,
        ge=0,
        description="open websockets per client address on one API process (0: no cap)",
    )
    max_connections_per_user: int = Field(
        20, ge=0, description="open websockets per user on one API process (0: no cap)"
    )
    max_requests_in_progress: int = Field(
        2,
        ge=0,
        description="HTTP requests of one caller (user, or address without a token) one API "
        "process runs at once; the next wait their turn (0: no limit)",
    )
    max_requests_waiting: int = Field(
        100,
        ge=1,
        description="requests of one caller waiting for their turn; beyond, HTTP 429",
    )
    max_notional_usd: Decimal = Field(
        Decimal(1_000_000), ge=0, description="largest order value in USD (0: off)"
    )
    min_fill_bps: int = Field(
        100,  # eterna.domain.fills.DEFAULT_MIN_FILL_BPS
        ge=100,  # eterna.domain.fills.LEAST_MIN_FILL_BPS: at most 100 parts
        le=10_000,
        description="a LIMIT order filling in parts without minFillAmount: the least part "
        "one fill spends, in bps of amountIn, 100..10000 (an order fills in at most 100 "
        "parts; 10000: all or none)",
    )
    max_expiry_horizon_days: int = Field(
        30,
        ge=1,
        description="furthest expiresAt, in days; a limit or sniper order without one "
        "expires this far ahead",
    )

    @field_validator(
        "allowed_origins", "cors_origins", "trusted_proxies", "lookup_tables", mode="before"
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # "https://a.example, https://b.example" reads better in an environment than JSON.
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @field_validator("lookup_tables")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                Pubkey.from_string(entry)
            except ValueError:
                raise ValueError(f"not a Solana address: {entry!r}") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR: {entry!r}") from None
        return value

    @model_validator(mode="after")
    def _redis_needs_a_shared_database(self) -> Settings:
        if self.redis_url and not self.database_url:
            raise ValueError(
                "REDIS_URL is set but DATABASE_URL is not: workers in other processes "
                "need a shared database (Postgres)"
            )
        return self

    @property
    def distributed(self) -> bool:
        """Tell whether orders go through Redis to separate worker processes."""
        return self.redis_url is not None

    @property
    def effective_database_url(self) -> str:
        """Return DATABASE_URL, or the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'eterna.sqlite3'}"


# The settings by what they are about; each command's --help lists the sections it reads.
SECTIONS: dict[str, tuple[str, ...]] = {
    "server": ("port", "host", "graphiql", "order_page", "token_ttl_hours", "system_allocator"),
    "storage": ("database_url", "redis_url", "redis_prefix", "db_pool_size", "data_dir"),
    "logs and metrics": ("log_level", "log_format", "metrics_port"),
    "orders": (
        "max_batch",
        "max_page_size",
        "idle_recheck_seconds",
        "max_notional_usd",
        "max_expiry_horizon_days",
        "min_fill_bps",
        "rate_limit_per_minute",
        "orders_per_minute",
        "max_orders_in_flight_per_user",
        "max_open_orders_per_user",
        "max_resting_orders_per_user",
        "quote_rate_limit_per_minute",
    ),
    "security": (
        "jwt_secret",
        "jwt_issuer",
        "jwt_audience",
        "jwt_leeway_seconds",
        "max_tokens",
        "max_query_depth",
        "max_aliases",
        "max_selections",
        "max_field_repeats",
        "max_fragments",
        "max_operations",
        "max_directives",
        "max_variables",
        "max_variable_values",
        "max_body_bytes",
        "max_subscriptions_per_connection",
        "introspection",
        "field_suggestions",
        "allowed_origins",
        "cors_origins",
        "trusted_proxies",
        "anonymous_rate_limit_per_minute",
        "ws_init_timeout_seconds",
        "max_connections_per_address",
        "max_connections_per_user",
        "max_requests_in_progress",
        "max_requests_waiting",
    ),
    "execution": (
        "worker_concurrency",
        "worker_max_loop_lag_ms",
        "lease_seconds",
        "max_attempts",
        "backoff_base_ms",
        "backoff_max_ms",
        "reconcile_seconds",
        "shutdown_grace_seconds",
        "global_orders_per_minute",
    ),
    "local chain": (
        "programs_dir",
        "chain_port",
        "chain_seed",
        "chain_slot_ms",
        "chain_drift",
        "chain_launch_seconds",
        "chain_latency_ms",
        "chain_error_rate",
        "chain_drop_rate",
        "chain_expire_rate",
        "chain_price_move_rate",
        "chain_price_move_bps",
    ),
    "trigger watcher": ("watcher_lock_ttl_ms", "watcher_resync_seconds", "watcher_concurrency"),
    "market": (
        "solana_rpc_url",
        "solana_ws_url",
        "venue_timeout_seconds",
        "solana_rpc_concurrency",
        "solana_rpc_batch",
        "pools_file",
        "pools_refresh_seconds",
        "lookup_tables",
        "solana_cluster",
        "solana_commitment",
        "wallet",
        "dry_run",
        "live",
        "simulate",
        "priority_fee_percentile",
        "max_priority_fee_microlamports",
        "compute_unit_margin_percent",
        "dex_api_key",
    ),
}


def env_name(field: str) -> str:
    """Return the environment variable that sets a field (``PORT``, ``ETERNA_HOST`` ...)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    prefix = Settings.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()
