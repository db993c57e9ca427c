"""Market data on a Solana cluster: pools from their accounts, changes from subscriptions.

What the trigger watcher follows (:class:`~eterna.application.ports.MarketData`):

- Every known pool's own account and vaults are subscribed (``accountSubscribe``, one
  connection for the genesis pools, one per launch): every swap and deposit changes them.
  A notification marks the pool; a flusher re-reads the marked pools together (one
  ``getMultipleAccounts``) and records a ``changed`` update for each whose reserves or
  price moved.
- Each program's pool accounts are subscribed too (``programSubscribe``, filtered on the
  pool type): a pool the registry does not know is a launch. It is registered, its own
  accounts subscribed, then read and recorded as ``created``.
- Updates are numbered here, in the order they were recorded, and kept in a bounded log.

``registered`` is told of each launch before its ``created`` update is recorded: a process
whose venues quote from another registry (one that a plain
:class:`~eterna.adapters.solana.discovery.PoolDiscovery` fills) adds it there, so a
sniper order that fires on the update finds the pool.

:meth:`SolanaMarketData.cursor` starts following and returns only once every subscription
is confirmed and the pools were read after that: no change after the cursor is missed.
A subscription that drops is made again, and its pools re-read and compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from solders.pubkey import Pubkey

from eterna.adapters.solana.clusters import ProgramIds
from eterna.adapters.solana.discovery import PoolDiscovery
from eterna.adapters.solana.pools import VENUES, PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.rpc import Commitment, SolanaRpc
from eterna.adapters.solana.snapshots import PoolSnapshot
from eterna.domain.errors import VenueError
from eterna.domain.triggers import MarketUpdate, PoolState

log = logging.getLogger(__name__)

UPDATE_LOG_SIZE = 50_000


def pool_state(snap: PoolSnapshot) -> PoolState:
    """Return what the market data shows of a pool: tokens, vault reserves, spot price."""
    return PoolState(
        venue=snap.entry.venue,
        address=str(snap.entry.address),
        token_a=snap.entry.token_a,
        token_b=snap.entry.token_b,
        reserve_a=snap.reserves[0],
        reserve_b=snap.reserves[1],
        price=snap.math.spot_price(a_to_b=True),
    )


class SolanaMarketData:
    """Pools and pool changes of a Solana cluster, for the trigger watcher.

    ``programs``: the DEX programs' ids on the node's cluster, whose pools are followed.
    """

    def __init__(
        self,
        rpc: SolanaRpc,
        registry: PoolRegistry,
        reader: PoolReader,
        *,
        programs: ProgramIds,
        venues: Sequence[str] = VENUES,
        commitment: Commitment = "confirmed",
        retry_seconds: float = 1.0,
        log_size: int = UPDATE_LOG_SIZE,
        registered: Callable[[PoolEntry], None] | None = None,
    ) -> None:
        self._rpc = rpc
        self._on_registered = registered
        self._registry = registry
        self._reader = reader
        self._discovery = PoolDiscovery(
            rpc,
            registry,
            programs=programs,
            venues=venues,
            commitment=commitment,
            retry_seconds=retry_seconds,
            admit=self._admit,
            registered=self._created,
        )
        self._commitment: Commitment = commitment
        self._retry_seconds = retry_seconds
        self._log: deque[MarketUpdate] = deque(maxlen=log_size)
        self._seq = 0
        self._new = asyncio.Event()
        self._shown: dict[Pubkey, PoolState] = {}
        self._dirty: dict[Pubkey, str] = {}  # pool -> kind of update its next read records
        self._marked = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started: asyncio.Task[None] | None = None

    async def pools_of(self, mint: str) -> list[PoolState]:
        """Return every known pool trading the mint, read now (empty when none does yet)."""
        entries = self._registry.of_mint(mint)
        snapshots = await self._reader.read(entries, fresh=True)
        return [pool_state(snapshots[e.address]) for e in entries]

    async def cursor(self) -> int:
        """Start following (once) and return the seq of the latest update."""
        await self.start()
        return self._seq

    async def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        """Yield every update after seq ``after``, forever, waiting for new ones."""
        await self.start()
        while True:
            new = self._new
            for update in self._after(after):
                after = update.seq
                yield update
            if self._seq <= after:
                await new.wait()
            after = min(after, self._seq)

    def _after(self, after: int) -> list[MarketUpdate]:
        if not self._log:
            return []
        # Seqs are consecutive in the log: the position of seq n is n - first.
        start = max(0, after + 1 - self._log[0].seq)
        return list(itertools.islice(self._log, start, None))

    # -- following --------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to every pool and program and read the pools; return once that is done.

        :raises VenueError: when the node cannot be read or subscribed to (a later call
            tries again).
        """
        started = self._started
        if started is None or (
            started.done() and (started.cancelled() or started.exception() is not None)
        ):
            started = asyncio.create_task(self._start(), name="solana-market-start")
            self._started = started
        await asyncio.shield(started)

    async def stop(self) -> None:
        """Stop following: every subscription ends."""
        if self._started is not None:
            self._started.cancel()
            with contextlib.suppress(asyncio.CancelledError, VenueError):
                await self._started
            self._started = None
        await self._cancel_tasks()

    async def _cancel_tasks(self) -> None:
        await self._discovery.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, VenueError):
                await task

    async def _start(self) -> None:
        try:
            entries = list(self._registry)
            first = await self._reader.read(entries, fresh=True)
            ready = self._watch(list(first.values())) if first else None
            await self._discovery.start()
            if ready is not None:
                await ready.wait()
            # Read after every subscription is live: the baseline a change is compared with.
            baseline = await self._reader.read(entries, fresh=True)
        except BaseException:
            await self._cancel_tasks()  # the next start subscribes afresh
            raise
        self._shown.update({a: pool_state(s) for a, s in baseline.items()})
        self._spawn(self._flush(), "solana-market-flush")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    def _created(self, entry: PoolEntry) -> None:
        # Whoever else must know the pool (the venues' registry) learns of it before the
        # update that announces it is recorded.
        if self._on_registered is not None:
            self._on_registered(entry)
        self._mark(entry.address, "created")

    def _mark(self, pool: Pubkey, kind: str = "changed") -> None:
        if self._dirty.get(pool) != "created":
            self._dirty[pool] = kind
        self._marked.set()

    def _watch(self, snapshots: Sequence[PoolSnapshot]) -> asyncio.Event:
        """Follow the pools' accounts on one subscription; return the event set once live."""
        ready = asyncio.Event()
        owners = {key: snap.entry.address for snap in snapshots for key in snap.watched}
        self._spawn(self._follow_pools(owners, ready), "solana-pools")
        return ready

    async def _follow_pools(self, owners: dict[Pubkey, Pubkey], ready: asyncio.Event) -> None:
        while True:
            try:
                async with self._rpc.account_updates(
                    list(owners), commitment=self._commitment
                ) as feed:
                    if ready.is_set():  # subscribed again: what changed meanwhile was missed
                        for pool in set(owners.values()):
                            self._mark(pool)
                    ready.set()
                    async for update in feed:
                        self._mark(owners[update.address])
            except VenueError as exc:
                log.warning("subscription to %d pools lost: %s", len(set(owners.values())), exc)
            await asyncio.sleep(self._retry_seconds)

    async def _admit(self, entry: PoolEntry) -> None:
        # A launch is followed before it is registered, so venues never quote a pool whose
        # changes nobody sees.
        snap = (await self._reader.read([entry], fresh=True))[entry.address]
        await self._watch([snap]).wait()

    async def _flush(self) -> None:
        while True:
            await self._marked.wait()
            self._marked.clear()
            await asyncio.sleep(0)  # let the rest of this slot's notifications arrive
            dirty, self._dirty = self._dirty, {}
            try:
                snapshots = await self._reader.read(
                    [self._registry.get(p) for p in dirty], fresh=True
                )
            except VenueError as exc:
                log.warning("could not read %d changed pools: %s", len(dirty), exc)
                for pool, kind in dirty.items():
                    self._mark(pool, kind)
                await asyncio.sleep(self._retry_seconds)
                continue
            for pool, kind in dirty.items():
                self._record(kind, pool_state(snapshots[pool]))

    def _record(self, kind: str, state: PoolState) -> None:
        address = Pubkey.from_string(state.address)
        if kind == "changed" and self._shown.get(address) == state:
            return
        self._shown[address] = state
        self._seq += 1
        self._log.append(MarketUpdate(self._seq, kind, state))
        self._new.set()
        self._new = asyncio.Event()
