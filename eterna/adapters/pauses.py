"""Trading pauses in Redis: one set shared by every API process of the distributed mode."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from eterna.domain.errors import StorageUnavailableError


class RedisPauses:
    """The pauses in force, as members of one Redis set."""

    def __init__(self, redis: aioredis.Redis, key: str) -> None:
        self._redis = redis
        self._key = key

    async def paused(self) -> frozenset[str]:
        """Return the pauses in force (one SMEMBERS).

        :raises StorageUnavailableError: when Redis does not answer.
        """
        try:
            members = await self._redis.smembers(self._key)
        except (RedisError, OSError) as exc:
            raise StorageUnavailableError(f"trading pauses unreadable: {exc}") from exc
        return frozenset(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    async def pause(self, key: str) -> None:
        """Pause ``key`` for every process."""
        try:
            await self._redis.sadd(self._key, key)
        except (RedisError, OSError) as exc:
            raise StorageUnavailableError(f"trading pauses unwritable: {exc}") from exc

    async def resume(self, key: str) -> None:
        """Lift the pause of ``key`` for every process."""
        try:
            await self._redis.srem(self._key, key)
        except (RedisError, OSError) as exc:
            raise StorageUnavailableError(f"trading pauses unwritable: {exc}") from exc
