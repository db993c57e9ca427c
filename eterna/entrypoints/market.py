"""How a process reaches the market: a Solana cluster over JSON-RPC, or a local chain in it.

With ``ETERNA_SOLANA_RPC_URL`` the process talks to a shared ``eterna chain`` (or any node
serving the same JSON-RPC) over HTTP and websockets; unset, it runs the local chain itself
and reaches it through :class:`~eterna.adapters.localchain.local_rpc.LocalRpc`, which
answers exactly as the HTTP client does. Either way Eterna's side is the same: one venue
adapter per program, a gateway signing with the deployment wallet, the market data of the
trigger watcher, and a discovery that registers launched pools for the venues.

Two registries: the venues' (and the gateway's), filled by the process's own discovery, and
the market data's, whose discovery follows a launch before registering it and then adds it
to the venues' too. Sharing one would let whichever discovery saw a launch first hide it
from the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from solders.pubkey import Pubkey

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.solana.clusters import Cluster, programs_on, resolve_cluster
from eterna.adapters.solana.discovery import PoolDiscovery
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.http_rpc import HttpRpc
from eterna.adapters.solana.http_transport import AiohttpTransport
from eterna.adapters.solana.lookup_tables import LookupTableRegistry
from eterna.adapters.solana.market_data import SolanaMarketData
from eterna.adapters.solana.pool_list import ClusterPools, read_pool_list
from eterna.adapters.solana.pools import VENUES, PoolEntry, PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.rpc import SolanaRpc
from eterna.adapters.solana.venues import SolanaVenue
from eterna.core.fair_gate import FairGate
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.tokens import WELL_KNOWN, Token
from eterna.entrypoints.chain import build_local_node
from eterna.entrypoints.config import Settings
from eterna.entrypoints.execution import Execution, execution_of, wallet_of

T = TypeVar("T")

log = logging.getLogger(__name__)

# How long a process waits for a shared chain that is not answering yet (started beside it).
CHAIN_WAIT_SECONDS = 30.0
# A route on the chain is one transaction. Without lookup tables two swaps fit in 1,232
# bytes, three do not; with the pools' tables every sampled route of up to six swaps of
# mixed programs fits (1,103 bytes at most, 300 routes each), seven may lock more than 64
# accounts. Four leaves room for some 8 accounts no table holds (tick and bin arrays a
# moved price reaches, a pool listed after its venue's table): 970 bytes at most.
CHAIN_MAX_LEGS = 4


class ChainListError(VenueUnavailableError):
    """The chain's pool list could not be read, or is not a list of pools."""


@dataclass
class ChainLink:
    """What this process trades on: venues, gateway, tokens, market data, and the node."""

    node: LocalNode | None  # the in-process chain of the embedded mode
    rpc: SolanaRpc
    venues: list[SolanaVenue]
    gateway: SolanaGateway
    tokens: list[Token]
    market: SolanaMarketData
    discovery: PoolDiscovery
    http: httpx.AsyncClient | None  # the client of a shared chain
    execution: Execution
    pools: ClusterPools | None = None  # the pools file's pools, refreshed

    async def close(self) -> None:
        """End the subscriptions, then close the client or stop the in-process chain."""
        await self.market.stop()
        await self.discovery.stop()
        if self.pools is not None:
            await self.pools.stop()
        if self.http is not None:
            await self.http.aclose()
        if self.node is not None:
            await self.node.stop()


async def open_chain(settings: Settings) -> ChainLink:
    """Reach the chain at ETERNA_SOLANA_RPC_URL, or run the local chain in this process.

    :raises ProgramsError: embedded, when the program binaries are missing.
    :raises VenueUnavailableError: when a shared chain does not answer within the wait.
    :raises ClusterMismatchError: when the node serves another cluster than configured.
    :raises WalletFileError: when the wallet cannot be used (or is missing on a live cluster).
    """
    if settings.solana_rpc_url:
        return await _shared(settings, settings.solana_rpc_url)
    node = build_local_node(settings)
    node.start()
    try:
        rpc = LocalRpc(
            node,
            timeout_seconds=settings.venue_timeout_seconds,
            batch=settings.solana_rpc_batch,
        )
        cluster = await _cluster(settings, rpc)
        programs = programs_on(cluster)
        entries = [
            PoolEntry(p.venue, programs.program_of(p.venue), p.address, p.token_a, p.token_b)
            for p in node.pools()
        ]
        return await _link(settings, rpc, entries, cluster, node=node, http=None)
    except BaseException:
        await node.stop()
        raise


