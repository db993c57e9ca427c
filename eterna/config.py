"""Settings, read once from the environment by the composition roots.

The seed's variable names are kept (``PORT``, ``DATABASE_URL``, ``REDIS_URL``, ``JWT_SECRET``,
``DEX_API_KEY``); everything else is ``ETERNA_*``. Components never read the environment:
they receive the frozen pieces they need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    idle_recheck_seconds: float = 5.0

    worker_concurrency: int = 10
    lease_seconds: float = 30.0
    max_attempts: int = 3
    backoff_base_ms: int = 250
    backoff_max_ms: int = 5_000
    reconcile_seconds: float = 10.0

    sandbox_seed: int = 7
    sandbox_slot_ms: int = 400

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
