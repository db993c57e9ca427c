"""SolanaRpc over any JSON-RPC transport: the requests and their decoding, written once.

A subclass carries requests (:meth:`RpcClient.call`) and subscriptions
(:meth:`RpcClient.subscribe`); everything else - the params of each method, the config
objects, the decoding of results, notifications and errors - lives here, so every transport
answers alike.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature

from eterna.adapters.solana import rpc_codec as codec
from eterna.adapters.solana.rpc import (
    AccountInfo,
    AccountUpdate,
    BlockhashInfo,
    Commitment,
    Context,
    KeyedAccount,
    PrioritizationFee,
    ProgramFilter,
    SignatureStatus,
    SignedTransaction,
    SimulationResult,
    SlotUpdate,
    TransactionRecord,
)
from eterna.adapters.solana.rpc_errors import InvalidResponseError, RpcUnavailableError

T = TypeVar("T")

_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """One subscription to open: the method and its params, and the method that ends it."""

    method: str
    params: list[Any]
    unsubscribe: str


class Notifications(Protocol):
    """Confirmed subscriptions: their ids in request order, then each notification."""

    @property
    def ids(self) -> tuple[int, ...]:
        """Return the subscription ids the node gave, in the order they were requested."""
        ...

    def __aiter__(self) -> AsyncIterator[tuple[int, Any]]:
        """Yield ``(subscription id, params.result)`` of each notification as it arrives."""
        ...


class RpcClient(abc.ABC):
    """The SolanaRpc methods over a transport; see the module docstring."""

    @abc.abstractmethod
    async def call(self, method: str, params: list[Any]) -> Any:
        """Send one request and return its ``result``.

        :raises RpcError: (a subclass) for the node's error object.
        :raises RpcUnavailableError: when the node does not answer.
        """

    @abc.abstractmethod
    def subscribe(
        self, requests: Sequence[SubscribeRequest]
    ) -> AbstractAsyncContextManager[Notifications]:
        """Open subscriptions (all confirmed on entry); leaving unsubscribes them."""

    async def _decoded(self, method: str, params: list[Any], decode: Callable[[Any], T]) -> T:
        return codec.decoding(method, decode, await self.call(method, params))

    async def _context(
        self, method: str, params: list[Any], decode: Callable[[Any], T]
    ) -> Context[T]:
        result = await self.call(method, params)
        return codec.decoding(method, lambda raw: codec.decode_context(raw, decode), result)

    async def get_health(self) -> None:
        """Return when the node is healthy."""
        await self._decoded("getHealth", [], _expect_ok)

    async def get_slot(self, *, commitment: Commitment | None = None) -> int:
        """Return the slot the node has reached at the commitment."""
        return await self._decoded("getSlot", _config_only(commitment), int)

    async def get_block_height(self, *, commitment: Commitment | None = None) -> int:
        """Return the current block height."""
        return await self._decoded("getBlockHeight", _config_only(commitment), int)

    async def get_latest_blockhash(
        self, *, commitment: Commitment | None = None
    ) -> Context[BlockhashInfo]:
        """Return the blockhash to sign with and its last valid block height."""
        params = _config_only(commitment)
        return await self._context("getLatestBlockhash", params, codec.decode_blockhash)

    async def get_genesis_hash(self) -> Hash:
        """Return the genesis hash: which cluster the node serves."""
        return await self._decoded("getGenesisHash", [], Hash.from_string)

    async def get_recent_prioritization_fees(
        self, accounts: Sequence[Pubkey] = ()
    ) -> list[PrioritizationFee]:
        """Return recent slots' lowest landed compute-unit price writing all of accounts."""
        params: list[Any] = [[str(a) for a in accounts]] if accounts else []
        return await self._decoded(
            "getRecentPrioritizationFees", params, codec.decode_prioritization_fees
        )

    async def get_account_info(
        self, address: Pubkey, *, commitment: Commitment | None = None
    ) -> Context[AccountInfo | None]:
        """Return the account at address (None when there is none)."""
        params = [str(address), codec.config(encoding="base64", commitment=commitment)]
        return await self._context("getAccountInfo", params, codec.decode_account)

    async def get_multiple_accounts(
        self, addresses: Sequence[Pubkey], *, commitment: Commitment | None = None
    ) -> Context[list[AccountInfo | None]]:
        """Return the accounts at addresses, in order, read at one slot."""
        params = [
            [str(a) for a in addresses],
            codec.config(encoding="base64", commitment=commitment),
        ]
        return await self._context("getMultipleAccounts", params, codec.decode_accounts)

    async def get_program_accounts(
        self,
        program: Pubkey,
        filters: Sequence[ProgramFilter] = (),
        *,
        commitment: Commitment | None = None,
    ) -> Context[list[KeyedAccount]]:
        """Return every account of the program that passes every filter, read at one slot."""
        options = codec.config(
            encoding="base64",
            commitment=commitment,
            filters=[codec.encode_filter(f) for f in filters] or None,
            withContext=True,
        )
        params = [str(program), options]
        return await self._context("getProgramAccounts", params, codec.decode_keyed_accounts)

    async def send_transaction(
        self,
        transaction: SignedTransaction,
        *,
        skip_preflight: bool = False,
        preflight_commitment: Commitment | None = None,
        max_retries: int | None = None,
    ) -> Signature:
        """Submit a signed transaction and return its signature."""
        options = codec.config(
            encoding="base64",
            skipPreflight=skip_preflight,
            preflightCommitment=preflight_commitment,
            maxRetries=max_retries,
        )
        params = [codec.encode_transaction(transaction), options]
        return await self._decoded("sendTransaction", params, Signature.from_string)

    async def simulate_transaction(
        self,
        transaction: SignedTransaction,
        *,
        sig_verify: bool = False,
        replace_recent_blockhash: bool = False,
        commitment: Commitment | None = None,
        inner_instructions: bool = False,
    ) -> Context[SimulationResult]:
        """Run a transaction against the current state without committing it."""
        options = codec.config(
            encoding="base64",
            sigVerify=sig_verify,
            replaceRecentBlockhash=replace_recent_blockhash,
            commitment=commitment,
            innerInstructions=inner_instructions or None,
        )
        params = [codec.encode_transaction(transaction), options]
        return await self._context("simulateTransaction", params, codec.decode_simulation)

    async def get_signature_statuses(
        self, signatures: Sequence[Signature], *, search_transaction_history: bool = False
    ) -> Context[list[SignatureStatus | None]]:
        """Return the status of each signature, None for an unknown one."""
        params = [
            [str(s) for s in signatures],
            {"searchTransactionHistory": search_transaction_history},
        ]
        return await self._context("getSignatureStatuses", params, codec.decode_statuses)

    async def get_transaction(
        self, signature: Signature, *, commitment: Commitment | None = None
    ) -> TransactionRecord | None:
        """Return a processed transaction with its outcome, or None when unknown."""
        options = codec.config(
            encoding="base64", commitment=commitment, maxSupportedTransactionVersion=0
        )
        return await self._decoded(
            "getTransaction",
            [str(signature), options],
            lambda raw: codec.decode_transaction(raw, signature),
        )

    @asynccontextmanager
    async def account_updates(
        self, addresses: Sequence[Pubkey], *, commitment: Commitment | None = None
    ) -> AsyncIterator[AsyncIterator[AccountUpdate]]:
        """Subscribe to changes of the accounts at addresses (one accountSubscribe each)."""
        options = codec.config(encoding="base64", commitment=commitment)
        requests = [
            SubscribeRequest("accountSubscribe", [str(a), options], "accountUnsubscribe")
            for a in addresses
        ]
        async with self.subscribe(requests) as feed:
            by_id = dict(zip(feed.ids, addresses, strict=True))
            stream = _decode_stream(
                feed,
                lambda sub, raw: codec.decode_account_notification(raw, by_id[sub]),
            )
            try:
                yield stream
            finally:
                await stream.aclose()

    @asynccontextmanager
    async def program_updates(
        self,
        program: Pubkey,
        filters: Sequence[ProgramFilter] = (),
        *,
        commitment: Commitment | None = None,
    ) -> AsyncIterator[AsyncIterator[AccountUpdate]]:
        """Subscribe to changes of the program's accounts that pass every filter."""
        options = codec.config(
            encoding="base64",
            commitment=commitment,
            filters=[codec.encode_filter(f) for f in filters] or None,
        )
        request = SubscribeRequest(
            "programSubscribe", [str(program), options], "programUnsubscribe"
        )
        async with self.subscribe([request]) as feed:
            stream = _decode_stream(feed, lambda _, raw: codec.decode_program_notification(raw))
            try:
                yield stream
            finally:
                await stream.aclose()

    @asynccontextmanager
    async def slot_updates(self) -> AsyncIterator[AsyncIterator[SlotUpdate]]:
        """Subscribe to the node's new slots."""
        request = SubscribeRequest("slotSubscribe", [], "slotUnsubscribe")
        async with self.subscribe([request]) as feed:
            stream = _decode_stream(feed, lambda _, raw: codec.decode_slot_notification(raw))
            try:
                yield stream
            finally:
                await stream.aclose()


async def _decode_stream(
    feed: Notifications, decode: Callable[[int, Any], T]
) -> AsyncGenerator[T, None]:
    async for subscription, raw in feed:
        yield codec.decoding("notification", lambda r: decode(subscription, r), raw)  # noqa: B023


def unwrap_response(method: str, status: int, payload: Any) -> Any:
    """Return the ``result`` of a response body, or raise the typed error it carries.

    :raises RpcUnavailableError: for HTTP 429 or 5xx (the body is not read).
    :raises RpcError: (a subclass) for a JSON-RPC error object.
    :raises InvalidResponseError: for a body without a result.
    """
    if status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR:
        raise RpcUnavailableError(f"{method}: HTTP {status}")
    if isinstance(payload, dict) and payload.get("error") is not None:
        raise codec.decode_error(payload["error"])
    if not isinstance(payload, dict) or "result" not in payload:
        raise InvalidResponseError(f"{method}: HTTP {status}, no result: {payload!r:.200}")
    return payload["result"]


def _config_only(commitment: Commitment | None) -> list[Any]:
    return [] if commitment is None else [{"commitment": commitment}]


def _expect_ok(raw: Any) -> None:
    if raw != "ok":
        raise ValueError(f"getHealth answered {raw!r}")
