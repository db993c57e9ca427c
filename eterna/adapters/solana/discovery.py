"""Pools the programs create after genesis (token launches), found from their accounts.

Each program's pool account has its own Anchor discriminator and size; a
``programSubscribe`` filtered on both reports every pool account the program writes, and
an address the registry does not know is a new pool. Its mints are read from the pool
account; a token Eterna does not know yet gets its decimals from its mint account, and no
symbol.

:class:`PoolDiscovery` runs those subscriptions and registers what they find: in the
process of the trigger watcher (inside :class:`~.market_data.SolanaMarketData`, which
follows each new pool before it is registered) and in every worker, whose venues must quote
a launched pool as soon as a sniper order fires on it.

Which programs are subscribed to is the cluster's (:class:`~.clusters.ProgramIds`): on
devnet CP-Swap's pools are those of its devnet id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from solders.pubkey import Pubkey

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.anchor import AccountLayoutError, account_discriminator
from eterna.adapters.solana.clusters import ProgramIds
from eterna.adapters.solana.dlmm import LB_PAIR_LEN, decode_lb_pair
from eterna.adapters.solana.pools import VENUES, PoolEntry, PoolRegistry
from eterna.adapters.solana.rpc import (
    Commitment,
    DataSizeFilter,
    MemcmpFilter,
    ProgramFilter,
    SolanaRpc,
)
from eterna.adapters.solana.spl import decode_mint
from eterna.adapters.solana.whirlpool import WHIRLPOOL_LEN, decode_whirlpool
from eterna.domain.errors import VenueError
from eterna.domain.tokens import WELL_KNOWN, Token

log = logging.getLogger(__name__)


class UndecodablePoolError(VenueError):
    """A program account passed the pool filters but is not a pool Eterna can read."""


@dataclass(frozen=True, slots=True)
class PoolKind:
    """How to recognise one program's pool accounts: venue, program id, type name and size."""

    venue: str
    program: Pubkey
    account: str
    size: int

    @property
    def filters(self) -> tuple[ProgramFilter, ...]:
        """Return the programSubscribe filters that keep only these pool accounts."""
        return (
            DataSizeFilter(self.size),
            MemcmpFilter(0, account_discriminator(self.account)),
        )


# Each venue's pool account: its Anchor type name and size (the same on every cluster).
POOL_ACCOUNTS: Final = {
    "raydium": ("PoolState", cpswap.POOL_STATE_LEN),
    "orca": ("Whirlpool", WHIRLPOOL_LEN),
    "meteora": ("LbPair", LB_PAIR_LEN),
}


def pool_kinds(programs: ProgramIds) -> tuple[PoolKind, ...]:
    """Return the pool kinds of the three programs at their ids on one cluster."""
    return tuple(
        PoolKind(venue, programs.program_of(venue), account, size)
        for venue, (account, size) in POOL_ACCOUNTS.items()
    )


def pool_kind(program: Pubkey, programs: ProgramIds) -> PoolKind | None:
    """Return the pool kind of a program id on the cluster (None: no DEX program there)."""
    return next((k for k in pool_kinds(programs) if k.program == program), None)


def pool_mints(venue: str, data: bytes) -> tuple[Pubkey, Pubkey]:
    """Return a venue's pool account's two mints in the program's order.

    :raises UndecodablePoolError: when data is not a pool of that venue's program.
    """
    try:
        if venue == "raydium":
            pool = cpswap.decode_pool_state(data)
            return pool.token_0_mint, pool.token_1_mint
        if venue == "orca":
            state = decode_whirlpool(data)
            return state.mint_a, state.mint_b
        if venue == "meteora":
            pair = decode_lb_pair(data)
            return pair.token_x_mint, pair.token_y_mint
    except AccountLayoutError as exc:
        raise UndecodablePoolError(f"{venue} pool account: {exc}") from exc
    raise UndecodablePoolError(f"{venue!r} is not a venue Eterna trades on")


