"""Recent prioritization fees, as a validator's fee cache answers getRecentPrioritizationFees.

For each of the last :data:`FEE_WINDOW_SLOTS` slots, a node knows the lowest compute-unit
price (micro-lamports per unit, from ComputeBudget's ``SetComputeUnitPrice``; none is 0)
among the transactions that landed successfully in it, overall and per account they
write-locked. Asked about some accounts, it answers for each slot the lowest overall price
raised to the lowest price of each of those accounts that was written in that slot: what a
transaction writing them all had to pay to land there. A slot without a transaction answers 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


@dataclass(frozen=True, slots=True)
class _Landed:
    """What one landed transaction tells the fee cache."""

    slot: int
    price: int
    writable: frozenset[Pubkey]


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


def writable_accounts(tx: VersionedTransaction) -> frozenset[Pubkey]:
    """Return the accounts a transaction write-locks."""
    return frozenset(written_keys(tx.message))


class FeeCache:
    """The recent slots' lowest landed prices; see the module docstring."""

    def __init__(self) -> None:
        self._seen: dict[object, _Landed] = {}

    def prioritization_fees(
        self, entries: Iterable[LedgerEntry], slot: int, accounts: Sequence[Pubkey]
    ) -> list[tuple[int, int]]:
        """Return ``(slot, fee)`` for each slot of the window ending at slot, oldest first.

        entries: the ledger, newest first (only those inside the window are read).
        """
        first = max(slot - FEE_WINDOW_SLOTS + 1, 0)
        lowest: dict[int, int] = {}
        per_account: dict[int, dict[Pubkey, int]] = {}
        wanted = frozenset(accounts)
        kept: dict[object, _Landed] = {}
        for entry in entries:
            if entry.slot < first:
                break
            if not entry.ok:
                continue
            landed = self._seen.get(entry.signature) or _Landed(
                entry.slot,
                compute_unit_price(entry.transaction),
                writable_accounts(entry.transaction),
            )
            kept[entry.signature] = landed
            at = landed.slot
            lowest[at] = min(lowest.get(at, landed.price), landed.price)
            for account in wanted & landed.writable:
                seen = per_account.setdefault(at, {})
                seen[account] = min(seen.get(account, landed.price), landed.price)
        self._seen = kept  # what left the window is forgotten
        answer: list[tuple[int, int]] = []
        for at in range(first, slot + 1):
            fee = lowest.get(at, 0)
            for account_fee in per_account.get(at, {}).values():
                fee = max(fee, account_fee)
            answer.append((at, fee))
        return answer
