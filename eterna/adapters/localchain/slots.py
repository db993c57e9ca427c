"""The node's clock: slots, block height, unix time and the recent blockhashes.

Slots follow the wall clock (one every ``slot_ms``) or, with ``slot_ms = 0``, move only when
told (:meth:`SlotClock.advance`), so a test decides exactly when a blockhash expires.

Every slot produces a block (the local chain skips none), so block height moves with the
slot; it starts lower than the slot, as on a real cluster, so a client mixing the two up is
caught. Unix time follows the slots at their nominal length (400 ms when they are manual).

A slot's blockhash is derived from the seed and the slot. A transaction may carry the
blockhash of any of the last :data:`MAX_BLOCKHASH_AGE` slots, as on Solana; the clock
remembers the hashes it handed out (and the slot of each) to tell their age.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

from solders.hash import Hash

# Solana's MAX_PROCESSING_AGE: a blockhash is usable for 150 slots after its own.
MAX_BLOCKHASH_AGE = 150
GENESIS_SLOT = 300_000_000
# Slots skipped before genesis: block height runs this far behind the slot.
SKIPPED_BEFORE_GENESIS = 12_345_678
NOMINAL_SLOT_MS = 400
# Hashes handed out and still remembered; older ones are expired anyway.
_REMEMBERED = 4 * MAX_BLOCKHASH_AGE


@dataclass(frozen=True, slots=True)
class RecentBlockhash:
    """A blockhash, the slot it belongs to, and the last block height it can land at."""

    blockhash: Hash
    slot: int
    last_valid_block_height: int


class SlotClock:
    """Slots by wall clock or by hand, block heights, unix time and blockhash ages."""

    def __init__(self, *, seed: int, slot_ms: int, genesis_unix_time: int) -> None:
        if slot_ms < 0:
            raise ValueError("slot_ms must be >= 0 (0: slots move by hand)")
        self.slot_ms = slot_ms
        self.genesis_unix_time = genesis_unix_time
        self._seed = seed.to_bytes(8, "little", signed=True)
        self._manual = 0
        self._t0 = time.monotonic()
        self._issued: OrderedDict[Hash, int] = OrderedDict()

    @property
    def manual(self) -> bool:
        """Tell whether slots move only by :meth:`advance`."""
        return self.slot_ms == 0

    def slot(self) -> int:
        """Return the current slot."""
        if self.manual:
            return GENESIS_SLOT + self._manual
        elapsed_ms = int((time.monotonic() - self._t0) * 1000)
        return GENESIS_SLOT + elapsed_ms // self.slot_ms

    def advance(self, slots: int = 1) -> None:
        """Move a manual clock forward by slots.

        :raises ValueError: on a wall clock, or for a negative count.
        """
        if not self.manual:
            raise ValueError("slots follow the wall clock: set slot_ms = 0 to move them by hand")
        if slots < 0:
            raise ValueError("the clock only moves forward")
        self._manual += slots

    def seconds_to_next_slot(self) -> float:
        """Return how long until the wall clock's next slot begins (manual: one nominal slot)."""
        if self.manual:
            return NOMINAL_SLOT_MS / 1000
        elapsed_ms = (time.monotonic() - self._t0) * 1000
        return (self.slot_ms - elapsed_ms % self.slot_ms) / 1000

    @staticmethod
    def block_height(slot: int) -> int:
        """Return the block height at a slot (every slot since genesis made a block)."""
        return slot - SKIPPED_BEFORE_GENESIS

    def unix_time(self, slot: int) -> int:
        """Return the cluster's unix time at a slot."""
        length = self.slot_ms or NOMINAL_SLOT_MS
        return self.genesis_unix_time + (slot - GENESIS_SLOT) * length // 1000

    def blockhash(self, slot: int) -> RecentBlockhash:
        """Return the blockhash of a slot, remembering it so its age can be told later."""
        digest = hashlib.sha256(b"eterna-blockhash" + self._seed + slot.to_bytes(8, "little"))
        blockhash = Hash(digest.digest())
        self._issued[blockhash] = slot
        self._issued.move_to_end(blockhash)
        while len(self._issued) > _REMEMBERED:
            self._issued.popitem(last=False)
        return RecentBlockhash(blockhash, slot, self.block_height(slot) + MAX_BLOCKHASH_AGE)

    def blockhash_slot(self, blockhash: Hash) -> int | None:
        """Return the slot of a blockhash this clock handed out, or None."""
        return self._issued.get(blockhash)

    def is_valid(self, blockhash: Hash, slot: int) -> bool:
        """Tell whether a transaction carrying blockhash may still land at slot."""
        issued = self._issued.get(blockhash)
        return issued is not None and issued <= slot <= issued + MAX_BLOCKHASH_AGE
