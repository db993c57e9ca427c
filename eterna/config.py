"""Settings, read once from the environment by the composition roots.

The seed's variable names are kept (``PORT``, ``DATABASE_URL``, ``REDIS_URL``, ``JWT_SECRET``,
``DEX_API_KEY``); everything else is ``ETERNA_*``. Components never read the environment:
they receive the frozen pieces they need.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of Eterna, with its default."""

    model_config = SettingsConfigDict(env_prefix="ETERNA_", extra="ignore", frozen=True)

    port: int = Field(8000, validation_alias=AliasChoices("PORT", "ETERNA_PORT"))
    host: str = "127.0.0.1"
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))
    jwt_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("JWT_SECRET"))
    dex_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("DEX_API_KEY"))

    data_dir: Path = Path(".eterna")
    redis_prefix: str = "eterna"
    db_pool_size: int = 20
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    max_batch: int = 100
    max_page_size: int = 100
    token_ttl_hours: int = 24
    graphiql: bool = True
    # The live order page at / (eterna/web): off when the API should serve GraphQL only.
    order_page: bool = True
    idle_recheck_seconds: float = 5.0

    worker_concurrency: int = 10
    lease_seconds: float = 30.0
    max_attempts: int = 3
    backoff_base_ms: int = 250
    backoff_max_ms: int = 5_000
    reconcile_seconds: float = 10.0
    shutdown_grace_seconds: float = 10.0
    global_orders_per_minute: int = Field(0, ge=0)

    sandbox_seed: int = 7
    sandbox_slot_ms: int = 400
    # The market sandbox: a shared `eterna sandbox` process at sandbox_url, or one in-process.
    sandbox_url: str | None = None
    sandbox_port: int = 8900
    venue_timeout_seconds: float = Field(5.0, gt=0)
    sandbox_latency_ms: int = Field(0, ge=0)
    sandbox_error_rate: float = Field(0.0, ge=0, le=1)
    sandbox_drop_rate: float = Field(0.0, ge=0, le=1)
    sandbox_expire_rate: float = Field(0.0, ge=0, le=1)
    sandbox_price_move_rate: float = Field(0.0, ge=0, le=1)
    sandbox_price_move_bps: int = Field(100, ge=0, le=5_000)
    # Seeded random token launches every this many seconds while slots run (0: only on demand).
    sandbox_launch_seconds: float = Field(0.0, ge=0)

    # -- the trigger watcher (limit and sniper orders) --
    # One watcher runs across all workers, under a Redis lock with this TTL (renewed every
    # third of it): a dead holder is replaced within about TTL + TTL/3.
    watcher_lock_ttl_ms: int = Field(5_000, ge=300)
    # Re-read the resting orders from the database this often (covers lost events).
    watcher_resync_seconds: float = Field(30.0, gt=0)
    # Routes the watcher runs at once to confirm candidates.
    watcher_concurrency: int = Field(16, ge=1)

    # -- security (README "Threat model") --
    # Tokens must carry this iss / aud when set; exp is accepted this long after it passed.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(10, ge=0, le=300)
    # Cost of one GraphQL document: nesting, aliases, lexer tokens (a full placeOrders batch
    # written inline fits in 5,000), and the bytes of an HTTP body or websocket message.
    max_query_depth: int = Field(10, ge=1)
    max_aliases: int = Field(15, ge=0)
    max_tokens: int = Field(5_000, ge=100)
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    max_subscriptions_per_connection: int = Field(20, ge=1)
    # Switch off for production: schema introspection and "Did you mean ...?" hints.
    introspection: bool = True
    field_suggestions: bool = True
    # Comma-separated. Websocket pages from other origins (empty: same-origin and non-browser
    # clients only; "*" any), and origins granted CORS on HTTP (empty: none).
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Mutations per user per minute, shared through Redis in the distributed mode; 0: off.
    rate_limit_per_minute: int = Field(120, ge=0)
    # Largest order, in USD at the current price of tokenIn (0: off); furthest expiresAt.
    max_notional_usd: Decimal = Field(Decimal(1_000_000), ge=0)
    max_expiry_horizon_days: int = Field(30, ge=1)

    @field_validator("allowed_origins", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # "https://a.example, https://b.example" reads better in an environment than JSON.
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
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
