"""Trading pauses: everything, or one pair in both directions, set by an administrator.

A paused placement is refused with TRADING_PAUSED before anything is stored; orders
already placed go on (an administrator cancels them with ``cancelUserOrders`` if needed).
In the distributed mode the pauses live in Redis, read on every placement call, so a pause
holds on every API process from the moment it is answered.
"""

from __future__ import annotations

from typing import Protocol

from eterna.domain.tokens import Token

ALL = "*"


def pair_key(a: Token, b: Token) -> str:
    """Return the key of the pair of ``a`` and ``b``, the same in both directions (mints)."""
    first, second = sorted((a.mint, b.mint))
    return f"{first}/{second}"


class TradingPauses(Protocol):
    """Where the pauses in force are kept: :data:`ALL` and pair keys."""

    async def paused(self) -> frozenset[str]:
        """Return the pauses in force.

        :raises StorageUnavailableError: when they cannot be read.
        """

    async def pause(self, key: str) -> None:
        """Pause ``key`` (:data:`ALL` or a pair key)."""

    async def resume(self, key: str) -> None:
        """Lift the pause of ``key``."""


class MemoryPauses:
    """Pauses of one process (the embedded mode)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    async def paused(self) -> frozenset[str]:
        """Return the pauses in force."""
        return frozenset(self._keys)

    async def pause(self, key: str) -> None:
        """Pause ``key``."""
        self._keys.add(key)

    async def resume(self, key: str) -> None:
        """Lift the pause of ``key``."""
        self._keys.discard(key)


def pauses_of(paused: frozenset[str], token_in: Token, token_out: Token) -> str | None:
    """Return why a placement of this pair is paused (``all``, or the pair), or None."""
    if ALL in paused:
        return "all trading"
    if pair_key(token_in, token_out) in paused:
        return f"{token_in.label}/{token_out.label}"
    return None
