"""What the local node does wrong on purpose, and how often: the sandbox's fault plan.

Faults model what a real cluster does to a trader:

- **latency** on every RPC call, and **RPC errors** on some (the request did nothing);
- an **error after the transaction was accepted** (half the error rate, on sends): it was
  processed, but the sender cannot tell;
- **dropped transactions**: accepted, signature returned, never processed - they expire;
- **expired blockhashes**: ``getLatestBlockhash`` hands out one that is already too old,
  so a transaction built on it is refused with BlockhashNotFound;
- an **adverse price move**: another trader's swap, in the same direction on the same pool,
  lands just before the transaction.

The node applies the last four itself (:meth:`LocalNode.send_transaction`,
:meth:`LocalNode.latest_blockhash`). Latency and call errors belong to the RPC answer: the
RPC layer (the ``eterna chain`` server, and the in-process RPC that answers as it does)
awaits :meth:`FaultPlan.before_call` once per request, which sleeps and may raise
:class:`InjectedRpcError`.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace
from typing import Any

from eterna.adapters.localchain.results import ChainError

INJECTED_KINDS = ("rpcErrors", "droppedTransactions", "expiredBlockhashes", "priceMoves")
_JSON_NAMES = {
    "latencyMs": "latency_ms",
    "errorRate": "error_rate",
    "dropRate": "drop_rate",
    "expireRate": "expire_rate",
    "priceMoveRate": "price_move_rate",
    "priceMoveBps": "price_move_bps",
}


class InjectedRpcError(ChainError):
    """An RPC error the fault plan injected; ``accepted`` when the transaction was processed."""

    def __init__(self, message: str, *, accepted: bool = False) -> None:
        super().__init__(message)
        self.accepted = accepted


class FaultSettingsError(ChainError, ValueError):
    """Fault settings that make no sense (a rate outside 0..1, a negative count, a typo)."""


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """What the node does wrong, and how often (rates are probabilities 0..1)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    expire_rate: float = 0.0
    price_move_rate: float = 0.0
    price_move_bps: int = 100

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (the admin endpoint's shape, the sandbox's)."""
        return {name: getattr(self, field) for name, field in _JSON_NAMES.items()}

    def merged(self, data: dict[str, Any]) -> FaultSettings:
        """Return these settings with the JSON fields given replaced.

        :raises FaultSettingsError: for an unknown key or a value out of range.
        """
        unknown = set(data) - set(_JSON_NAMES)
        if unknown:
            raise FaultSettingsError(f"unknown fault settings: {sorted(unknown)}")
        changes: dict[str, Any] = {}
        for key, value in data.items():
            field = _JSON_NAMES[key]
            try:
                number = float(value) if field.endswith("_rate") else int(value)
            except (TypeError, ValueError) as exc:
                raise FaultSettingsError(f"{key} must be a number") from exc
            if field.endswith("_rate") and not 0.0 <= number <= 1.0:
                raise FaultSettingsError(f"{key} must be within 0..1")
            if number < 0:
                raise FaultSettingsError(f"{key} must be >= 0")
            changes[field] = number
        return replace(self, **changes)


class FaultPlan:
    """Draws the faults from a seeded generator and counts those injected, by kind."""

    def __init__(self, settings: FaultSettings | None = None, *, seed: int = 0) -> None:
        self.settings = settings or FaultSettings()
        self.injected: dict[str, int] = dict.fromkeys(INJECTED_KINDS, 0)
        self._rng = random.Random(f"faults/{seed}")

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    async def before_call(self) -> None:
        """Apply one RPC call's latency, then maybe fail it (nothing was done).

        :raises InjectedRpcError: an injected error.
        """
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        if self._chance(self.settings.error_rate):
            self.injected["rpcErrors"] += 1
            raise InjectedRpcError("injected RPC error")

    def expires_blockhash(self) -> bool:
        """Tell whether this blockhash request gets a stale one."""
        hit = self._chance(self.settings.expire_rate)
        self.injected["expiredBlockhashes"] += hit
        return hit

    def drops(self) -> bool:
        """Tell whether this accepted transaction is lost on its way to the leader."""
        hit = self._chance(self.settings.drop_rate)
        self.injected["droppedTransactions"] += hit
        return hit

    def moves_price(self) -> bool:
        """Tell whether another trader's swap lands just before this transaction."""
        hit = self._chance(self.settings.price_move_rate)
        self.injected["priceMoves"] += hit
        return hit

    def fails_after_send(self) -> bool:
        """Tell whether the answer to this processed send is lost (an error instead)."""
        hit = self._chance(self.settings.error_rate / 2)
        self.injected["rpcErrors"] += hit
        return hit
