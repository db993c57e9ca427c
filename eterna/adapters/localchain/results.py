"""What a transaction did on the local chain: signature, outcome, cost and token movements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorInstructionError,
    TransactionErrorType,
)

from eterna.adapters.solana.ids import TOKEN_PROGRAMS
from eterna.adapters.solana.spl import TOKEN_ACCOUNT_LEN
from eterna.domain.errors import EternaError

_LOG_TAIL = 8
_TOKEN_2022_ACCOUNT_TYPE = 2  # the byte after the base layout of a Token-2022 token account


@dataclass(frozen=True, slots=True)
class TokenBalance:
    """A token account's mint, owner and amount at one moment."""

    mint: Pubkey
    owner: Pubkey
    amount: int


@dataclass(frozen=True, slots=True)
class TxError:
    """Why a transaction failed: the runtime's error, and the program's code when it gave one.

    ``raw`` is the runtime's error itself, for what the fields do not say (its JSON form).
    """

    message: str
    instruction_index: int | None = None
    custom_code: int | None = None
    raw: TransactionErrorType | None = None


@dataclass(frozen=True, slots=True)
class TxResult:
    """The outcome of one transaction; a failed one changed no account."""

    signature: Signature
    error: TxError | None
    compute_units: int
    fee: int
    logs: tuple[str, ...]
    pre_token_balances: Mapping[Pubkey, TokenBalance]
    post_token_balances: Mapping[Pubkey, TokenBalance]

    @property
    def ok(self) -> bool:
        """Tell whether the transaction landed."""
        return self.error is None

    def token_change(self, account: Pubkey) -> int:
        """Return how many base units the token account gained (negative: lost)."""
        pre = self.pre_token_balances.get(account)
        post = self.post_token_balances.get(account)
        return (post.amount if post else 0) - (pre.amount if pre else 0)

    def check(self) -> TxResult:
        """Return self when the transaction landed.

        :raises TransactionFailedError: when it did not.
        """
        if self.error is not None:
            raise TransactionFailedError(self)
        return self


class ChainError(EternaError):
    """The local chain refused a request."""


class AccountNotFoundError(ChainError):
    """No account lives at the address asked for."""


class TransactionFailedError(ChainError):
    """A transaction that had to land did not; carries its result and the last logs."""

    def __init__(self, result: TxResult) -> None:
        error = result.error
        tail = " | ".join(result.logs[-_LOG_TAIL:])
        super().__init__(
            f"transaction {result.signature} failed: {error and error.message}: {tail}"
        )
        self.result = result


def tx_error(failed: FailedTransactionMetadata) -> TxError:
    """Turn LiteSVM's failure into a TxError (instruction index and custom code when given)."""
    err = failed.err()
    if not isinstance(err, TransactionErrorInstructionError):
        return TxError(message=str(err), raw=err)
    code = err.err.code if isinstance(err.err, InstructionErrorCustom) else None
    return TxError(message=str(err), instruction_index=err.index, custom_code=code, raw=err)


def build_result(
    outcome: TransactionMetadata | FailedTransactionMetadata,
    pre: Mapping[Pubkey, TokenBalance],
    post: Mapping[Pubkey, TokenBalance],
) -> TxResult:
    """Assemble a TxResult from LiteSVM's metadata and the balances read around it."""
    if isinstance(outcome, FailedTransactionMetadata):
        meta, error = outcome.meta(), tx_error(outcome)
    else:
        meta, error = outcome, None
    return TxResult(
        signature=meta.signature(),
        error=error,
        compute_units=meta.compute_units_consumed(),
        fee=meta.fee(),
        logs=tuple(meta.logs()),
        pre_token_balances=pre,
        post_token_balances=post,
    )


def token_balance_of(account: Account) -> TokenBalance | None:
    """Return the balance an account holds when it is a token account, else None."""
    if account.owner not in TOKEN_PROGRAMS:
        return None
    data = account.data
    size = len(data)
    if size != TOKEN_ACCOUNT_LEN and not (
        size > TOKEN_ACCOUNT_LEN and data[TOKEN_ACCOUNT_LEN] == _TOKEN_2022_ACCOUNT_TYPE
    ):
        return None
    return TokenBalance(
        mint=Pubkey.from_bytes(data[0:32]),
        owner=Pubkey.from_bytes(data[32:64]),
        amount=int.from_bytes(data[64:72], "little"),
    )


def writable_keys(
    tx: Transaction | VersionedTransaction, loaded: Sequence[Pubkey] = ()
) -> list[Pubkey]:
    """Return the accounts the transaction may write: static ones, then loaded (looked up)."""
    message = tx.message
    header = message.header
    keys = message.account_keys
    signed = header.num_required_signatures
    writable_signed = signed - header.num_readonly_signed_accounts
    writable_unsigned_end = len(keys) - header.num_readonly_unsigned_accounts
    static = [
        key
        for i, key in enumerate(keys)
        if i < writable_signed or signed <= i < writable_unsigned_end
    ]
    return [*static, *loaded]
