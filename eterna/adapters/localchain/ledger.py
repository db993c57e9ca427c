"""The node's ledger: every transaction it processed, by signature and by memo.

An entry holds what ``getTransaction`` reports on a cluster - the transaction itself, its
slot and block time, fee, compute units, error, logs, the lamports of every account key and
the token balances of its writable token accounts before and after, the accounts its v0
message looked up in address lookup tables - plus the memo text, which carries Eterna's
order id.

The ledger keeps the newest ``capacity`` entries (an entry takes about 6 KiB:
``bench/localchain_node.py``; the default, 50,000, is some five hours of the market maker's
drift). An entry is dropped only once its blockhash has expired (older than 150 slots), so
a re-sent transaction is always recognised while it could still land; until then the
ledger grows past its capacity instead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from eterna.adapters.localchain.lookups import NONE_LOADED, LoadedAddresses, all_keys
from eterna.adapters.localchain.results import TokenBalance, TxError
from eterna.adapters.localchain.slots import MAX_BLOCKHASH_AGE
from eterna.adapters.solana.ids import MEMO_PROGRAM

DEFAULT_CAPACITY = 50_000


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One processed transaction, as a cluster's ``getTransaction`` describes it."""

    signature: Signature
    transaction: VersionedTransaction
    slot: int
    block_time: int
    fee: int
    compute_units: int
    error: TxError | None
    logs: tuple[str, ...]
    pre_balances: tuple[int, ...]
    post_balances: tuple[int, ...]
    pre_token_balances: Mapping[Pubkey, TokenBalance]
    post_token_balances: Mapping[Pubkey, TokenBalance]
    memo: str | None
    loaded: LoadedAddresses = NONE_LOADED  # the accounts its v0 message looked up

    @property
    def ok(self) -> bool:
        """Tell whether the transaction succeeded."""
        return self.error is None

    @property
    def account_keys(self) -> list[Pubkey]:
        """Return the message's account keys, static then looked up (balances follow them)."""
        return all_keys(self.transaction.message, self.loaded)

    def token_change(self, account: Pubkey) -> int:
        """Return how many base units the token account gained (negative: lost)."""
        pre = self.pre_token_balances.get(account)
        post = self.post_token_balances.get(account)
        return (post.amount if post else 0) - (pre.amount if pre else 0)


def memo_of(tx: VersionedTransaction) -> str | None:
    """Return the text of the transaction's first memo instruction, or None."""
    message = tx.message
    keys = message.account_keys
    for instruction in message.instructions:
        if keys[instruction.program_id_index] == MEMO_PROGRAM:
            try:
                return bytes(instruction.data).decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


class Ledger:
    """Processed transactions, newest last, looked up by signature or memo."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        *,
        on_add: Callable[[LedgerEntry], None] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("a ledger holds at least one transaction")
        self.capacity = capacity
        self._on_add = on_add
        self._entries: OrderedDict[Signature, LedgerEntry] = OrderedDict()
        self._by_memo: dict[str, list[Signature]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: LedgerEntry) -> None:
        """Record an entry; drop the oldest ones past capacity whose blockhash expired."""
        self._entries[entry.signature] = entry
        if self._on_add is not None:
            self._on_add(entry)
        if entry.memo is not None:
            self._by_memo.setdefault(entry.memo, []).append(entry.signature)
        self._evict(entry.slot)

    def get(self, signature: Signature) -> LedgerEntry | None:
        """Return the entry of a signature, or None."""
        return self._entries.get(signature)

    def by_memo(self, memo: str) -> list[LedgerEntry]:
        """Return the entries whose memo is exactly memo, oldest first."""
        found = (self._entries.get(s) for s in self._by_memo.get(memo, ()))
        return [entry for entry in found if entry is not None]

    def entries(self) -> list[LedgerEntry]:
        """Return every entry kept, oldest first."""
        return list(self._entries.values())

    def _evict(self, slot: int) -> None:
        while len(self._entries) > self.capacity:
            signature, oldest = next(iter(self._entries.items()))
            if oldest.slot + MAX_BLOCKHASH_AGE >= slot:
                return  # it could still be re-sent: keep it
            del self._entries[signature]
            if oldest.memo is not None:
                remaining = [s for s in self._by_memo[oldest.memo] if s != signature]
                if remaining:
                    self._by_memo[oldest.memo] = remaining
                else:
                    del self._by_memo[oldest.memo]
