"""Token launches: a new mint and a real pool of it against a well-known quote token.

What sniper orders wait for. A launch (:meth:`Launcher.launch`) creates the mint through
the token program (at an address derived from the seed and the launch number), or writes it
at the address the caller chose (a test that placed a sniper order for a mint launches
exactly it: the token program could only create it with that address's key). Then the pool,
through the venue's program, at ``price`` (quote per token) holding ``liquidity`` of the
quote token and the same value of the new one - the sandbox's terms.

A CP-Swap pool opens one second after the clock at its creation; a launch creates it with
the clock set two seconds back, so it trades at once, as a launch did in the sandbox.

:meth:`Launcher.launch_random` draws a launch's traits from a generator seeded by the node
seed and the launch number (symbol NEW<n>, price 0.00001..0.1 USD, liquidity 5,000..500,000
USD, venue, decimals 6 or 9); the node runs one every ``launch_every_seconds`` of chain time.
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.genesis import REFERENCE_USD
from eterna.adapters.localchain.listings import list_pair
from eterna.adapters.localchain.pools import VENUE_PROGRAMS, ChainPool
from eterna.adapters.localchain.results import ChainError, TransactionFailedError
from eterna.adapters.localchain.svm import LocalChain
from eterna.domain.tokens import SOL, USDC, Token, is_mint_address

MAX_DECIMALS = 12
_BACKDATE_SECONDS = 2


class LaunchError(ChainError, ValueError):
    """A launch refused: bad mint, symbol, decimals, venue, quote, price or liquidity."""


@dataclass(frozen=True, slots=True)
class Launch:
    """What a launch asks for; ``mint`` None lets the node derive one."""

    symbol: str | None
    decimals: int
    quote: str
    price: Fraction
    liquidity: Fraction
    venue: str = "raydium"
    mint: str | None = None


class Launcher:
    """Creates launched tokens and their pools on the chain; the node registers them."""

    def __init__(
        self,
        chain: LocalChain,
        *,
        seed: int,
        tokens: Callable[[], Mapping[Pubkey, Token]],
        pools: Callable[[], list[ChainPool]],
    ) -> None:
        self.chain = chain
        self._seed = seed
        self._tokens = tokens
        self._pools = pools
        self.launches = 0

    def launch(self, request: Launch) -> tuple[ChainPool, Token]:
        """Create the launch's token (unless it trades already) and its pool; return both.

        :raises LaunchError: for a bad request, or a pool the venue already has.
        """
        if request.venue not in VENUE_PROGRAMS:
            raise LaunchError(f"unknown venue {request.venue!r}")
        if request.price <= 0 or request.liquidity <= 0:
            raise LaunchError("price and liquidity must be positive")
        quote = self._quote(request.quote)
        token = self._token(request)
        if token == quote:
            raise LaunchError("a token cannot be launched against itself")
        pair = {token.mint, quote.mint}
        if any(
            p.venue == request.venue and {p.token_a.mint, p.token_b.mint} == pair
            for p in self._pools()
        ):
            raise LaunchError(f"{request.venue} already has a pool for this pair")
        reference = {**REFERENCE_USD, token: request.price * REFERENCE_USD[quote]}
        raw_price = request.price * Fraction(10**quote.decimals, 10**token.decimals)
        depth_usd = 2 * request.liquidity * REFERENCE_USD[quote]
        now = self.chain.unix_time
        if request.venue == "raydium":
            self.chain.set_time(now - _BACKDATE_SECONDS)
        try:
            pool = list_pair(
                self.chain,
                request.venue,
                (token, quote),
                price=raw_price,
                depth_usd=depth_usd,
                reference=reference,
            )
        except (ValueError, struct.error, TransactionFailedError) as exc:
            # Amounts past a u64, a price off the program's range: the terms cannot be a pool.
            raise LaunchError(f"{request.venue} cannot hold this pool: {exc}") from exc
        finally:
            self.chain.set_time(now)
        return pool, token

    def launch_random(self) -> tuple[ChainPool, Token]:
        """Launch a token with seeded random traits; return its pool and token."""
        rng = random.Random(f"{self._seed}/launch/{self.launches + 1}")
        quote = rng.choice((SOL, USDC))
        usd = Fraction(rng.randint(1, 10_000), 100_000)  # 0.00001 .. 0.1 USD
        in_quote = REFERENCE_USD[quote]
        return self.launch(
            Launch(
                symbol=f"NEW{self.launches + 1}",
                decimals=rng.choice((6, 9)),
                quote=quote.mint,
                price=usd / in_quote,
                liquidity=Fraction(rng.randint(5_000, 500_000)) / in_quote,
                venue=rng.choice(sorted(VENUE_PROGRAMS)),
            )
        )

    def _quote(self, name: str) -> Token:
        wanted = name.upper()
        for token in REFERENCE_USD:
            if token.mint == name or (token.symbol or "").upper() == wanted:
                return token
        raise LaunchError(f"{name!r} cannot quote a launch (use SOL, USDC, USDT ...)")

    def _token(self, request: Launch) -> Token:
        if request.mint is not None and not is_mint_address(request.mint):
            raise LaunchError("mint must be a base58 32-byte address")
        known = self._tokens()
        if request.mint is not None and Pubkey.from_string(request.mint) in known:
            return known[Pubkey.from_string(request.mint)]
        if not 0 <= request.decimals <= MAX_DECIMALS:
            raise LaunchError(f"decimals must be within 0..{MAX_DECIMALS}")
        symbol = request.symbol
        if symbol is not None and not (symbol.isascii() and 0 < len(symbol) <= 16):
            raise LaunchError("symbol must be 1-16 ASCII characters")
        if request.mint is not None:
            chosen = Pubkey.from_string(request.mint)
            if self.chain.account(chosen) is not None:
                raise LaunchError(f"an account that is no known token lives at {chosen}")
            mint = self.chain.put_mint(chosen, request.decimals)
            self.launches += 1
        else:
            keypair = launch_keypair(self._seed, self.launches + 1, symbol or "")
            if self.chain.account(keypair.pubkey()) is not None:
                raise LaunchError(f"mint {keypair.pubkey()} exists already")
            mint = self.chain.create_mint(request.decimals, mint=keypair)
            self.launches += 1
        return Token(str(mint), symbol, request.decimals)


def launch_keypair(seed: int, number: int, symbol: str) -> Keypair:
    """Return the mint keypair of the seed's n-th launched token."""
    digest = hashlib.sha256(f"launch/{seed}/{number}/{symbol}".encode()).digest()
    return Keypair.from_seed(digest)
