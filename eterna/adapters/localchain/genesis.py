"""The local chain's opening market: real tokens, three programs' pools, seeded prices.

The same market as the Python sandbox's genesis, so routes and prices stay comparable:
SOL (wrapped: the native mint), USDC, USDT, BONK, JUP and RAY at their mainnet mint
addresses and decimals; nine pairs, six of them on all three venues, RAY/USDC and
BONK/USDC on Raydium and Meteora, RAY/SOL on Raydium alone. Prices start from round USD
references; each pool gets its own offset (±0.3 %) and depth (0.6x to 1.4x the pair's
typical depth), drawn from a generator seeded by (seed, venue, pair) exactly as the sandbox
draws them. Every pool is created through its program's own instructions
(:mod:`.listings` says how the depth is laid out on each; that is where the programs forced
another shape than the sandbox's models).

Opening prices are the sandbox's to a millionth (``tests/chain/test_localnode_genesis.py``).
What the programs forced, and the depths obtained (value held at the opening price over the
drawn depth, seed 7; the test holds every pool within 2 %):

- CP-Swap: 99.7-100.3 %. ``initialize`` locks 100 LP units of the first deposit, as on
  mainnet; its config (fee 0.25 %, 12 % of it to the protocol, 4 % to the fund) is written
  directly: only Raydium's admin key may create one.
- Whirlpool: 99.8-100.0 %. Positions sit on the tick spacing, so the ranges are a little
  wider than ±1/5/20 %; the price sits on the sqrt-price grid (exact to 2^-64).
- DLMM: 98.8-99.8 %. Prices sit on bins (0.2 % apart, 0.01 % for the stable pair) and the
  opening price is the bin closest to the drawn one, as the sandbox's model did; the program
  fills the active bin in the proportion it can take (the sandbox split it in halves).
- Mints at mainnet addresses cannot be created by the token program (it would need their
  keys): they are written directly, with the faucet as mint authority (none for wSOL).

Last, one address lookup table per venue, created and extended through the Address Lookup
Table program by the faucet, holds the static accounts of that venue's pools (what a swap
names but the wallet's: :func:`~eterna.adapters.solana.transactions.pool_table_addresses`),
one slot before the chain opens so they can be looked up at once. The engine finds them by
the program's accounts and uses them for routes of three or four swaps.

Building it takes 0.2-0.4 s (``bench/localchain_node.py``); a snapshot of its accounts is
kept in memory per (seed, program files), so every further node of the same seed restores it
instead of replaying genesis (a node is then ready in about 50 ms).
"""

from __future__ import annotations

__all__ = ["WalletFileError"]  # the wallet's errors, as the chain's callers knew them

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.listings import list_pair
from eterna.adapters.localchain.pools import ChainPool
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.slots import GENESIS_SLOT
from eterna.adapters.localchain.svm import GENESIS_UNIX_TIME, ChainSnapshot, LocalChain
from eterna.adapters.solana.ids import WSOL_MINT, mint_of
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.transactions import pool_table_addresses
from eterna.adapters.solana.wallet import WalletFileError, load_wallet
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, WELL_KNOWN, Token

REFERENCE_USD: dict[Token, Fraction] = {
    SOL: Fraction(150),
    USDC: Fraction(1),
    USDT: Fraction(1),
    BONK: Fraction(2, 100_000),
    JUP: Fraction(4, 5),
    RAY: Fraction(5, 2),
}
VENUES = ("raydium", "meteora", "orca")
_ALL = frozenset(VENUES)

# (token A, token B, USD depth of a typical pool, venues listing the pair)
PAIRS: tuple[tuple[Token, Token, int, frozenset[str]], ...] = (
    (SOL, USDC, 20_000_000, _ALL),
    (SOL, USDT, 6_000_000, _ALL),
    (USDC, USDT, 10_000_000, _ALL),
    (BONK, SOL, 3_000_000, _ALL),
    (JUP, USDC, 4_000_000, _ALL),
    (JUP, SOL, 2_000_000, _ALL),
    (RAY, USDC, 3_000_000, frozenset({"raydium", "meteora"})),
    (RAY, SOL, 2_000_000, frozenset({"raydium"})),
    (BONK, USDC, 1_500_000, frozenset({"raydium", "meteora"})),
)
# The slots before the node's first in which genesis makes its lookup tables (one each).
TABLE_SLOTS = 10
# Genesis is built a minute before the node's first slot: every pool is open by then.
BUILD_UNIX_TIME = GENESIS_UNIX_TIME - 60
# What the Eterna wallet holds at genesis: lamports, and each token worth this many USD.
WALLET_LAMPORTS = 1_000_000 * 10**9
WALLET_USD_PER_TOKEN = Fraction(100_000_000)


