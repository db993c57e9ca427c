"""What the node checks before it runs a transaction, and the errors of a refusal.

A cluster's RPC refuses a transaction whose signatures do not verify, or whose blockhash it
does not know (or no longer: older than 150 slots); the runtime refuses one it cannot even
charge (a fee payer that cannot pay, a missing account). None of them lands in a block.
"""

from __future__ import annotations

from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.results import ChainError, TxError


class BlockhashNotFoundError(ChainError):
    """The transaction's blockhash is unknown or older than 150 slots: it can never land."""


class SignatureVerificationError(ChainError):
    """A signature of the transaction does not verify (or one is missing)."""


class TransactionRejectedError(ChainError):
    """The runtime refused the transaction before running it (it never lands): why, in error."""

    def __init__(self, error: TxError) -> None:
        super().__init__(f"transaction refused: {error.message}")
        self.error = error


def check_signatures(tx: VersionedTransaction) -> None:
    """Check every signature a transaction needs is there and verifies.

    :raises SignatureVerificationError: when one is missing or wrong.
    """
    try:
        tx.sanitize()
        results = tx.verify_with_results()
    except Exception as exc:  # solders raises its own error types for malformed messages
        raise SignatureVerificationError(f"transaction is malformed: {exc}") from exc
    if not results or not all(results):
        raise SignatureVerificationError("Transaction signature verification failure")
