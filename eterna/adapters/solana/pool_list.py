"""The pools Eterna trades on a real cluster: a configured list, plus discovery by mint.

On the local chain the genesis lists the pools. On devnet or mainnet the deployment says
which: a pools file (``ETERNA_POOLS_FILE``, JSON)::

    {
      "pools": ["<pool address>", ...],
      "tokens": [{"mint": "<mint address>", "symbol": "SOL"}, ...],
      "discover": true
    }

``pools`` are traded as listed; with ``discover`` (the default when tokens are listed) every
pool of the three programs between two listed tokens is found with ``getProgramAccounts``,
filtered per program on the pool account's size, its discriminator and the mint at each of
its two mint offsets. The programs are those of the node's cluster, at its ids
(:class:`~.clusters.ProgramIds`: CP-Swap's devnet id is not its mainnet one). Each pool,
listed or found, is validated before it is registered: its owner is one of the three
programs at this cluster's ids (a pool of another cluster's CP-Swap is refused), its data is
that program's pool account (discriminator and size), its mints decode, and the program
takes swaps on it (CP-Swap's status bits, DLMM's status); a pool that fails is logged with
why and left out. Tokens get their decimals from their mint accounts and their symbols from
the file, else from the well-known tokens.

:class:`ClusterPools` keeps the result (the mint accounts it read, the pools it validated) and
refreshes it every ``ETERNA_POOLS_REFRESH_SECONDS``: new pools join the registry, pools that
stopped taking swaps leave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from solders.pubkey import Pubkey

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.anchor import AccountLayoutError, account_discriminator
from eterna.adapters.solana.clusters import ProgramIds, clusters_running
from eterna.adapters.solana.discovery import (
    PoolKind,
    UndecodablePoolError,
    pool_kind,
    pool_kinds,
    pool_mints,
)
from eterna.adapters.solana.dlmm import STATUS_ENABLED, decode_lb_pair
from eterna.adapters.solana.pools import PoolEntry, PoolRegistry
from eterna.adapters.solana.rpc import (
    AccountInfo,
    Commitment,
    DataSizeFilter,
    MemcmpFilter,
    SolanaRpc,
)
from eterna.adapters.solana.spl import decode_mint
from eterna.domain.errors import EternaError, VenueError
from eterna.domain.tokens import WELL_KNOWN, Token

log = logging.getLogger(__name__)

# Where each venue's pool account holds its two mints (CP-Swap token 0/1, Whirlpool A/B,
# DLMM X/Y), counted from the start of the account's data.
MINT_OFFSETS: Final[Mapping[str, tuple[int, int]]] = {
    "raydium": (168, 200),
    "orca": (101, 181),
    "meteora": (88, 120),
}
MAX_ACCOUNTS_PER_CALL: Final = 100


class PoolListError(EternaError):
    """The pools file is missing or malformed."""


class InvalidPoolError(VenueError):
    """An account is not a pool Eterna can trade: wrong owner, layout, or swaps disabled."""


@dataclass(frozen=True, slots=True)
class PoolList:
    """The pools file read: pools by address, tokens by mint (with symbols), discovery on."""

    pools: tuple[Pubkey, ...] = ()
    symbols: Mapping[Pubkey, str | None] = field(default_factory=dict)
    discover: bool = False


def read_pool_list(path: Path) -> PoolList:
    """Read a pools file (see the module docstring).

    :raises PoolListError: when it is missing, not JSON, or a field is malformed.
    """
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PoolListError(f"pools file {path}: {exc}") from None
    return parse_pool_list(raw, where=str(path))


def parse_pool_list(raw: Any, *, where: str = "pools file") -> PoolList:
    """Return the pool list a pools file's JSON holds.

    :raises PoolListError: when a field is malformed.
    """
    try:
        if not isinstance(raw, dict) or set(raw) - {"pools", "tokens", "discover"}:
            raise ValueError("an object of pools, tokens and discover is expected")
        pools = tuple(Pubkey.from_string(a) for a in raw.get("pools", []))
        symbols: dict[Pubkey, str | None] = {}
        for token in raw.get("tokens", []):
            symbol = token.get("symbol")
            if symbol is not None and not isinstance(symbol, str):
                raise ValueError(f"symbol {symbol!r} is not text")
            symbols[Pubkey.from_string(token["mint"])] = symbol
        discover = raw.get("discover", bool(symbols))
        if not isinstance(discover, bool):
            raise ValueError("discover is true or false")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PoolListError(f"{where}: {exc}") from None
    if not pools and not (discover and symbols):
        raise PoolListError(f"{where}: lists no pool and no token to discover pools of")
    return PoolList(pools, symbols, discover)


def validate_pool(
    address: Pubkey, account: AccountInfo | None, programs: ProgramIds
) -> tuple[Pubkey, Pubkey]:
    """Return a pool account's mints, in program order, once it passes every check.

    programs: the DEX programs' ids on the node's cluster.

    :raises InvalidPoolError: when there is no account, its owner is not one of the three
        programs at this cluster's ids, its data is not that program's pool account, or it
        takes no swaps.
    """
    if account is None:
        raise InvalidPoolError(f"no account at {address}")
    program = account.owner
    kind = pool_kind(program, programs)
    if kind is None:
        elsewhere = ", ".join(c.value for c in clusters_running(program))
        where = f" (a DEX program on {elsewhere}, not on this cluster)" if elsewhere else ""
        raise InvalidPoolError(f"{address} is owned by {program}, not a DEX program{where}")
    data = account.data
    if len(data) != kind.size or data[:8] != account_discriminator(kind.account):
        raise InvalidPoolError(f"{address} is not a {kind.account} of {program}")
    try:
        mints = pool_mints(kind.venue, data)
        if kind.venue == "raydium" and not cpswap.decode_pool_state(data).swap_enabled:
            raise InvalidPoolError(f"CP-Swap pool {address}: swaps are disabled")
        if kind.venue == "meteora" and decode_lb_pair(data).status != STATUS_ENABLED:
            raise InvalidPoolError(f"DLMM pair {address}: the pair is disabled")
    except (UndecodablePoolError, AccountLayoutError) as exc:
        raise InvalidPoolError(f"{address}: {exc}") from exc
    return mints


def discovery_filters(kind: PoolKind, mint: Pubkey) -> list[list[DataSizeFilter | MemcmpFilter]]:
    """Return the getProgramAccounts filters that find the kind's pools of a mint, per side."""
    return [[*kind.filters, MemcmpFilter(o, bytes(mint))] for o in MINT_OFFSETS[kind.venue]]


