"""The Solana JSON-RPC methods Eterna uses, as a typed async port.

:class:`SolanaRpc` names its methods after the JSON-RPC methods (``getMultipleAccounts`` ->
``get_multiple_accounts``) and returns typed values decoded from the wire shapes of a Solana
node: account data as bytes, addresses as ``Pubkey``, a ``context.slot`` kept beside every
``value`` it wraps (:class:`Context`). Failures are the typed errors of
:mod:`eterna.adapters.solana.rpc_errors`.

Two implementations answer alike: ``HttpRpc`` (HTTP and websockets, any cluster) and, over
the in-process local chain, ``LocalRpc`` - the same requests and the same decoding, so the
engine cannot tell them apart.

Subscriptions are async context managers: once ``async with`` has entered, the node has
confirmed the subscription, so a caller that reads the state after entering misses no
change. Leaving the block unsubscribes. The iterator raises ``RpcUnavailableError`` when the
connection is lost; the caller subscribes again and re-reads the state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar

from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

Commitment: TypeAlias = Literal["processed", "confirmed", "finalized"]
SignedTransaction: TypeAlias = bytes | Transaction | VersionedTransaction

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Context(Generic[T_co]):
    """A value and the slot the node read it at (the wire's ``{context: {slot}, value}``)."""

    slot: int
    value: T_co


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account: its lamports, owner, data and whether it holds a program."""

    lamports: int
    owner: Pubkey
    data: bytes
    executable: bool
    rent_epoch: int
    space: int


@dataclass(frozen=True, slots=True)
class BlockhashInfo:
    """A recent blockhash and the last block height at which it is still accepted."""

    blockhash: Hash
    last_valid_block_height: int


@dataclass(frozen=True, slots=True)
class TxErr:
    """Why a transaction failed, as the runtime reports it (the ``err`` of a result).

    ``kind`` is the runtime's variant (``"InstructionError"``, ``"BlockhashNotFound"``,
    ``"InsufficientFundsForRent"`` ...). For an instruction error, ``instruction_index`` is
    the failing instruction and ``instruction_error`` its variant (``"Custom"``,
    ``"InvalidAccountData"`` ...), with the program's own code in ``custom_code``. ``raw`` is
    the wire form, for whatever the fields above do not say.
    """

    kind: str
    instruction_index: int | None = None
    instruction_error: str | None = None
    custom_code: int | None = None
    raw: Any = None


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    """Where a processed signature stands: its slot, its result and how final it is."""

    slot: int
    confirmations: int | None  # None once finalized (rooted), as a node says it
    err: TxErr | None
    confirmation_status: Commitment | None


@dataclass(frozen=True, slots=True)
class TokenTransfer:
    """A token transfer a program made inside an instruction (a parsed inner instruction).

    ``instruction_index`` is the transaction's instruction that made it (through a CPI).
    """

    instruction_index: int
    source: Pubkey
    destination: Pubkey
    amount: int


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What a transaction would do if sent now; nothing was committed.

    ``transfers``: the token transfers its instructions would make, when the simulation was
    asked for inner instructions and would succeed.
    """

    err: TxErr | None
    logs: tuple[str, ...]
    units_consumed: int | None
    transfers: tuple[TokenTransfer, ...] = ()


@dataclass(frozen=True, slots=True)
class PrioritizationFee:
    """The lowest compute-unit price that landed in a recent slot (micro-lamports per unit)."""

    slot: int
    fee: int


@dataclass(frozen=True, slots=True)
class TokenBalance:
    """A token account's balance before or after a transaction (``uiTokenAmount.amount``)."""

    account_index: int
    account: Pubkey
    mint: Pubkey
    owner: Pubkey | None
    program_id: Pubkey | None
    amount: int
    decimals: int


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A processed transaction as ``getTransaction`` tells it: outcome, cost and balances.

    ``account_keys`` are the message's accounts in order (static keys, then loaded ones), so
    ``pre_balances[i]`` (lamports) belongs to ``account_keys[i]``.
    """

    signature: Signature
    slot: int
    block_time: int | None
    fee: int
    err: TxErr | None
    compute_units_consumed: int | None
    log_messages: tuple[str, ...]
    account_keys: tuple[Pubkey, ...]
    pre_balances: tuple[int, ...]
    post_balances: tuple[int, ...]
    pre_token_balances: tuple[TokenBalance, ...]
    post_token_balances: tuple[TokenBalance, ...]

    @property
    def block_datetime(self) -> datetime | None:
        """Return the block time as an aware UTC datetime."""
        return None if self.block_time is None else datetime.fromtimestamp(self.block_time, UTC)

    def token_change(self, account: Pubkey) -> int:
        """Return how many base units the token account gained (negative: lost)."""
        pre = sum(b.amount for b in self.pre_token_balances if b.account == account)
        post = sum(b.amount for b in self.post_token_balances if b.account == account)
        return post - pre

    def lamport_change(self, account: Pubkey) -> int:
        """Return how many lamports account gained (negative: lost, the fee included)."""
        if account not in self.account_keys:
            return 0
        index = self.account_keys.index(account)
        return self.post_balances[index] - self.pre_balances[index]


@dataclass(frozen=True, slots=True)
class MemcmpFilter:
    """Keep accounts whose data holds ``bytes_`` at ``offset`` (``{"memcmp": ...}``)."""

    offset: int
    bytes_: bytes


@dataclass(frozen=True, slots=True)
class DataSizeFilter:
    """Keep accounts whose data is exactly ``size`` bytes long (``{"dataSize": ...}``)."""

    size: int


ProgramFilter: TypeAlias = MemcmpFilter | DataSizeFilter


@dataclass(frozen=True, slots=True)
class KeyedAccount:
    """One of a program's accounts with its address (``getProgramAccounts``)."""

    address: Pubkey
    account: AccountInfo


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """A subscribed account changed (``accountNotification`` / ``programNotification``)."""

    address: Pubkey
    slot: int
    account: AccountInfo