async def _shared(settings: Settings, url: str) -> ChainLink:
    timeout = httpx.Timeout(settings.venue_timeout_seconds)
    transport = AiohttpTransport(max_connections=settings.solana_rpc_concurrency)
    http = httpx.AsyncClient(timeout=timeout, transport=transport)
    try:
        rpc = HttpRpc(
            http,
            url,
            ws_url=settings.solana_ws_url,
            timeout_seconds=settings.venue_timeout_seconds,
            # As many calls under way as connections; the rest wait in their user's turn.
            gate=FairGate(settings.solana_rpc_concurrency),
            poster=transport,
            batch=settings.solana_rpc_batch,
        )
        cluster = await _first_answer(lambda: _cluster(settings, rpc), url)
        if settings.pools_file is None:
            if cluster.live:
                # A public cluster has no /admin/pools: without a pools file nothing routes.
                log.warning("no ETERNA_POOLS_FILE for %s: no pool is listed", cluster.value)
                return await _link(settings, rpc, [], cluster, node=None, http=http)
            entries = await _first_pool_list(http, str(httpx.URL(url).join("/admin/pools")))
            return await _link(settings, rpc, entries, cluster, node=None, http=http)
        # A real cluster: the pools file's pools, validated and refreshed into the venues'
        # registry.
        pools = ClusterPools(
            rpc,
            read_pool_list(settings.pools_file),
            programs=programs_on(cluster),
            refresh_seconds=settings.pools_refresh_seconds,
        )
        await pools.start()
        try:
            link = await _link(
                settings,
                rpc,
                list(pools.registry),
                cluster,
                node=None,
                http=http,
                registry=pools.registry,
            )
        except BaseException:
            await pools.stop()
            raise
        link.pools = pools
        return link
    except BaseException:
        await http.aclose()
        raise


async def _cluster(settings: Settings, rpc: SolanaRpc) -> Cluster:
    """Return the node's cluster (its genesis hash), checked against ETERNA_SOLANA_CLUSTER."""
    configured = None if settings.solana_cluster is None else Cluster(settings.solana_cluster)
    cluster = resolve_cluster(configured, await rpc.get_genesis_hash())
    programs_on(cluster)  # refuses a cluster without the DEX programs
    return cluster


async def _link(
    settings: Settings,
    rpc: SolanaRpc,
    entries: list[PoolEntry],
    cluster: Cluster,
    *,
    node: LocalNode | None,
    http: httpx.AsyncClient | None,
    registry: PoolRegistry | None = None,
) -> ChainLink:
    wallet = wallet_of(settings, cluster)
    execution = execution_of(settings, cluster)
    # Loud on purpose when it matters: whoever starts a process must see whether it runs dry
    # or spends real funds.
    log.log(logging.WARNING if execution.loud else logging.INFO, "%s", execution.banner(wallet))
    registry = PoolRegistry(entries) if registry is None else registry
    reader = PoolReader(rpc)
    # The DEX programs at this cluster's ids (CP-Swap's differs on devnet): what discovery
    # subscribes to and what swaps call.
    programs = programs_on(cluster)

    def also_for_venues(entry: PoolEntry) -> None:
        registry.add(entry)

    market = SolanaMarketData(
        rpc, PoolRegistry(entries), reader, programs=programs, registered=also_for_venues
    )
    discovery = PoolDiscovery(rpc, registry, programs=programs)
    if not cluster.live:  # a public cluster's programs make far too many accounts to follow
        await discovery.start()
    tables = LookupTableRegistry(
        rpc,
        [Pubkey.from_string(a) for a in settings.lookup_tables],
        # The local chain's tables are its own: every one there is the pools'.
        discover=not cluster.live,
    )
    gateway = SolanaGateway(
        rpc,
        registry,
        reader,
        wallet,
        landing=execution.landing(settings),
        commitment=settings.solana_commitment,
        lookup_tables=tables,
        programs=programs,
    )
    return ChainLink(
        node=node,
        rpc=rpc,
        venues=[SolanaVenue(name, registry, reader) for name in VENUES],
        gateway=gateway,
        execution=execution,
        tokens=_tokens(entries),
        market=market,
        discovery=discovery,
        http=http,
    )


def _tokens(entries: list[PoolEntry]) -> list[Token]:
    """Return the well-known tokens, then those of the pools, each mint once."""
    found = {t.mint: t for t in WELL_KNOWN}
    for entry in entries:
        for token in (entry.token_a, entry.token_b):
            found.setdefault(token.mint, token)
    return list(found.values())


async def _first_answer(ask: Callable[[], Awaitable[T]], url: str) -> T:
    """Return the node's first answer, waiting for it to come up (as for the pool list)."""
    deadline = asyncio.get_running_loop().time() + CHAIN_WAIT_SECONDS
    while True:
        try:
            return await ask()
        except VenueUnavailableError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("waiting for the node at %s (%s)", url, exc)
            await asyncio.sleep(0.25)


async def _first_pool_list(http: httpx.AsyncClient, url: str) -> list[PoolEntry]:
    """Read the shared chain's pool list, waiting for it to come up.

    Processes started together (compose, a test harness) race the chain's bind: a worker
    that gave up at once would die for no reason. Unreachable after the wait, it gives up.
    """
    deadline = asyncio.get_running_loop().time() + CHAIN_WAIT_SECONDS
    while True:
        try:
            return await _pool_list(http, url)
        except ChainListError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("waiting for the chain at %s (%s)", url, exc)
            await asyncio.sleep(0.25)


async def _pool_list(http: httpx.AsyncClient, url: str) -> list[PoolEntry]:
    try:
        response = await http.get(url)
        response.raise_for_status()
        return [PoolEntry.from_json(pool) for pool in response.json()]
    except (httpx.HTTPError, ValueError, TypeError) as exc:
        raise ChainListError(f"pool list at {url}: {type(exc).__name__}: {exc}") from exc