@dataclass(frozen=True, slots=True)
class Refresh:
    """What one refresh changed in the registry, and the pools it left out with why."""

    added: tuple[PoolEntry, ...]
    removed: tuple[Pubkey, ...]
    rejected: Mapping[Pubkey, str]


class ClusterPools:
    """The configured and discovered pools of a cluster, validated, kept in a registry.

    ``programs``: the DEX programs' ids on the node's cluster; pools are theirs.
    """

    def __init__(
        self,
        rpc: SolanaRpc,
        pool_list: PoolList,
        registry: PoolRegistry | None = None,
        *,
        programs: ProgramIds,
        commitment: Commitment = "confirmed",
        refresh_seconds: float = 300.0,
    ) -> None:
        self._rpc = rpc
        self._list = pool_list
        self._programs = programs
        self.registry = registry if registry is not None else PoolRegistry()
        self._commitment: Commitment = commitment
        self._refresh_seconds = refresh_seconds
        self._decimals: dict[Pubkey, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> tuple[list[PoolEntry], dict[Pubkey, str]]:
        """Read, find and validate every pool now; return the good ones and why others fail.

        :raises VenueUnavailableError: when the node does not answer.
        """
        accounts = dict(zip(self._list.pools, await self._accounts(self._list.pools), strict=True))
        if self._list.discover:
            accounts.update(await self._discover())
        rejected: dict[Pubkey, str] = {}
        found: dict[Pubkey, tuple[Pubkey, Pubkey, Pubkey]] = {}
        for address, account in accounts.items():
            try:
                if account is None:
                    raise InvalidPoolError(f"no account at {address}")
                mint_a, mint_b = validate_pool(address, account, self._programs)
            except InvalidPoolError as exc:
                rejected[address] = str(exc)
                continue
            found[address] = (account.owner, mint_a, mint_b)
        await self._read_decimals({m for _, a, b in found.values() for m in (a, b)})
        entries = []
        for address, (program, mint_a, mint_b) in found.items():
            if mint_a not in self._decimals or mint_b not in self._decimals:
                rejected[address] = f"{address}: a mint account is missing or not a mint"
                continue
            tokens = (self._token(mint_a), self._token(mint_b))
            venue = self._programs.venue_of(program)
            if venue is None:  # validate_pool refused it already
                continue
            entries.append(PoolEntry(venue, program, address, *tokens))
        for address, reason in rejected.items():
            log.warning("pool %s left out: %s", address, reason)
        return entries, rejected

    async def refresh(self) -> Refresh:
        """Load the pools again; register the new ones, drop those no longer valid."""
        entries, rejected = await self.load()
        added = tuple(e for e in entries if self.registry.add(e))
        valid = {e.address for e in entries}
        removed = tuple(
            e.address for e in self.registry if e.address not in valid and e.address in rejected
        )
        for address in removed:
            self.registry.discard(address)
        return Refresh(added, removed, rejected)

    async def start(self) -> Refresh:
        """Load the pools once, then refresh them in the background every period."""
        first = await self.refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._every_period(), name="cluster-pools")
        return first

    async def stop(self) -> None:
        """Stop the background refresh."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _every_period(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                done = await self.refresh()
            except VenueError as exc:
                log.warning("pool refresh failed: %s", exc)
                continue
            if done.added or done.removed:
                log.info("pools: %d added, %d removed", len(done.added), len(done.removed))

    async def _accounts(self, keys: Sequence[Pubkey]) -> list[AccountInfo | None]:
        found: list[AccountInfo | None] = []
        for start in range(0, len(keys), MAX_ACCOUNTS_PER_CALL):
            batch = list(keys[start : start + MAX_ACCOUNTS_PER_CALL])
            answer = await self._rpc.get_multiple_accounts(batch, commitment=self._commitment)
            found += answer.value
        return found

    async def _discover(self) -> dict[Pubkey, AccountInfo]:
        """Return the pools of the three programs whose two mints are both listed tokens."""
        listed = set(self._list.symbols)
        found: dict[Pubkey, AccountInfo] = {}
        for kind in pool_kinds(self._programs):
            offsets = MINT_OFFSETS[kind.venue]
            for mint in listed:
                for filters in discovery_filters(kind, mint):
                    answer = await self._rpc.get_program_accounts(
                        kind.program, filters, commitment=self._commitment
                    )
                    for keyed in answer.value:
                        data = keyed.account.data
                        mints = {Pubkey.from_bytes(data[o : o + 32]) for o in offsets}
                        if mints <= listed:
                            found[keyed.address] = keyed.account
        return found

    async def _read_decimals(self, mints: Iterable[Pubkey]) -> None:
        todo = [m for m in mints if m not in self._decimals]
        for mint, account in zip(todo, await self._accounts(todo), strict=True):
            if account is None:
                continue
            try:
                self._decimals[mint] = decode_mint(account.data).decimals
            except AccountLayoutError:
                continue

    def _token(self, mint: Pubkey) -> Token:
        known = {t.mint: t for t in WELL_KNOWN}.get(str(mint))
        symbol = self._list.symbols.get(mint) or (known.symbol if known is not None else None)
        return Token(str(mint), symbol, self._decimals[mint])
