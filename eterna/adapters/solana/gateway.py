"""The chain gateway on a Solana cluster: build, sign, send and track swap transactions.

- ``build`` reads the route's pools, plans each leg's amount and minimum (:mod:`.legs`),
  refuses a Token-2022 mint with a transfer fee, and signs one transaction
  (:mod:`.transactions`) with the deployment wallet under a fresh blockhash; with
  simulation on it first simulates it and signs it with the compute limit and priority fee
  that calls for (:mod:`.landing`), and a failing simulation comes back on the transaction
  (``landing.failure``) for the engine, which never sends it. Its signature is the
  transaction's first signature, and it can land until the block height passes the
  blockhash's ``lastValidBlockHeight``. A route too large for one transaction names the
  accounts of the known lookup tables by index (:mod:`.lookup_tables`); one too large even
  so is refused (TransactionTooLargeError) before anything is sent. In dry-run mode the
  transaction is marked so, and ``send`` refuses it.
- ``send`` submits the stored bytes; sending them again is harmless (one signature lands
  once), and a node saying it already processed them is no error.
- ``status`` asks for the transaction first (``getTransaction``): one that landed is read
  back at once - CONFIRMED with the fill, or FAILED with why. Otherwise it reads the block
  height, then the signature's status: a signature the node does not know once that height
  is past the last valid one can never land (EXPIRED).

Every order trades through the deployment wallet handed in (it signs, pays the fees and holds
the tokens); the request's payer - the order's user - does not sign. The fill is what the
wallet's tokenOut account gained. When tokenOut is SOL the wrapped-SOL
account is closed in the same transaction and has no balance after it: the fill is then what
the route's pools paid out of their wrapped-SOL vaults, which is what that account received.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from eterna.adapters.solana.clusters import MAINNET_PROGRAMS, ProgramIds
from eterna.adapters.solana.failures import describe, failure_kind, simulation_failure
from eterna.adapters.solana.ids import WSOL_MINT
from eterna.adapters.solana.landing import (
    DryRunSendError,
    LandingConfig,
    TransferFeeMintError,
    charges_transfer_fee,
    compute_limit,
    fill_of,
    priority_fee,
)
from eterna.adapters.solana.legs import PlannedSwap, plan_swaps, pools_of
from eterna.adapters.solana.lookup_tables import LookupTableRegistry
from eterna.adapters.solana.pools import PoolRegistry
from eterna.adapters.solana.reader import PoolReader
from eterna.adapters.solana.rpc import (
    Commitment,
    PrioritizationFee,
    SolanaRpc,
    TokenBalance,
    TransactionRecord,
)
from eterna.adapters.solana.rpc_errors import AlreadyProcessedError
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.transactions import (
    MAX_COMPUTE_UNITS,
    SwapTransaction,
    TransactionConfig,
    build_swap_transaction,
    token_accounts,
    token_programs,
)
from eterna.adapters.solana.wallet import Wallet
from eterna.domain.errors import VenueError
from eterna.routing.venues import Landing, SwapRequest, Transaction, TxState, TxStatus

log = logging.getLogger(__name__)

# The statuses that count as landed, by the commitment confirmations wait for.
_LANDED_AT: dict[Commitment, frozenset[str]] = {
    "processed": frozenset({"processed", "confirmed", "finalized"}),
    "confirmed": frozenset({"confirmed", "finalized"}),
    "finalized": frozenset({"finalized"}),
}
# A node answers getRecentPrioritizationFees for at most 128 accounts.
MAX_FEE_ACCOUNTS = 128
# How long the recent fees over a set of accounts are reused (they cover the last 150 slots),
# and how many sets are kept.
FEE_TTL_SECONDS = 1.0
FEE_CACHE_ENTRIES = 1_024


@dataclass(frozen=True, slots=True)
class Signing:
    """What every signing of one build shares: the swaps, memo, blockhash and lookup tables."""

    swaps: Sequence[PlannedSwap]
    memo: str
    blockhash: Hash
    tables: Sequence[AddressLookupTableAccount] = ()


class StoredTransactionError(VenueError):
    """A stored transaction lacks its signed bytes or block height: it was not built here."""


class SolanaGateway:
    """Swap transactions on a Solana cluster, signed by the deployment wallet."""

    def __init__(
        self,
        rpc: SolanaRpc,
        registry: PoolRegistry,
        reader: PoolReader,
        wallet: Wallet | Keypair,
        config: TransactionConfig | None = None,
        *,
        landing: LandingConfig | None = None,
        commitment: Commitment = "confirmed",
        skip_preflight: bool = True,
        clock: Callable[[], float] = time.monotonic,
        lookup_tables: LookupTableRegistry | None = None,
        programs: ProgramIds = MAINNET_PROGRAMS,
    ) -> None:
        self._rpc = rpc
        self._programs = programs  # the DEX programs' ids on the node's cluster
        self._tables = lookup_tables
        self._clock = clock  # for the fee cache's age
        self._registry = registry
        self._reader = reader
        self._wallet = wallet if isinstance(wallet, Wallet) else Wallet(wallet)
        self._config = config or TransactionConfig()
        self._landing = landing or LandingConfig(simulate=False)
        self._commitment: Commitment = commitment
        # A transaction counts as landed once it reaches the commitment asked for.
        self._landed_statuses = _LANDED_AT[commitment]
        self._skip_preflight = skip_preflight
        # Whether each mint seen charges a transfer fee (a mint's program never changes).
        self._fee_mints: dict[Pubkey, bool] = {}
        self._fees: dict[
            frozenset[Pubkey], tuple[float, asyncio.Future[list[PrioritizationFee]]]
        ] = {}

    def __repr__(self) -> str:
        return f"SolanaGateway(wallet={self._wallet.pubkey})"

    @property
    def wallet(self) -> Pubkey:
        """Return the address that signs, pays and holds the tokens."""
        return self._wallet.pubkey

    @property
    def landing(self) -> LandingConfig:
        """Return how transactions are readied to land (simulation, fees, dry run)."""
        return self._landing

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign the request's transaction on the pools as they are, fresh blockhash.

        :raises InvalidSwapRequestError: when the request names unknown pools or pairs.
        :raises RouteMovedError: when the pools can no longer fill the legs as planned.
        :raises TransactionTooLargeError: when the route does not fit one transaction.
        :raises VenueUnavailableError: when the node does not answer.
        """
        entries = [self._registry.get(a) for a in pools_of(request, self._registry)]
        snapshots = await self._reader.read(entries)
        swaps = plan_swaps(request, snapshots)
        programs = token_programs(swaps)
        blockhash, height, _, tables = await asyncio.gather(
            self._rpc.get_latest_blockhash(commitment=self._commitment),
            self._rpc.get_block_height(commitment=self._commitment),
            self._refuse_transfer_fees(list(programs)),
            self._lookup_tables(len(swaps)),
        )
        signing = Signing(swaps, request.memo, blockhash.value.blockhash, tables)
        if self._landing.simulate:
            out_mint = Pubkey.from_string(request.mint_out)
            out_account = associated_token_address(self.wallet, out_mint, programs[out_mint])
            built, landing = await self._simulated(signing, out_account)
        else:
            built = self._sign(signing)
            landing = Landing(
                priority_fee=built.compute_unit_price, compute_unit_limit=built.compute_unit_limit
            )
        last_height = blockhash.value.last_valid_block_height
        return Transaction(
            signature=str(built.transaction.signatures[0]),
            memo=request.memo,
            payer=str(self.wallet),
            mint_in=request.mint_in,
            mint_out=request.mint_out,
            swaps=request.swaps,
            min_amount_out=request.min_amount_out,
            recent_blockhash=str(blockhash.value.blockhash),
            # Every slot is expected to make a block; a skipped one moves the end later.
            last_valid_slot=blockhash.slot + max(0, last_height - height),
            wrap_sol=built.wrap_lamports > 0,
            unwrap_sol=request.mint_out == str(WSOL_MINT),
            last_valid_block_height=last_height,
            wire=built.wire,
            landing=landing,
            dry_run=self._landing.dry_run,
        )

    async def _lookup_tables(self, swaps: int) -> Sequence[AddressLookupTableAccount]:
        # A single swap always fits without tables: no read for it (the read is cached).
        if self._tables is None or swaps < 2:
            return ()
        return await self._tables.tables()

    def _sign(
        self,
        signing: Signing,
        *,
        limit: int | None = None,
        price: int | None = None,
        signed: bool = True,
    ) -> SwapTransaction:
        return build_swap_transaction(
            signing.swaps,
            wallet=self._wallet.keypair,
            memo_text=signing.memo,
            blockhash=signing.blockhash,
            config=self._config,
            compute_unit_limit=limit,
            compute_unit_price=price,
            lookup_tables=signing.tables,
            program_ids=self._programs,
            signed=signed,
        )

    async def _simulated(
        self, signing: Signing, out_account: Pubkey
    ) -> tuple[SwapTransaction, Landing]:
        """Simulate at the highest limit, then sign with the limit and fee it calls for.

        The trial is simulated unsigned (``sigVerify`` is off): it is signed only when its
        simulation fails, to be kept as the attempt's transaction.
        """
        trial = self._sign(signing, limit=MAX_COMPUTE_UNITS, price=0, signed=False)
        own = {self.wallet, *token_accounts(self.wallet, token_programs(signing.swaps))}
        written = trial.written_accounts(own)[:MAX_FEE_ACCOUNTS]
        simulation, fees = await asyncio.gather(
            self._rpc.simulate_transaction(
                trial.wire, commitment=self._commitment, inner_instructions=True
            ),
            self._recent_fees(written),
        )
        result = simulation.value
        config = self._landing
        fee = priority_fee(fees, config.priority_fee_percentile, config.max_priority_fee)
        if result.err is not None:
            if "AddressLookupTable" in result.err.kind and self._tables is not None:
                self._tables.forget()  # a table changed under the cache: read them again
            trial = self._sign(signing, limit=MAX_COMPUTE_UNITS, price=0)
            program = failing_program_of(trial.transaction, result.err.instruction_index)
            kind = simulation_failure(result.err, program)
            landing = Landing(
                priority_fee=fee,
                compute_unit_limit=trial.compute_unit_limit,
                simulated=True,
                units_consumed=result.units_consumed,
                failure=kind,
                error=describe(result.err, program, kind),
            )
            return trial, landing
        units = result.units_consumed or 0
        limit = compute_limit(units, config.compute_unit_margin_percent, MAX_COMPUTE_UNITS)
        built = self._sign(signing, limit=limit, price=fee)
        landing = Landing(
            priority_fee=fee,
            compute_unit_limit=limit,
            simulated=True,
            units_consumed=units,
            amount_out=fill_of(result.transfers, out_account),
        )
        return built, landing

    async def _recent_fees(self, written: Sequence[Pubkey]) -> list[PrioritizationFee]:
        """Return the recent fees over the accounts, read at most once per ``FEE_TTL_SECONDS``.

        They describe the last 150 slots, so a second's old answer is as good as a fresh
        one; builds for the same pools at once share one call, not one each.
        """
        key = frozenset(written)
        now = self._clock()
        cached = self._fees.get(key)
        if cached is None or cached[0] <= now or cached[1].cancelled():
            if len(self._fees) >= FEE_CACHE_ENTRIES:
                self._fees = {k: v for k, v in self._fees.items() if v[0] > now}
            task = asyncio.ensure_future(self._rpc.get_recent_prioritization_fees(list(written)))
            cached = (now + FEE_TTL_SECONDS, task)
            self._fees[key] = cached
        try:
            return await asyncio.shield(cached[1])
        except Exception:
            if self._fees.get(key) is cached:
                del self._fees[key]  # a failed read is not kept: the next build asks again
            raise

    async def _refuse_transfer_fees(self, mints: Sequence[Pubkey]) -> None:
        """Refuse a route moving a Token-2022 mint that charges a transfer fee.

        :raises TransferFeeMintError: naming the first such mint.
        """
        unseen = [m for m in mints if m not in self._fee_mints]
        if unseen:
            accounts = await self._rpc.get_multiple_accounts(unseen, commitment=self._commitment)
            for mint, account in zip(unseen, accounts.value, strict=True):
                if account is not None:  # a missing mint fails the swap itself
                    self._fee_mints[mint] = charges_transfer_fee(account)
        for mint in mints:
            if self._fee_mints.get(mint):
                raise TransferFeeMintError(
                    f"the mint {mint} charges a transfer fee (Token-2022), which quotes do "
                    "not include: Eterna does not trade it"
                )

    async def send(self, tx: Transaction) -> None:
        """Submit the signed transaction; re-sending the same one is harmless.

        :raises DryRunSendError: for a transaction built in dry-run mode (never sent).
        :raises BlockhashNotFoundError: when its blockhash expired (it can never land).
        :raises VenueUnavailableError: when the node did not acknowledge it (it may land).
        """
        if tx.dry_run:
            raise DryRunSendError(f"transaction {tx.signature} was built in dry-run mode")
        wire, _ = _chain_fields(tx)
        try:
            await self._rpc.send_transaction(wire, skip_preflight=self._skip_preflight)
        except AlreadyProcessedError:
            log.debug("transaction %s was already processed", tx.signature)

    async def status(self, tx: Transaction) -> TxStatus:
        """Tell whether the transaction landed (and what it did), failed, may land, or expired.

        :raises VenueUnavailableError: when the node does not answer.
        """
        _, last_height = _chain_fields(tx)
        signature = Signature.from_string(tx.signature)
        # Most transactions asked about have landed: their record is the whole answer.
        record = await self._rpc.get_transaction(signature, commitment=self._commitment)
        if record is not None:
            return self._landed(tx, record)
        # The height before the status: if the signature is unknown after it, it was unknown
        # at it, so a height past the last valid one means it can never land.
        height = await self._rpc.get_block_height(commitment=self._commitment)
        statuses = await self._rpc.get_signature_statuses(
            [signature], search_transaction_history=True
        )
        status = statuses.value[0]
        if status is None:
            return TxStatus(TxState.EXPIRED if height > last_height else TxState.UNKNOWN)
        if status.confirmation_status not in self._landed_statuses:
            return TxStatus(TxState.UNKNOWN, slot=status.slot)
        # It landed since the first look.
        record = await self._rpc.get_transaction(signature, commitment=self._commitment)
        if record is None:  # known to the status cache, not yet to the ledger's reader
            return TxStatus(TxState.UNKNOWN, slot=status.slot)
        return self._landed(tx, record)

    def _landed(self, tx: Transaction, record: TransactionRecord) -> TxStatus:
        units = record.compute_units_consumed
        if record.err is None:
            return TxStatus(
                TxState.CONFIRMED,
                slot=record.slot,
                amount_out=fill(record, self.wallet, Pubkey.from_string(tx.mint_out)),
                fee=record.fee,
                compute_units=units,
            )
        program = failing_program(tx, record.err.instruction_index)
        kind = failure_kind(record.err, program)
        return TxStatus(
            TxState.FAILED,
            slot=record.slot,
            error=describe(record.err, program, kind),
            failure=kind,
            fee=record.fee,
            compute_units=units,
        )


