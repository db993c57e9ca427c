"""Recent prioritization fees, as a validator's fee cache answers getRecentPrioritizationFees.

For each of the last :data:`FEE_WINDOW_SLOTS` slots, a node knows the lowest compute-unit
price (micro-lamports per unit, from ComputeBudget's ``SetComputeUnitPrice``; none is 0)
among the transactions that landed successfully in it, overall and per account they
write-locked. Asked about some accounts, it answers for each slot the lowest overall price
raised to the lowest price of each of those accounts that was written in that slot: what a
transaction writing them all had to pay to land there. A slot without a transaction answers 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.ledger import LedgerEntry
from eterna.adapters.solana.ids import COMPUTE_BUDGET_PROGRAM
from eterna.adapters.solana.transactions import written_keys

# A node keeps the fees of the last 150 blocks.
FEE_WINDOW_SLOTS: Final = 150
# ComputeBudget's SetComputeUnitPrice: tag 3, then the price as a little-endian u64.
_SET_COMPUTE_UNIT_PRICE: Final = 3
_PRICE_DATA_LEN: Final = 9


@dataclass(slots=True)
class _SlotFees:
    """One slot's lowest landed price, overall and per account written."""

    lowest: int
    accounts: dict[Pubkey, int]


def compute_unit_price(tx: VersionedTransaction) -> int:
    """Return the compute-unit price a transaction set (0 when it set none)."""
    message = tx.message
    keys = message.account_keys
    for instruction in message.instructions:
        data = bytes(instruction.data)
        if (
            keys[instruction.program_id_index] == COMPUTE_BUDGET_PROGRAM
            and len(data) == _PRICE_DATA_LEN
            and data[0] == _SET_COMPUTE_UNIT_PRICE
        ):
            return int.from_bytes(data[1:], "little")
    return 0


def writable_accounts(entry: LedgerEntry) -> frozenset[Pubkey]:
    """Return the accounts a recorded transaction write-locked (looked-up ones too)."""
    return frozenset((*written_keys(entry.transaction.message), *entry.loaded.writable))


class FeeCache:
    """The recent slots' lowest landed prices, kept as transactions land; see the module."""

    def __init__(self) -> None:
        self._slots: dict[int, _SlotFees] = {}

    def record(self, entry: LedgerEntry) -> None:
        """Count a transaction that landed (a failed one pays no priority to land)."""
        if not entry.ok:
            return
        price = compute_unit_price(entry.transaction)
        fees = self._slots.get(entry.slot)
        if fees is None:
            fees = self._slots[entry.slot] = _SlotFees(price, {})
            self._forget_before(entry.slot - FEE_WINDOW_SLOTS)
        fees.lowest = min(fees.lowest, price)
        for account in writable_accounts(entry):
            fees.accounts[account] = min(fees.accounts.get(account, price), price)

    def _forget_before(self, slot: int) -> None:
        for old in [s for s in self._slots if s < slot]:
            del self._slots[old]

    def prioritization_fees(self, slot: int, accounts: Sequence[Pubkey]) -> list[tuple[int, int]]:
        """Return ``(slot, fee)`` for each slot of the window ending at slot, oldest first."""
        answer: list[tuple[int, int]] = []
        for at in range(max(slot - FEE_WINDOW_SLOTS + 1, 0), slot + 1):
            fees = self._slots.get(at)
            fee = 0
            if fees is not None:
                fee = fees.lowest
                for account in accounts:
                    fee = max(fee, fees.accounts.get(account, fee))
            answer.append((at, fee))
        return answer
