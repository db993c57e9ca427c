"""Where every transaction of the node lands: LiteSVM runs it, the ledger and feed record it.

The node's chain is a :class:`NodeChain`: a LocalChain whose ``send_transaction`` goes
through :meth:`Recorder.record`, so the transactions Eterna sends, the market maker's swaps
and the setup of launched pools all land the same way - in the ledger at the current slot,
and reported to the account subscribers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from solders.account import Account
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction

from eterna.adapters.localchain.feed import AccountChange, Feed
from eterna.adapters.localchain.ledger import Ledger, LedgerEntry, memo_of
from eterna.adapters.localchain.lookups import LoadedAddresses, all_keys, try_loaded
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.results import TxResult, build_result, writable_keys
from eterna.adapters.localchain.svm import LocalChain

# (slot, unix time) of the block being produced.
BlockClock = Callable[[], tuple[int, int]]


def _landed(result: TxResult, payer_before: int, payer_after: int) -> bool:
    """Tell whether a transaction made it into a block: it ran, or at least paid its fee.

    A cluster never includes one refused before execution (a duplicate, a fee payer that
    cannot pay, a missing account): those fail preflight, or are dropped by the leader.
    """
    error = result.error
    return error is None or error.instruction_index is not None or payer_after < payer_before


def versioned(tx: Transaction | VersionedTransaction) -> VersionedTransaction:
    """Return tx as a VersionedTransaction (a legacy one keeps its legacy message)."""
    return tx if isinstance(tx, VersionedTransaction) else VersionedTransaction.from_legacy(tx)


class Recorder:
    """Runs transactions on a chain; records them in the ledger and publishes account changes."""

    def __init__(self, ledger: Ledger, accounts: Feed[AccountChange], block: BlockClock) -> None:
        self.ledger = ledger
        self.accounts = accounts
        self._block = block

    def record(self, chain: LocalChain, tx: Transaction | VersionedTransaction) -> TxResult:
        """Run tx at the current slot; record it unless the runtime saw it already."""
        svm = chain.svm
        loaded = try_loaded(svm.get_account, tx.message)
        keys: Sequence[Pubkey] = all_keys(tx.message, loaded)
        writable = writable_keys(tx, loaded.writable)
        watch = self.accounts.active
        before = {key: svm.get_account(key) for key in writable} if watch else {}
        pre_lamports = tuple(svm.get_balance(key) or 0 for key in keys)
        pre_tokens = chain.token_balances(writable)
        outcome = svm.send_transaction(tx)
        result = build_result(outcome, pre_tokens, chain.token_balances(writable))
        post_lamports = tuple(svm.get_balance(key) or 0 for key in keys)
        if not _landed(result, pre_lamports[0], post_lamports[0]):
            return result  # refused before it ran (a duplicate, no fee payer ...): no block has it
        slot, block_time = self._block()
        lamports = (pre_lamports, post_lamports)
        self.ledger.add(self._entry(tx, result, slot, block_time, lamports, loaded=loaded))
        if watch:
            self._publish(svm.get_account, before, slot)
        return result

    @staticmethod
    def _entry(
        tx: Transaction | VersionedTransaction,
        result: TxResult,
        slot: int,
        block_time: int,
        lamports: tuple[tuple[int, ...], tuple[int, ...]],
        *,
        loaded: LoadedAddresses,
    ) -> LedgerEntry:
        signed = versioned(tx)
        return LedgerEntry(
            signature=result.signature,
            transaction=signed,
            slot=slot,
            block_time=block_time,
            fee=result.fee,
            compute_units=result.compute_units,
            error=result.error,
            logs=result.logs,
            pre_balances=lamports[0],
            post_balances=lamports[1],
            pre_token_balances=result.pre_token_balances,
            post_token_balances=result.post_token_balances,
            memo=memo_of(signed),
            loaded=loaded,
        )

    def _publish(
        self,
        read: Callable[[Pubkey], Account | None],
        before: dict[Pubkey, Account | None],
        slot: int,
    ) -> None:
        for key, old in before.items():
            new = read(key)
            if new != old:
                self.accounts.publish(AccountChange(key, new, slot))


class NodeChain(LocalChain):
    """A LocalChain whose every transaction lands through a recorder."""

    def __init__(self, programs: Sequence[ProgramFile], *, seed: bytes, recorder: Recorder) -> None:
        super().__init__(programs, seed=seed)
        self.recorder = recorder

    def send_transaction(self, tx: Transaction | VersionedTransaction) -> TxResult:
        """Run tx through the recorder: ledger, feed, and the result."""
        return self.recorder.record(self, tx)