@dataclass(frozen=True, slots=True)
class SlotUpdate:
    """The node moved to a new slot (``slotNotification``)."""

    slot: int
    parent: int
    root: int


class SolanaRpc(Protocol):
    """A Solana node's JSON-RPC methods Eterna uses, typed; see the module docstring."""

    async def get_health(self) -> None:
        """Return when the node is healthy.

        :raises NodeUnhealthyError: when it says it is not.
        """
        ...

    async def get_slot(self, *, commitment: Commitment | None = None) -> int:
        """Return the slot the node has reached at the commitment."""
        ...

    async def get_block_height(self, *, commitment: Commitment | None = None) -> int:
        """Return the current block height (what blockhash validity is counted in)."""
        ...

    async def get_latest_blockhash(
        self, *, commitment: Commitment | None = None
    ) -> Context[BlockhashInfo]:
        """Return the blockhash to sign with now and the last block height it is valid at."""
        ...

    async def get_genesis_hash(self) -> Hash:
        """Return the genesis hash: which cluster the node serves."""
        ...

    async def get_recent_prioritization_fees(
        self, accounts: Sequence[Pubkey] = ()
    ) -> list[PrioritizationFee]:
        """Return recent slots' lowest landed compute-unit price writing all of accounts."""
        ...

    async def get_account_info(
        self, address: Pubkey, *, commitment: Commitment | None = None
    ) -> Context[AccountInfo | None]:
        """Return the account at address (None when there is none)."""
        ...

    async def get_multiple_accounts(
        self, addresses: Sequence[Pubkey], *, commitment: Commitment | None = None
    ) -> Context[list[AccountInfo | None]]:
        """Return the accounts at addresses, in order, all read at one slot."""
        ...

    async def get_program_accounts(
        self,
        program: Pubkey,
        filters: Sequence[ProgramFilter] = (),
        *,
        commitment: Commitment | None = None,
    ) -> Context[list[KeyedAccount]]:
        """Return every account of the program that passes every filter, read at one slot."""
        ...

    async def send_transaction(
        self,
        transaction: SignedTransaction,
        *,
        skip_preflight: bool = False,
        preflight_commitment: Commitment | None = None,
        max_retries: int | None = None,
    ) -> Signature:
        """Submit a signed transaction and return its signature (it may not land).

        :raises PreflightFailureError: when the preflight simulation fails (not sent).
        :raises BlockhashNotFoundError: when its blockhash is unknown or expired.
        :raises SignatureVerificationError: when a signature does not verify.
        """
        ...

    async def simulate_transaction(
        self,
        transaction: SignedTransaction,
        *,
        sig_verify: bool = False,
        replace_recent_blockhash: bool = False,
        commitment: Commitment | None = None,
        inner_instructions: bool = False,
    ) -> Context[SimulationResult]:
        """Run a transaction against the current state without committing it.

        With inner_instructions the result lists the token transfers it would make.
        """
        ...

    async def get_signature_statuses(
        self, signatures: Sequence[Signature], *, search_transaction_history: bool = False
    ) -> Context[list[SignatureStatus | None]]:
        """Return the status of each signature, None for one the node has not processed."""
        ...

    async def get_transaction(
        self, signature: Signature, *, commitment: Commitment | None = None
    ) -> TransactionRecord | None:
        """Return a processed transaction with its outcome, or None when unknown.

        A node's default commitment here is ``finalized``: a transaction that just landed is
        None until it is rooted (about 32 slots). Pass ``"confirmed"`` to read it at once.
        """
        ...

    def account_updates(
        self, addresses: Sequence[Pubkey], *, commitment: Commitment | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[AccountUpdate]]:
        """Subscribe to changes of the accounts at addresses (``accountSubscribe`` each)."""
        ...

    def program_updates(
        self,
        program: Pubkey,
        filters: Sequence[ProgramFilter] = (),
        *,
        commitment: Commitment | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[AccountUpdate]]:
        """Subscribe to changes of the program's accounts that pass every filter."""
        ...

    def slot_updates(self) -> AbstractAsyncContextManager[AsyncIterator[SlotUpdate]]:
        """Subscribe to the node's new slots (``slotSubscribe``)."""
        ...
