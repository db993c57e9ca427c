"""Wiring of the audit trail, the trading pauses and the administrators' service."""

from __future__ import annotations

import redis.asyncio as aioredis

from eterna.adapters.pauses import RedisPauses
from eterna.application.admin import AdminService
from eterna.application.pauses import MemoryPauses, TradingPauses
from eterna.application.ports import ServiceStore
from eterna.application.service import OrderService
from eterna.core.clock import utcnow
from eterna.entrypoints.config import Settings


def trading_pauses(settings: Settings, redis: aioredis.Redis | None) -> TradingPauses:
    """Return the pauses: in Redis (shared by every API process) when there is one."""
    if redis is None:
        return MemoryPauses()
    return RedisPauses(redis, f"{settings.redis_prefix}:paused")


def admin_service(service: OrderService, repo: ServiceStore) -> AdminService:
    """Return the administrators' service over the order service, its pauses and tokens."""
    return AdminService(service, repo, service.pauses, service.registry, utcnow)
