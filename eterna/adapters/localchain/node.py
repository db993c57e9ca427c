"""The local node: LiteSVM with what a validator adds - slots, blockhashes, a ledger, feeds.

What a cluster's RPC reads and does, as a Python API (the ``eterna chain`` server and the
in-process RPC translate it to JSON-RPC):

- **Clock.** Slots advance with the wall clock (``slot_ms``) or by hand (``slot_ms = 0``:
  :meth:`LocalNode.advance`); LiteSVM's clock (slot and unix time) is kept in step, so
  programs see the node's time. Every slot makes a block.
- **Blockhashes.** A transaction must carry the blockhash of one of the last 150 slots
  (:mod:`.slots`); an older or unknown one is refused with :class:`BlockhashNotFoundError`,
  as a node refuses it at preflight. LiteSVM's own single-blockhash check is off.
- **Sends.** A transaction is processed at once, at the current slot, and recorded in the
  ledger whether it succeeded or failed (a failed one pays its fee), once: re-sending a
  processed signature changes nothing. The fault plan may drop it, land an adverse swap
  first, or lose the answer (:mod:`.faults`).
- **Statuses.** A processed transaction is ``confirmed`` at once (this node is the whole
  cluster: its vote is a supermajority) and ``finalized`` once :data:`FINALITY_DEPTH` slots
  have passed; ``confirmations`` counts the slots since, None once finalized, as on Solana.
- **Feeds.** Account changes (every writable account a transaction changed), pool changes
  (the accounts of the registered pools, launches included) and slots, as async iterators.
- **Market.** The genesis pools, the market maker's drift (one real swap per slot when
  ``drift`` is on), price moves, and launches, by hand or every ``launch_every_seconds``.

Single-threaded: call it from the event loop that runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

from eterna.adapters.localchain.admission import (
    BlockhashNotFoundError,
    SignatureVerificationError,
    TransactionRejectedError,
    check_signatures,
)
from eterna.adapters.localchain.faults import FaultPlan, FaultSettings, InjectedRpcError
from eterna.adapters.localchain.feed import (
    AccountChange,
    Feed,
    SlotChange,
    Subscription,
    accounts_filter,
)
from eterna.adapters.localchain.fees import FeeCache
from eterna.adapters.localchain.genesis import (
    chain_seed,
    fund_wallet,
    genesis,
    wallet_keypair,
)
from eterna.adapters.localchain.launches import Launch, Launcher
from eterna.adapters.localchain.ledger import DEFAULT_CAPACITY, Ledger, LedgerEntry
from eterna.adapters.localchain.maker import MarketMaker
from eterna.adapters.localchain.market import ChainMarket
from eterna.adapters.localchain.pools import ChainPool
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.recorder import NodeChain, Recorder, versioned
from eterna.adapters.localchain.results import TxError
from eterna.adapters.localchain.simulation import Simulation, simulate
from eterna.adapters.localchain.slots import MAX_BLOCKHASH_AGE, RecentBlockhash, SlotClock
from eterna.adapters.localchain.svm import GENESIS_UNIX_TIME
from eterna.amm.base import PoolMath
from eterna.domain.errors import EternaError
from eterna.domain.tokens import Token

log = logging.getLogger(__name__)

__all__ = [
    "BlockhashNotFoundError",
    "LocalNode",
    "NodeConfig",
    "SignatureState",
    "SignatureVerificationError",
    "TransactionRejectedError",
    "check_signatures",
]

# Slots after which a processed transaction is finalized (Solana roots about 32 behind).
FINALITY_DEPTH = 32
# Slot notifications sent for one catch-up at most (a long pause is not replayed in full).
MAX_SLOT_NOTIFICATIONS = 1_000


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs: seed, slot length (0: by hand), drift, launches, faults, ledger."""

    seed: int = 7
    slot_ms: int = 400
    drift: bool = True
    launch_every_seconds: float = 0.0
    faults: FaultSettings = field(default_factory=FaultSettings)
    ledger_capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True, slots=True)
class SignatureState:
    """Where a processed transaction stands, as ``getSignatureStatuses`` reports it."""

    slot: int
    confirmations: int | None
    error: TxError | None
    confirmation_status: str  # "confirmed" or "finalized"