def fill(record: TransactionRecord, wallet: Pubkey, mint_out: Pubkey) -> int:
    """Return how much tokenOut the transaction got the wallet (see the module docstring)."""
    if mint_out == WSOL_MINT:

        def paid_by_pools(balance: TokenBalance) -> bool:
            return balance.mint == mint_out and balance.owner != wallet

        return _total(record.pre_token_balances, paid_by_pools) - _total(
            record.post_token_balances, paid_by_pools
        )

    def held_by_wallet(balance: TokenBalance) -> bool:
        return balance.mint == mint_out and balance.owner == wallet

    return _total(record.post_token_balances, held_by_wallet) - _total(
        record.pre_token_balances, held_by_wallet
    )


def _total(balances: Sequence[TokenBalance], counts: Callable[[TokenBalance], bool]) -> int:
    return sum(b.amount for b in balances if counts(b))


def failing_program(tx: Transaction, index: int | None) -> Pubkey | None:
    """Return the program of the transaction's instruction at index (None when unknown)."""
    if index is None or tx.wire is None:
        return None
    return failing_program_of(VersionedTransaction.from_bytes(tx.wire), index)


def failing_program_of(transaction: VersionedTransaction, index: int | None) -> Pubkey | None:
    """Return the program of a signed transaction's instruction at index (None: unknown)."""
    if index is None:
        return None
    message = transaction.message
    instructions = message.instructions
    if not 0 <= index < len(instructions):
        return None
    keys = message.account_keys
    program_index = instructions[index].program_id_index
    return keys[program_index] if program_index < len(keys) else None


def _chain_fields(tx: Transaction) -> tuple[bytes, int]:
    if tx.wire is None or tx.last_valid_block_height is None:
        raise StoredTransactionError(f"transaction {tx.signature} has no signed bytes to send")
    return tx.wire, tx.last_valid_block_height
