"""The node's market: its pools and tokens, the maker's drift, price moves and launches.

The pools are registered with the accounts a quote reads, so the node can tell which
account changes are pool changes; a launched pool is announced once registered (its accounts
changed before the node knew them as a pool's). What happens as slots pass - one drift swap
per slot when drift is on, a random launch every ``launch_every_seconds`` of chain time -
is :meth:`ChainMarket.on_slots`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from fractions import Fraction

from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey

from eterna.adapters.localchain.feed import AccountChange, Feed
from eterna.adapters.localchain.launches import Launch, Launcher
from eterna.adapters.localchain.maker import MarketMaker
from eterna.adapters.localchain.pools import ChainPool, read_math
from eterna.adapters.localchain.results import ChainError
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.tx_swaps import first_swap
from eterna.adapters.solana.ids import mint_of
from eterna.amm.base import PoolMath
from eterna.domain.tokens import WELL_KNOWN, Token

log = logging.getLogger(__name__)


class UnknownPoolError(ChainError, KeyError):
    """No registered pool lives at the address."""


class ChainMarket:
    """Registered pools and tokens, the market maker and the launcher of one chain."""

    def __init__(
        self,
        chain: LocalChain,
        pools: Sequence[ChainPool],
        accounts: Feed[AccountChange],
        *,
        seed: int,
    ) -> None:
        self.chain = chain
        self._accounts = accounts
        self._pools: dict[Pubkey, ChainPool] = {}
        self._pool_of: dict[Pubkey, Pubkey] = {}
        for pool in pools:
            self._register(pool)
        self._tokens: dict[Pubkey, Token] = {mint_of(t): t for t in WELL_KNOWN}
        self.maker = MarketMaker(chain, self.pools, seed=seed)
        self.launcher = Launcher(chain, seed=seed, tokens=lambda: self._tokens, pools=self.pools)

    def pools(self) -> list[ChainPool]:
        """Return the registered pools: genesis's, then launches'."""
        return list(self._pools.values())

    def pool(self, address: Pubkey) -> ChainPool:
        """Return a registered pool.

        :raises UnknownPoolError: when none lives at address.
        """
        pool = self._pools.get(address)
        if pool is None:
            raise UnknownPoolError(f"no pool at {address}")
        return pool

    def pool_of(self, account: Pubkey) -> ChainPool | None:
        """Return the pool an account belongs to (its state, a vault, an array), or None."""
        address = self._pool_of.get(account)
        return None if address is None else self._pools[address]

    def is_pool_change(self, change: AccountChange) -> bool:
        """Tell whether an account change is a registered pool's."""
        return change.address in self._pool_of

    def pool_math(self, address: Pubkey) -> PoolMath:
        """Return our math's state of a registered pool, read from its accounts."""
        return read_math(self.chain, self.pool(address))

    def tokens(self) -> dict[Pubkey, Token]:
        """Return the tokens the chain trades, by mint: the well-known ones and launches."""
        return dict(self._tokens)

    def move_price(self, address: Pubkey, bps: int, *, a_to_b: bool) -> Fraction:
        """Land a swap moving a pool's price of A in B by about bps; return the new price."""
        return self.maker.move_price(self.pool(address), bps, a_to_b=a_to_b)

    def move_against(self, message: Message | MessageV0 | MessageV1, bps: int) -> None:
        """Land a swap moving the price bps against the message's first swap, if it has one."""
        seen = first_swap(self.chain, message, self._pools)
        if seen is not None:
            # A pool too thin to move that far is not the sender's problem: no move then.
            with contextlib.suppress(ValueError, ChainError):
                self.maker.move_price(seen.pool, bps, a_to_b=seen.a_to_b)

    def launch(self, request: Launch, slot: int) -> tuple[ChainPool, Token]:
        """Launch a token with a pool (see :mod:`.launches`), register and announce both."""
        return self._listed(*self.launcher.launch(request), slot)

    def launch_random(self, slot: int) -> tuple[ChainPool, Token]:
        """Launch a token with seeded random traits; register and announce it."""
        return self._listed(*self.launcher.launch_random(), slot)

    def on_slots(self, passed: int, *, drift: bool, launch_due: bool, slot: int) -> None:
        """Make what passing slots bring: drift swaps, and the launch that fell due."""
        if drift:
            self.maker.drift(passed)
        if launch_due:
            try:
                self.launch_random(slot)
            except ChainError:
                # A launch the programs refused must not stop the clock: the next one may do.
                log.exception("a random launch failed")

    def _listed(self, pool: ChainPool, token: Token, slot: int) -> tuple[ChainPool, Token]:
        self._tokens[mint_of(token)] = token
        self._register(pool)
        # The pool's accounts changed before it was registered: report them as they are now.
        for address in pool.accounts:
            self._accounts.publish(AccountChange(address, self.chain.account(address), slot))
        return pool, token

    def _register(self, pool: ChainPool) -> None:
        self._pools[pool.address] = pool
        for account in pool.accounts:
            self._pool_of[account] = pool.address