@dataclass(frozen=True, slots=True)
class PoolTerms:
    """A genesis pool before it exists: venue, pair, raw price (B per A) and USD depth."""

    venue: str
    token_a: Token
    token_b: Token
    price: Fraction
    depth_usd: Fraction


@dataclass(frozen=True, slots=True)
class Genesis:
    """The opening market of a seed: the chain's accounts, its pools and its tokens."""

    seed: int
    snapshot: ChainSnapshot
    pools: tuple[ChainPool, ...]

    @property
    def tokens(self) -> tuple[Token, ...]:
        """Return the well-known tokens, SOL first."""
        return tuple(WELL_KNOWN)


def chain_seed(seed: int) -> bytes:
    """Return the seed of the LocalChain behind a node seed (its keypairs follow it)."""
    return f"eterna-localchain/{seed}".encode()


def raw_price(a: Token, b: Token) -> Fraction:
    """Return the reference price of a in b, in base units of b per base unit of a."""
    return REFERENCE_USD[a] / REFERENCE_USD[b] * Fraction(10**b.decimals, 10**a.decimals)


def genesis_terms(seed: int, venues: Sequence[str] = VENUES) -> list[PoolTerms]:
    """Return the terms of the seed's opening pools, drawn as the sandbox draws them."""
    terms = []
    for venue in venues:
        for a, b, depth, listed_on in PAIRS:
            if venue not in listed_on:
                continue
            rng = random.Random(f"{seed}/{venue}/{a.mint}/{b.mint}")
            offset = Fraction(1) + Fraction(rng.randint(-30, 30), 10_000)
            scale = Fraction(rng.randint(60, 140), 100)
            terms.append(PoolTerms(venue, a, b, raw_price(a, b) * offset, depth * scale))
    return terms


def build_genesis(programs: Sequence[ProgramFile], seed: int) -> Genesis:
    """Create the seed's market on a new chain; return its snapshot and pools."""
    chain = LocalChain(programs, unix_time=BUILD_UNIX_TIME, seed=chain_seed(seed))
    chain.put_well_known_mints()
    pools = tuple(
        list_pair(
            chain,
            t.venue,
            (t.token_a, t.token_b),
            price=t.price,
            depth_usd=t.depth_usd,
            reference=REFERENCE_USD,
        )
        for t in genesis_terms(seed)
    )
    # LiteSVM's slot is far past the node's first: the tables are made before that slot, or
    # a lookup in them would wait for the node to reach the slot they were extended at.
    chain.svm.warp_to_slot(GENESIS_SLOT - TABLE_SLOTS)
    create_pool_tables(chain, pools)
    return Genesis(seed, chain.snapshot(), pools)


def create_pool_tables(chain: LocalChain, pools: Sequence[ChainPool]) -> list[Pubkey]:
    """Create one lookup table per venue with its pools' static accounts; return them."""
    by_venue: dict[str, list[Pubkey]] = {}
    for pool in pools:
        entry = PoolEntry(pool.venue, pool.program, pool.address, pool.token_a, pool.token_b)
        by_venue.setdefault(pool.venue, []).extend(pool_table_addresses(chain.read_pool(entry)))
    return [chain.create_lookup_table(addresses) for addresses in by_venue.values()]


@cache
def _cached(programs: tuple[ProgramFile, ...], seed: int) -> Genesis:
    return build_genesis(programs, seed)


def genesis(programs: Sequence[ProgramFile], seed: int) -> Genesis:
    """Return the seed's genesis, built once per process for the same program files."""
    return _cached(tuple(programs), seed)


def wallet_keypair(seed: int) -> Keypair:
    """Return the Eterna wallet of a seed (a deployment passes its own keypair instead)."""
    return Keypair.from_seed(hashlib.sha256(f"eterna-wallet/{seed}".encode()).digest())


def load_keypair(path: Path) -> Keypair:
    """Read a keypair file as ``solana-keygen`` writes it (see :func:`.load_wallet`).

    :raises WalletFileError: when the file is missing, shared with other users, or holds no
        keypair.
    """
    return load_wallet(path).keypair


def fund_wallet(chain: LocalChain, wallet: Keypair) -> None:
    """Give the wallet SOL to pay and wrap, and every well-known token, generously."""
    chain.airdrop(wallet.pubkey(), WALLET_LAMPORTS)
    for token in WELL_KNOWN:
        mint = mint_of(token)
        if mint == WSOL_MINT:
            continue  # SOL is held as lamports; the wallet wraps what a swap needs
        amount = int(WALLET_USD_PER_TOKEN / REFERENCE_USD[token] * 10**token.decimals)
        chain.fund(wallet.pubkey(), mint, amount)
