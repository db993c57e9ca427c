"""Read pools from the chain: their accounts in as few getMultipleAccounts as possible.

A quote of several pools is one ``getMultipleAccounts`` of every account they need, with
the Clock sysvar (its unix time prices DLMM fees as the program will). Which accounts a pool
needs depends on its state (vaults, the tick or bin arrays around its price), so the reader
remembers each pool's last set and asks for it at once; only a pool whose price moved to
arrays it had not read, or one read for the first time, costs another round.

Snapshots are cached by the slot they were read at: while the node stays in that slot
(:class:`~eterna.adapters.solana.slots.SlotFeed`), a burst of routes reads each pool once.
Concurrent reads of one pool share a single request, and reads of different pools made
while a request is in flight go together in the next one (:class:`~eterna.core.coalesce.
Coalescer`): a busy worker quoting and building for many orders asks for every pool they
need in one ``getMultipleAccounts`` rather than one each. Accounts read in one request are
of one slot, so a batch is as consistent as a single read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from solders.pubkey import Pubkey

from eterna.adapters.solana.ids import CLOCK_SYSVAR
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.rpc import AccountInfo, Commitment, SolanaRpc
from eterna.adapters.solana.slots import SlotFeed
from eterna.adapters.solana.snapshots import PoolSnapshot, PoolStateError, needed_keys, snapshot
from eterna.core.coalesce import Coalescer
from eterna.core.fair_gate import CALLER

# A node answers getMultipleAccounts for at most 100 addresses.
MAX_ACCOUNTS_PER_CALL: Final = 100
# A DLMM pair needs three rounds the first time (pair, then extension, then bin arrays).
MAX_ROUNDS: Final = 4
_CLOCK_LEN = 40


@dataclass(frozen=True, slots=True)
class ChainClock:
    """The Clock sysvar: the slot and unix time programs see."""

    slot: int
    unix_time: int


def decode_clock(data: bytes) -> ChainClock:
    """Decode the Clock sysvar (slot, epoch start, epoch, leader epoch, unix time).

    :raises PoolStateError: when data is too short to be one.
    """
    if len(data) < _CLOCK_LEN:
        raise PoolStateError(f"the Clock sysvar is {len(data)} bytes, expected {_CLOCK_LEN}")
    return ChainClock(
        slot=int.from_bytes(data[0:8], "little"),
        unix_time=int.from_bytes(data[32:40], "little", signed=True),
    )


Snapshots = dict[Pubkey, PoolSnapshot]
# The slot a fetch was answered at, and each key's account (None where there is none).
Fetched = tuple[int, dict[Pubkey, AccountInfo | None]]


class PoolReader:
    """Read pools' accounts through a SolanaRpc and turn them into snapshots."""

    def __init__(
        self,
        rpc: SolanaRpc,
        *,
        slots: SlotFeed | None = None,
        commitment: Commitment = "confirmed",
    ) -> None:
        self._rpc = rpc
        self._slots = slots
        self._commitment: Commitment = commitment
        self._keys: dict[Pubkey, list[Pubkey]] = {}
        self._cache: Snapshots = {}
        self._inflight: dict[Pubkey, asyncio.Future[Snapshots]] = {}
        self._batches: Coalescer[tuple[Pubkey, ...], Fetched] = Coalescer(
            self._fetch_together, name="pool-reader"
        )
        self.calls = 0  # getMultipleAccounts requests made, for tests and benchmarks

    async def read(self, entries: Sequence[PoolEntry], *, fresh: bool = False) -> Snapshots:
        """Return a snapshot of each pool, from this slot's cache where it holds one.

        ``fresh``: read every pool now, whatever the cache holds.

        :raises PoolStateError: when an account is missing or does not decode.
        :raises VenueUnavailableError: when the node does not answer.
        """
        slot = None if fresh or self._slots is None else self._slots.current
        found: Snapshots = {}
        waits: list[asyncio.Future[Snapshots]] = []
        todo: list[PoolEntry] = []
        for entry in dict.fromkeys(entries):
            cached = self._cache.get(entry.address)
            if slot is not None and cached is not None and cached.slot >= slot:
                found[entry.address] = cached
            elif not fresh and (pending := self._inflight.get(entry.address)) is not None:
                waits.append(pending)
            else:
                todo.append(entry)
        if todo:
            found.update(await self._read_shared(todo))
        for pending in dict.fromkeys(waits):
            shared = await asyncio.shield(pending)
            found.update({e.address: shared[e.address] for e in entries if e.address in shared})
        return {e.address: found[e.address] for e in entries}

    async def _read_shared(self, entries: list[PoolEntry]) -> Snapshots:
        future: asyncio.Future[Snapshots] = asyncio.get_running_loop().create_future()
        for entry in entries:
            self._inflight[entry.address] = future
        try:
            result = await self._load(entries)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # those waiting get it; nobody else needs to look at it
            raise
        else:
            future.set_result(result)
            self._cache.update(result)
            return result
        finally:
            for entry in entries:
                if self._inflight.get(entry.address) is future:
                    del self._inflight[entry.address]

    async def _load(self, entries: list[PoolEntry]) -> Snapshots:
        if not entries:
            return {}
        accounts: dict[Pubkey, AccountInfo | None] = {}
        wanted = {e.address: self._keys.get(e.address, [e.address]) for e in entries}
        slot, clock = 0, None
        for _ in range(MAX_ROUNDS):
            missing = [k for keys in wanted.values() for k in keys if k not in accounts]
            if not missing:
                break
            read_slot, found = await self._fetch([CLOCK_SYSVAR, *dict.fromkeys(missing)])
            slot = max(slot, read_slot)
            clock_account = found.pop(CLOCK_SYSVAR)
            if clock_account is None:
                raise PoolStateError("the node has no Clock sysvar account")
            clock = decode_clock(clock_account.data)
            accounts.update(found)
            wanted = {e.address: needed_keys(e, accounts) for e in entries}
        else:
            raise PoolStateError("the pools' accounts kept moving while they were read")
        if clock is None:  # cannot happen: the first round always asks for the pools
            raise PoolStateError("no account was read")
        self._keys.update(wanted)
        return {
            e.address: snapshot(e, accounts, slot=slot, unix_time=clock.unix_time) for e in entries
        }

    async def _fetch(self, keys: list[Pubkey]) -> Fetched:
        return await self._batches.submit(tuple(keys))

    async def _fetch_together(self, wanted: Sequence[tuple[Pubkey, ...]]) -> list[Fetched]:
        """Read the keys of every waiting fetch in as few requests as possible; split them.

        A batch serves whoever asked, so it waits for a connection in the process's own
        turn, not in the lane of the user whose read happened to start it (fair_gate).
        """
        CALLER.set("")
        keys = list(dict.fromkeys(key for keys in wanted for key in keys))
        found: dict[Pubkey, AccountInfo | None] = {}
        slot = 0
        for at in range(0, len(keys), MAX_ACCOUNTS_PER_CALL):
            chunk = keys[at : at + MAX_ACCOUNTS_PER_CALL]
            self.calls += 1
            answer = await self._rpc.get_multiple_accounts(chunk, commitment=self._commitment)
            slot = max(slot, answer.slot)
            found.update(zip(chunk, answer.value, strict=True))
        return [(slot, {key: found[key] for key in keys}) for keys in wanted]
