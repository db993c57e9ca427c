"""The market maker: real swaps that make prices drift, and adverse moves on demand.

Drift is what the sandbox's ``_drift`` did, with real transactions: each slot that passes,
one swap on a pool drawn at random (from a generator seeded by the node seed), in a random
direction, of 0.001 % to 0.05 % of the pool's input-side reserve; at most eight swaps for
the slots that passed since the last look, so a long pause does not flood the ledger.

:meth:`MarketMaker.move_price` trades through one pool in one direction until its price has
moved by about the asked bps (the size is solved with our math on the pool's accounts, then
sent as one swap the program prices). It stands for another trader landing first: the
admin endpoint's move-price, and the fault plan's adverse move.

The maker is a wallet of its own, topped up by the faucet whenever a swap needs more than
it holds; its transactions carry the memo ``market-maker``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from fractions import Fraction

from solders.pubkey import Pubkey

from eterna.adapters.localchain.pools import ChainPool, read_math, swap_instruction
from eterna.adapters.localchain.results import TxResult
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.spl import associated_token_address
from eterna.amm.base import InsufficientLiquidityError, PoolMath

MAKER_MEMO = "market-maker"
MAX_STEPS_PER_LOOK = 8
# Room for every program's swap, DLMM's walk over many bins included.
SWAP_COMPUTE_UNITS = 1_400_000
U64_MAX = (1 << 64) - 1
_SEARCH_STEPS = 64


class PriceMoveError(ValueError):
    """A price move that cannot be made (bps out of range, a pool too thin to move)."""


class MarketMaker:
    """Sends the swaps that make prices drift and move."""

    def __init__(
        self, chain: LocalChain, pools: Callable[[], Sequence[ChainPool]], *, seed: int
    ) -> None:
        self.chain = chain
        self._pools = pools
        self._rng = random.Random(f"maker/{seed}")
        self.wallet = chain.new_wallet()
        self.swaps = 0
        self._accounts: set[Pubkey] = set()

    def drift(self, slots: int) -> list[TxResult]:
        """Make the drift swaps of slots that passed (at most eight); return their results."""
        return [r for _ in range(min(slots, MAX_STEPS_PER_LOOK)) if (r := self.step())]

    def step(self) -> TxResult | None:
        """Make one drift swap on a random pool; None when that pool cannot take it."""
        pools = sorted(self._pools(), key=lambda p: bytes(p.address))
        if not pools:
            return None
        pool = self._rng.choice(pools)
        a_to_b = self._rng.random() < 0.5
        share = self._rng.uniform(0.00001, 0.0005)
        math = read_math(self.chain, pool)
        reserve = math.reserve_a if a_to_b else math.reserve_b
        amount = int(reserve * share)
        if amount <= 0 or _fill(math, amount, a_to_b=a_to_b) is None:
            return None
        return self.swap(pool, amount, a_to_b=a_to_b)

    def swap(self, pool: ChainPool, amount: int, *, a_to_b: bool) -> TxResult:
        """Send one exact-in swap of amount through pool (no minimum out); return its result."""
        owner = self.wallet.pubkey()
        self._top_up(pool.mint_a if a_to_b else pool.mint_b, amount)
        self._open_account(pool.mint_b if a_to_b else pool.mint_a)
        ix = swap_instruction(self.chain, pool, owner, a_to_b=a_to_b, amount_in=amount)
        self.swaps += 1
        return self.chain.send(
            [ix],
            payer=self.wallet,
            compute_unit_limit=SWAP_COMPUTE_UNITS,
            memo_text=f"{MAKER_MEMO} {self.swaps}",
        )

    def move_price(self, pool: ChainPool, bps: int, *, a_to_b: bool) -> Fraction:
        """Swap through pool until its price of A in B moved about bps; return that price.

        Selling A (a_to_b) lowers the price of A in B; the other way raises it.

        :raises PriceMoveError: for bps outside 1..9,999, or a pool that cannot move so far
            within what its accounts hold.
        """
        if not 0 < bps < 10_000:
            raise PriceMoveError("bps must be within 1..9999")
        math = read_math(self.chain, pool)
        amount = move_amount(math, bps, a_to_b=a_to_b)
        self.swap(pool, amount, a_to_b=a_to_b).check()
        return read_math(self.chain, pool).spot_price(a_to_b=True)

    def _open_account(self, mint: Pubkey) -> None:
        if mint not in self._accounts:
            self.chain.create_token_account(self.wallet.pubkey(), mint)
            self._accounts.add(mint)

    def _top_up(self, mint: Pubkey, amount: int) -> None:
        owner = self.wallet.pubkey()
        account = associated_token_address(owner, mint, self.chain.token_program_of(mint))
        held = self.chain.token_balance(account) if self.chain.account(account) else 0
        if held < amount:
            # Four times the need, so a run of swaps tops up now and then, not every time.
            self.chain.fund(owner, mint, min(U64_MAX - held, amount * 4))
        self._accounts.add(mint)


def _fill(math: PoolMath, amount: int, *, a_to_b: bool) -> PoolMath | None:
    try:
        return math.swap(amount, a_to_b=a_to_b)[1]
    except InsufficientLiquidityError:
        return None


def move_amount(math: PoolMath, bps: int, *, a_to_b: bool) -> int:
    """Return the least input that moves the pool's price of A in B by bps (our math).

    :raises PriceMoveError: when no input the pool can fill moves it that far.
    """
    start = math.spot_price(a_to_b=True)
    target = start * Fraction(10_000 - bps if a_to_b else 10_000 + bps, 10_000)

    def reaches(amount: int) -> bool | None:
        after = _fill(math, amount, a_to_b=a_to_b)
        if after is None:
            return None
        price = after.spot_price(a_to_b=True)
        return price <= target if a_to_b else price >= target

    low, high = 0, 1  # low does not reach the target (0: nothing traded yet)
    while not (reached := reaches(high)):
        if reached is None and low > 0:  # too far for the pool: try the most it can fill
            high = _largest_fill(math, low, high, a_to_b=a_to_b)
            if high <= low or not reaches(high):
                raise PriceMoveError(f"the pool cannot move {bps} bps within what it holds")
            break
        if high > U64_MAX:
            raise PriceMoveError(f"no amount moves the pool {bps} bps")
        # An amount too small to pay anything is refused too: only then is None "too small".
        low, high = (high if reached is False else low), high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return high


def _largest_fill(math: PoolMath, fills: int, refused: int, *, a_to_b: bool) -> int:
    low, high = fills, refused  # low fills (or is 0), high does not
    for _ in range(_SEARCH_STEPS):
        if high - low <= 1:
            break
        mid = (low + high) // 2
        if _fill(math, mid, a_to_b=a_to_b) is None:
            high = mid
        else:
            low = mid
    return low
