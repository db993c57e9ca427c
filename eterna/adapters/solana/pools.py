"""Which pools Eterna trades on a cluster: venue, program, address and the two tokens.

The local chain's genesis lists its pools (the registry starts from that list); pools made
later - token launches - are added as :mod:`eterna.adapters.solana.discovery` sees the
programs create them. A pool's tokens are in the program's own order (CP-Swap token 0/1,
Whirlpool A/B, DLMM X/Y: the lower mint address first), so side A of :class:`PoolEntry` is
side A of the program's accounts and of our math.

A venue's program id depends on the cluster (CP-Swap's differs on devnet): which ids a pool
may be owned by is the cluster's :class:`~eterna.adapters.solana.clusters.ProgramIds`, which
whoever recognises pools is given. An entry only has to name its venue's program on some
cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from solders.pubkey import Pubkey

from eterna.adapters.solana.clusters import is_venue_program
from eterna.domain.errors import EternaError
from eterna.domain.tokens import Token

# Venue names are the ones the API uses; each venue is one program (its id per cluster is in
# clusters.py).
VENUE_KINDS: Final[dict[str, str]] = {
    "raydium": "constant product (Raydium CP-Swap)",
    "orca": "concentrated liquidity (Orca Whirlpool)",
    "meteora": "dynamic liquidity bins (Meteora DLMM)",
}
VENUES: Final[tuple[str, ...]] = tuple(VENUE_KINDS)


class UnknownPoolError(EternaError):
    """No pool of the registry has this address, or it is not on the venue said."""


@dataclass(frozen=True, slots=True)
class PoolEntry:
    """One pool: its venue, its program, its address and its tokens in program order."""

    venue: str
    program: Pubkey
    address: Pubkey
    token_a: Token
    token_b: Token

    def __post_init__(self) -> None:
        """Refuse an entry whose venue and program disagree, or whose sides are one token."""
        if not is_venue_program(self.venue, self.program):
            raise ValueError(f"venue {self.venue!r} is not the program {self.program}")
        if self.token_a.mint == self.token_b.mint:
            raise ValueError("a pool trades two different tokens")

    def a_to_b(self, mint_in: str, mint_out: str) -> bool | None:
        """Return the direction of a swap of mint_in for mint_out, None when not this pair."""
        if (mint_in, mint_out) == (self.token_a.mint, self.token_b.mint):
            return True
        if (mint_in, mint_out) == (self.token_b.mint, self.token_a.mint):
            return False
        return None

    @property
    def mints(self) -> tuple[str, str]:
        """Return the mints of sides A and B."""
        return (self.token_a.mint, self.token_b.mint)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (a genesis can hand its pool list to another process)."""
        return {
            "venue": self.venue,
            "program": str(self.program),
            "address": str(self.address),
            "tokenA": _token_json(self.token_a),
            "tokenB": _token_json(self.token_b),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PoolEntry:
        """Rebuild from the JSON form.

        :raises ValueError: when a field is missing or malformed.
        """
        try:
            return cls(
                venue=str(data["venue"]),
                program=Pubkey.from_string(data["program"]),
                address=Pubkey.from_string(data["address"]),
                token_a=_token_from(data["tokenA"]),
                token_b=_token_from(data["tokenB"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a pool entry: {exc}") from None


def _token_json(token: Token) -> dict[str, Any]:
    return {"mint": token.mint, "symbol": token.symbol, "decimals": token.decimals}


def _token_from(data: dict[str, Any]) -> Token:
    symbol = data.get("symbol")
    return Token(str(data["mint"]), None if symbol is None else str(symbol), int(data["decimals"]))


class PoolRegistry:
    """The pools Eterna may trade, by address, by venue and pair, and by mint."""

    def __init__(self, entries: Iterable[PoolEntry] = ()) -> None:
        self._by_address: dict[Pubkey, PoolEntry] = {}
        self._by_pair: dict[tuple[str, frozenset[str]], list[PoolEntry]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: PoolEntry) -> bool:
        """Register a pool; return False when it was registered already."""
        if entry.address in self._by_address:
            return False
        self._by_address[entry.address] = entry
        key = (entry.venue, frozenset(entry.mints))
        self._by_pair.setdefault(key, []).append(entry)
        return True

    def discard(self, address: Pubkey) -> bool:
        """Unregister a pool; return False when it was not registered."""
        entry = self._by_address.pop(address, None)
        if entry is None:
            return False
        key = (entry.venue, frozenset(entry.mints))
        same = [e for e in self._by_pair.get(key, ()) if e.address != address]
        if same:
            self._by_pair[key] = same
        else:
            self._by_pair.pop(key, None)
        return True

    def __contains__(self, address: object) -> bool:
        return address in self._by_address

    def __iter__(self) -> Iterator[PoolEntry]:
        return iter(list(self._by_address.values()))

    def __len__(self) -> int:
        return len(self._by_address)

    def get(self, address: Pubkey) -> PoolEntry:
        """Return the pool at address.

        :raises UnknownPoolError: when no registered pool has it.
        """
        entry = self._by_address.get(address)
        if entry is None:
            raise UnknownPoolError(f"no known pool at {address}")
        return entry

    def find(self, address: str, venue: str) -> PoolEntry:
        """Return the pool a swap names by its address text and venue.

        :raises UnknownPoolError: when the address is malformed, unknown, or on another venue.
        """
        try:
            key = Pubkey.from_string(address)
        except ValueError:
            raise UnknownPoolError(f"{address!r} is not a pool address") from None
        entry = self.get(key)
        if entry.venue != venue:
            raise UnknownPoolError(f"pool {address} is on {entry.venue}, not {venue}")
        return entry

    def pools(self, venue: str, mint_in: str, mint_out: str) -> list[PoolEntry]:
        """Return the venue's pools that trade the pair, in the order they were added."""
        return list(self._by_pair.get((venue, frozenset((mint_in, mint_out))), ()))

    def of_venue(self, venue: str) -> list[PoolEntry]:
        """Return every pool of the venue."""
        return [e for e in self._by_address.values() if e.venue == venue]

    def of_mint(self, mint: str) -> list[PoolEntry]:
        """Return every pool, on any venue, that trades the mint."""
        return [e for e in self._by_address.values() if mint in e.mints]

    def token(self, mint: str) -> Token | None:
        """Return the token of a mint some pool trades (None when none does)."""
        for entry in self._by_address.values():
            if entry.token_a.mint == mint:
                return entry.token_a
            if entry.token_b.mint == mint:
                return entry.token_b
        return None