class LocalNode:
    """The local chain as a cluster: clock, blockhashes, sends, ledger, feeds and market."""

    def __init__(
        self,
        programs: Sequence[ProgramFile],
        config: NodeConfig | None = None,
        *,
        wallet: Keypair | None = None,
    ) -> None:
        self.config = config = config or NodeConfig()
        opening = genesis(programs, config.seed)
        self.clock = SlotClock(
            seed=config.seed, slot_ms=config.slot_ms, genesis_unix_time=GENESIS_UNIX_TIME
        )
        self._fees = FeeCache()
        self.ledger = Ledger(config.ledger_capacity, on_add=self._fees.record)
        self._account_feed: Feed[AccountChange] = Feed()
        self._slot_feed: Feed[SlotChange] = Feed()
        self._slot = self.clock.slot()
        self._next_launch = self.clock.unix_time(self._slot) + config.launch_every_seconds
        recorder = Recorder(self.ledger, self._account_feed, self._block)
        self.chain = NodeChain(programs, seed=chain_seed(config.seed), recorder=recorder)
        self.chain.restore(opening.snapshot)
        self.chain.svm.with_blockhash_check(check=False)  # the node checks blockhash ages itself
        self._apply_clock()
        self.market = ChainMarket(self.chain, opening.pools, self._account_feed, seed=config.seed)
        self.wallet = wallet or wallet_keypair(config.seed)
        fund_wallet(self.chain, self.wallet)
        self.faults = FaultPlan(config.faults, seed=config.seed)
        self.genesis_hash = Hash(hashlib.sha256(f"eterna-chain/{config.seed}".encode()).digest())
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Run the slots in the background (no-op when slots move by hand)."""
        if not self.clock.manual and self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="localnode-slots")

    async def stop(self) -> None:
        """Stop the slots and end every subscription."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        self._account_feed.close()
        self._slot_feed.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.clock.seconds_to_next_slot())
            try:
                self.sync()
            except (EternaError, ValueError):
                # The slot has moved on already; a drift swap that failed must not stop time.
                log.exception("the market's work for a new slot failed")

    # -- clock -----------------------------------------------------------------------------

    @property
    def slot(self) -> int:
        """Return the current slot."""
        self.sync()
        return self._slot

    @property
    def block_height(self) -> int:
        """Return the current block height."""
        return self.clock.block_height(self.slot)

    @property
    def unix_time(self) -> int:
        """Return the cluster's unix time (the block time of the current slot)."""
        return self.clock.unix_time(self.slot)

    def block_time(self, slot: int) -> int:
        """Return the unix time of a slot's block."""
        return self.clock.unix_time(slot)

    def advance(self, slots: int = 1) -> None:
        """Move manual slots forward; the maker drifts and launches fall due as they pass.

        :raises ValueError: when slots follow the wall clock, or for a negative count.
        """
        self.clock.advance(slots)
        self.sync()

    def sync(self) -> None:
        """Bring the node to the clock's slot: LiteSVM's clock, notifications, drift, launches."""
        target = self.clock.slot()
        passed = target - self._slot
        if passed <= 0:
            return
        self._slot = target
        self._apply_clock()
        if self._slot_feed.active:
            for slot in range(
                max(target - MAX_SLOT_NOTIFICATIONS, target - passed) + 1, target + 1
            ):
                root = max(slot - FINALITY_DEPTH, 0)
                self._slot_feed.publish(SlotChange(slot, slot - 1, root))
        every = self.config.launch_every_seconds
        launch_due = every > 0 and self.clock.unix_time(target) >= self._next_launch
        if launch_due:
            self._next_launch += every
        self.market.on_slots(passed, drift=self.config.drift, launch_due=launch_due, slot=target)

    def _apply_clock(self) -> None:
        svm = self.chain.svm
        svm.warp_to_slot(self._slot)
        self.chain.set_time(self.clock.unix_time(self._slot))
        svm.expire_blockhash()  # the node's own setup transactions get a fresh one too

    def _block(self) -> tuple[int, int]:
        return self._slot, self.clock.unix_time(self._slot)

    # -- blockhashes -----------------------------------------------------------------------

    def latest_blockhash(self) -> RecentBlockhash:
        """Return the blockhash to build on (the fault plan may hand out a stale one)."""
        slot = self.slot
        if self.faults.expires_blockhash():
            return self.clock.blockhash(slot - MAX_BLOCKHASH_AGE - 1)
        return self.clock.blockhash(slot)

    def is_blockhash_valid(self, blockhash: Hash) -> bool:
        """Tell whether a transaction carrying blockhash may still land."""
        return self.clock.is_valid(blockhash, self.slot)

    # -- transactions ----------------------------------------------------------------------

    def send_transaction(self, tx: Transaction | VersionedTransaction) -> Signature:
        """Process a signed transaction now and record it; return its signature.

        A signature processed already is not processed again. The fault plan may drop the
        transaction (the signature comes back; it never lands), land an adverse swap first,
        or raise after processing it.

        :raises SignatureVerificationError: when a signature does not verify.
        :raises BlockhashNotFoundError: when its blockhash is unknown or too old.
        :raises TransactionRejectedError: when the runtime refuses it before running it (a
            fee payer that cannot pay, a missing account): it never lands.
        :raises InjectedRpcError: an injected error, the transaction processed (``accepted``).
        """
        signed = versioned(tx)
        signature = signed.signatures[0]
        if self.ledger.get(signature) is not None:
            return signature
        check_signatures(signed)
        if not self.is_blockhash_valid(signed.message.recent_blockhash):
            raise BlockhashNotFoundError(f"blockhash not found for {signature}")
        if self.faults.drops():
            return signature
        if self.faults.moves_price():
            self.market.move_against(signed.message, self.faults.settings.price_move_bps)
        result = self.chain.send_transaction(signed)
        if result.error is not None and self.ledger.get(signature) is None:
            raise TransactionRejectedError(result.error)
        if self.faults.fails_after_send():
            raise InjectedRpcError(
                "injected RPC error after the transaction was accepted", accepted=True
            )
        return signature

    def simulate_transaction(
        self,
        tx: Transaction | VersionedTransaction,
        *,
        sig_verify: bool = False,
        replace_recent_blockhash: bool = False,
    ) -> Simulation:
        """Run a transaction on the current state without committing anything.

        :raises SignatureVerificationError: with sig_verify, when a signature does not verify.
        """
        signed = versioned(tx)
        if sig_verify:
            check_signatures(signed)
        slot = self.slot
        replacement = self.clock.blockhash(slot) if replace_recent_blockhash else None
        fresh = replace_recent_blockhash or self.is_blockhash_valid(signed.message.recent_blockhash)
        return simulate(self.chain.svm, signed, slot=slot, fresh=fresh, replacement=replacement)

    def prioritization_fees(self, accounts: Sequence[Pubkey]) -> list[tuple[int, int]]:
        """Return ``(slot, fee)`` of the recent slots (see :mod:`.fees`), oldest first."""
        return self._fees.prioritization_fees(self.slot, accounts)

    def signature_statuses(self, signatures: Sequence[Signature]) -> list[SignatureState | None]:
        """Return each signature's state, None where the node never processed it."""
        slot = self.slot
        return [self._state(self.ledger.get(s), slot) for s in signatures]

    @staticmethod
    def _state(entry: LedgerEntry | None, slot: int) -> SignatureState | None:
        if entry is None:
            return None
        depth = slot - entry.slot
        if depth >= FINALITY_DEPTH:
            return SignatureState(entry.slot, None, entry.error, "finalized")
        return SignatureState(entry.slot, depth, entry.error, "confirmed")

    def transaction(self, signature: Signature) -> LedgerEntry | None:
        """Return a processed transaction's ledger entry, or None."""
        return self.ledger.get(signature)

    def transactions(self, memo: str | None = None) -> list[LedgerEntry]:
        """Return the ledger, oldest first; with memo, only the entries carrying it."""
        return self.ledger.entries() if memo is None else self.ledger.by_memo(memo)

    # -- accounts --------------------------------------------------------------------------

    def account(self, address: Pubkey) -> Account | None:
        """Return the account at address, or None."""
        self.sync()
        return self.chain.account(address)

    def accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        """Return the accounts at addresses, None where there is none."""
        self.sync()
        return [self.chain.account(a) for a in addresses]

    def program_accounts(self, program: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return every account program owns."""
        self.sync()
        return self.chain.svm.get_program_accounts(program)

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe_accounts(
        self, addresses: Collection[Pubkey] | None = None, *, owner: Pubkey | None = None
    ) -> Subscription[AccountChange]:
        """Return a feed of changes to those accounts, or to the accounts owner owns."""
        return self._account_feed.subscribe(accounts_filter(addresses, owner))

    def subscribe_pools(self) -> Subscription[AccountChange]:
        """Return a feed of changes to registered pools' accounts (launched pools included)."""
        return self._account_feed.subscribe(self.market.is_pool_change)

    def subscribe_slots(self) -> Subscription[SlotChange]:
        """Return a feed of the slots as they begin."""
        return self._slot_feed.subscribe()

    # -- market --------------------------------------------------------------------------

    @property
    def maker(self) -> MarketMaker:
        """Return the market maker (its wallet, its swap count)."""
        return self.market.maker

    @property
    def launcher(self) -> Launcher:
        """Return the launcher (its launch count)."""
        return self.market.launcher

    def pools(self) -> list[ChainPool]:
        """Return the registered pools: genesis's, then launches'."""
        return self.market.pools()

    def pool(self, address: Pubkey) -> ChainPool:
        """Return a registered pool.

        :raises UnknownPoolError: when none lives at address.
        """
        return self.market.pool(address)

    def pool_math(self, address: Pubkey) -> PoolMath:
        """Return our math's state of a registered pool, read from its accounts now."""
        self.sync()
        return self.market.pool_math(address)

    def tokens(self) -> dict[Pubkey, Token]:
        """Return the tokens the chain trades, by mint: the well-known ones and launches."""
        return self.market.tokens()

    def move_price(self, address: Pubkey, bps: int, *, a_to_b: bool) -> Fraction:
        """Land a swap moving a pool's price of A in B by about bps; return the new price.

        :raises UnknownPoolError: when no pool lives at address.
        :raises PriceMoveError: for a move the pool cannot make.
        """
        self.sync()
        return self.market.move_price(address, bps, a_to_b=a_to_b)

    def launch(self, request: Launch) -> tuple[ChainPool, Token]:
        """Launch a token with a pool (see :mod:`.launches`); return both.

        :raises LaunchError: for a launch refused.
        """
        self.sync()
        return self.market.launch(request, self._slot)

    def fund(self, owner: Pubkey, mint: Pubkey, amount: int) -> Pubkey:
        """Give owner amount base units of a token (tests and wallets); return the account."""
        return self.chain.fund(owner, mint, amount)