class TokenLookup:
    """Tokens by mint: the well-known ones, those of known pools, else read from the chain."""

    def __init__(
        self, rpc: SolanaRpc, registry: PoolRegistry, *, commitment: Commitment = "confirmed"
    ) -> None:
        self._rpc = rpc
        self._registry = registry
        self._commitment: Commitment = commitment
        self._known = {t.mint: t for t in WELL_KNOWN}

    async def token(self, mint: Pubkey) -> Token:
        """Return the token of a mint.

        :raises UndecodablePoolError: when the mint account is missing or is not a mint.
        """
        text = str(mint)
        known = self._known.get(text) or self._registry.token(text)
        if known is not None:
            return known
        answer = await self._rpc.get_account_info(mint, commitment=self._commitment)
        if answer.value is None:
            raise UndecodablePoolError(f"no mint account at {mint}")
        try:
            decimals = decode_mint(answer.value.data).decimals
        except AccountLayoutError as exc:
            raise UndecodablePoolError(f"{mint} is not a mint: {exc}") from exc
        token = Token(text, None, decimals)
        self._known[text] = token
        return token


async def entry_for(kind: PoolKind, address: Pubkey, data: bytes, tokens: TokenLookup) -> PoolEntry:
    """Return the registry entry of a pool account the kind's program wrote.

    :raises UndecodablePoolError: when it is not a pool, or a mint cannot be read.
    """
    mint_a, mint_b = pool_mints(kind.venue, data)
    return PoolEntry(
        venue=kind.venue,
        program=kind.program,
        address=address,
        token_a=await tokens.token(mint_a),
        token_b=await tokens.token(mint_b),
    )


def kinds_for(venues: Sequence[str], programs: ProgramIds) -> list[PoolKind]:
    """Return the pool kinds of the venues asked for, at their ids on the cluster."""
    return [k for k in pool_kinds(programs) if k.venue in venues]


Admit = Callable[[PoolEntry], Awaitable[None]]


class PoolDiscovery:
    """Register the pools the programs create, as their program subscriptions report them.

    ``programs``: the DEX programs' ids on the node's cluster, the ones subscribed to.
    ``admit`` runs before a new pool is registered (a market data adapter follows it first);
    ``registered`` after. A pool that cannot be decoded or read is logged and skipped.
    """

    def __init__(
        self,
        rpc: SolanaRpc,
        registry: PoolRegistry,
        *,
        programs: ProgramIds,
        venues: Sequence[str] = VENUES,
        commitment: Commitment = "confirmed",
        retry_seconds: float = 1.0,
        admit: Admit | None = None,
        registered: Callable[[PoolEntry], None] | None = None,
    ) -> None:
        self._rpc = rpc
        self._registry = registry
        self._kinds = kinds_for(venues, programs)
        self._commitment: Commitment = commitment
        self._retry_seconds = retry_seconds
        self._admit = admit
        self._registered = registered
        self._tokens = TokenLookup(rpc, registry, commitment=commitment)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Subscribe to each program's pool accounts; return once every subscription is live."""
        if self._tasks:
            return
        ready = [asyncio.Event() for _ in self._kinds]
        self._tasks = [
            asyncio.create_task(self._follow(kind, event), name=f"discovery-{kind.account}")
            for kind, event in zip(self._kinds, ready, strict=True)
        ]
        try:
            await asyncio.gather(*(event.wait() for event in ready))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """End the subscriptions."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, kind: PoolKind, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self._rpc.program_updates(
                    kind.program, kind.filters, commitment=self._commitment
                ) as feed:
                    ready.set()
                    async for update in feed:
                        if update.address not in self._registry:
                            await self._register(kind, update.address, update.account.data)
            except VenueError as exc:
                log.warning("subscription to %s pools lost: %s", kind.account, exc)
            await asyncio.sleep(self._retry_seconds)

    async def _register(self, kind: PoolKind, address: Pubkey, data: bytes) -> None:
        try:
            entry = await entry_for(kind, address, data, self._tokens)
            if self._admit is not None:
                await self._admit(entry)
        except VenueError as exc:
            log.warning("new pool %s not registered: %s", address, exc)
            return
        if self._registry.add(entry):
            log.info("new %s pool %s: %s/%s", entry.venue, address, *entry.mints)
            if self._registered is not None:
                self._registered(entry)
