"""Getting a swap transaction to land: its priority fee, its compute limit, its simulation.

Before a transaction is signed for good, the gateway (when ``simulate`` is on):

- simulates it at the highest compute limit, asking for its inner instructions: a failing
  simulation is a typed failure and the transaction is never sent; a passing one tells the
  units it consumes and, from the token transfers into the wallet's tokenOut account, what
  it would pay;
- sets the compute-unit limit to the units consumed plus ``compute_unit_margin_percent``
  (the state may move a little before it lands: one more tick or bin crossed);
- sets the priority fee (compute-unit price) to the ``priority_fee_percentile``-th of the
  recent slots' fees over the accounts the route writes (``getRecentPrioritizationFees``:
  what a transaction writing them had to pay to land), capped at ``max_priority_fee``.

Without ``simulate`` the limit and price are :class:`~.transactions.TransactionConfig`'s
static ones. Either way, a token whose mint belongs to Token-2022 and carries the
transfer-fee extension is refused: our quotes do not take the fee off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from solders.pubkey import Pubkey

from eterna.adapters.solana.ids import TOKEN_2022_PROGRAM
from eterna.adapters.solana.rpc import AccountInfo, PrioritizationFee, TokenTransfer
from eterna.adapters.solana.spl import MINT_LEN
from eterna.domain.errors import VenueError
from eterna.domain.failures import FailureKind

# A Token-2022 mint with extensions: the base mint, padding to a token account's length, an
# account-type byte (1: mint), then type-length-value entries (u16 type, u16 length, value).
_ACCOUNT_TYPE_OFFSET: Final = 165
_MINT_ACCOUNT_TYPE: Final = 1
_TLV_HEADER: Final = 4
TRANSFER_FEE_CONFIG: Final = 1  # Token-2022's ExtensionType::TransferFeeConfig
PERCENT: Final = 100


class TransferFeeMintError(VenueError):
    """A token of the route charges a transfer fee (Token-2022): it is not traded."""

    failure: ClassVar[FailureKind] = FailureKind.UNSUPPORTED_TOKEN


class DryRunSendError(VenueError):
    """A transaction built in dry-run mode was about to be sent: it never is."""

    failure: ClassVar[FailureKind] = FailureKind.INTERNAL


@dataclass(frozen=True, slots=True)
class LandingConfig:
    """How the gateway readies a transaction to land (see the module docstring)."""

    simulate: bool = True
    priority_fee_percentile: int = 75
    max_priority_fee: int = 1_000_000
    compute_unit_margin_percent: int = 20
    dry_run: bool = False

    def __post_init__(self) -> None:
        """Refuse a percentile outside 0-100, a negative cap or margin, dry run unsimulated."""
        if not 0 <= self.priority_fee_percentile <= PERCENT:
            raise ValueError("the priority fee percentile is between 0 and 100")
        if self.max_priority_fee < 0 or self.compute_unit_margin_percent < 0:
            raise ValueError("the priority fee cap and the compute margin are not negative")
        if self.dry_run and not self.simulate:
            raise ValueError("a dry run simulates: it ends with the simulated fill")


def mint_extensions(data: bytes) -> list[int]:
    """Return the extension types of a Token-2022 mint's data (none for a base mint).

    :raises ValueError: for extension data that does not parse.
    """
    if len(data) <= _ACCOUNT_TYPE_OFFSET:
        if len(data) < MINT_LEN:
            raise ValueError(f"a mint is at least {MINT_LEN} bytes, got {len(data)}")
        return []
    if data[_ACCOUNT_TYPE_OFFSET] != _MINT_ACCOUNT_TYPE:
        raise ValueError(f"account type {data[_ACCOUNT_TYPE_OFFSET]} is not a mint")
    found: list[int] = []
    at = _ACCOUNT_TYPE_OFFSET + 1
    while at + _TLV_HEADER <= len(data):
        kind = int.from_bytes(data[at : at + 2], "little")
        length = int.from_bytes(data[at + 2 : at + 4], "little")
        if kind == 0:  # uninitialized: the rest is padding
            break
        at += _TLV_HEADER + length
        if at > len(data):
            raise ValueError(f"extension {kind} runs past the account's end")
        found.append(kind)
    return found


def charges_transfer_fee(account: AccountInfo) -> bool:
    """Tell whether a mint account is Token-2022's with the transfer-fee extension."""
    if account.owner != TOKEN_2022_PROGRAM:
        return False
    try:
        return TRANSFER_FEE_CONFIG in mint_extensions(account.data)
    except ValueError:
        return True  # a Token-2022 mint we cannot read is not one we can quote


def priority_fee(fees: Sequence[PrioritizationFee], percentile: int, cap: int) -> int:
    """Return the percentile-th of the recent slots' fees (nearest rank), at most cap."""
    if not fees:
        return 0
    ranked = sorted(f.fee for f in fees)
    index = max(math.ceil(percentile * len(ranked) / PERCENT) - 1, 0)
    return min(ranked[index], cap)


def compute_limit(units: int, margin_percent: int, ceiling: int) -> int:
    """Return the compute-unit limit for a simulation's units plus the margin, at most ceiling."""
    return min(math.ceil(units * (PERCENT + margin_percent) / PERCENT), ceiling)


def fill_of(transfers: Sequence[TokenTransfer], account: Pubkey) -> int:
    """Return what the transfers paid into the account (the wallet's tokenOut account)."""
    return sum(t.amount for t in transfers if t.destination == account) - sum(
        t.amount for t in transfers if t.source == account
    )
