"""Simulate a transaction on the node's current state, committing nothing.

As ``simulateTransaction`` on a cluster: the error the transaction would meet (a stale
blockhash is one, unless the caller asks for the blockhash to be replaced), its logs, the
compute units it would consume, and the accounts it would leave. Signatures are checked by
the caller when asked (``sigVerify``); LiteSVM's own check is off while simulating, so a
transaction signed with placeholders can be simulated, as on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.account import Account
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, InnerInstruction
from solders.transaction_status import TransactionErrorFieldless

from eterna.adapters.localchain.results import TxError, tx_error
from eterna.adapters.localchain.slots import RecentBlockhash

BLOCKHASH_NOT_FOUND = TxError(
    message=str(TransactionErrorFieldless.BlockhashNotFound),
    raw=TransactionErrorFieldless.BlockhashNotFound,
)


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a transaction would do now: error, logs, compute units, accounts after it."""

    slot: int
    error: TxError | None
    logs: tuple[str, ...]
    units_consumed: int
    accounts: tuple[tuple[Pubkey, Account], ...]
    replacement_blockhash: RecentBlockhash | None = None
    # Per instruction of the transaction, in order: the instructions it invoked (CPIs).
    inner_instructions: tuple[tuple[InnerInstruction, ...], ...] = ()

    @property
    def ok(self) -> bool:
        """Tell whether the transaction would succeed."""
        return self.error is None


def simulate(
    svm: LiteSVM,
    tx: VersionedTransaction,
    *,
    slot: int,
    fresh: bool,
    replacement: RecentBlockhash | None,
) -> Simulation:
    """Simulate tx on svm at slot; a stale blockhash (not fresh) fails as BlockhashNotFound."""
    if not fresh:
        return Simulation(slot, BLOCKHASH_NOT_FOUND, (), 0, ())
    sigverify = svm.get_sigverify()
    svm.with_sigverify(sigverify=False)
    try:
        outcome = svm.simulate_transaction(tx)
    finally:
        svm.with_sigverify(sigverify)
    if isinstance(outcome, FailedTransactionMetadata):
        meta = outcome.meta()
        return Simulation(
            slot,
            tx_error(outcome),
            tuple(meta.logs()),
            meta.compute_units_consumed(),
            (),
            replacement,
            tuple(tuple(group) for group in meta.inner_instructions()),
        )
    meta = outcome.meta()
    return Simulation(
        slot,
        None,
        tuple(meta.logs()),
        meta.compute_units_consumed(),
        tuple(outcome.post_accounts()),
        replacement,
        tuple(tuple(group) for group in meta.inner_instructions()),
    )
