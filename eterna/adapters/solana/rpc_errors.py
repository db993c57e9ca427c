"""Errors of a Solana JSON-RPC node, as typed exceptions.

A node answers a failed call with a JSON-RPC error object ``{code, message, data}``; the
client raises the class of that code, so callers branch on the class, never on the text::

    VenueError
    ├── RpcError                      the node answered with a JSON-RPC error
    │   ├── InvalidRequestError       -32600 / -32700: the request itself was malformed
    │   ├── MethodNotFoundError       -32601
    │   ├── InvalidParamsError        -32602: a bad address, signature or transaction
    │   ├── PreflightFailureError     -32002: sendTransaction's simulation failed
    │   │   ├── BlockhashNotFoundError  (TransientError) the blockhash is unknown or expired
    │   │   └── AlreadyProcessedError   the same signed transaction already landed
    │   ├── SignatureVerificationError  -32003
    │   └── NodeUnhealthyError        -32005 / -32603 / -32016 (also VenueUnavailableError)
    └── VenueUnavailableError
        └── RpcUnavailableError       timeout, refused connection, HTTP 5xx or 429, a dropped
            │                         websocket: the node did not answer
            └── InvalidResponseError  the answer was not the documented JSON-RPC shape
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eterna.domain.errors import TransientError, VenueError, VenueUnavailableError

if TYPE_CHECKING:
    from eterna.adapters.solana.rpc import SimulationResult

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002
TRANSACTION_SIGNATURE_VERIFICATION_FAILURE = -32003
NODE_UNHEALTHY = -32005
MIN_CONTEXT_SLOT_NOT_REACHED = -32016


class RpcError(VenueError):
    """The node answered a call with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.data = data

    def __eq__(self, other: object) -> bool:
        # Two clients decoding the same error object must compare equal (LocalRpc vs HttpRpc).
        if type(other) is not type(self) or not isinstance(other, RpcError):
            return NotImplemented
        return (self.code, self.message, self.data) == (other.code, other.message, other.data)

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class InvalidRequestError(RpcError):
    """The request was not valid JSON-RPC (or not JSON at all)."""


class MethodNotFoundError(RpcError):
    """The node does not serve this method."""


class InvalidParamsError(RpcError):
    """A parameter was malformed: an address, a signature, a transaction or a config."""


class PreflightFailureError(RpcError):
    """sendTransaction simulated the transaction first and the simulation failed.

    Nothing was broadcast; ``simulation`` holds the error, the logs and the compute units.
    """

    def __init__(
        self, code: int, message: str, data: Any, simulation: SimulationResult | None
    ) -> None:
        super().__init__(code, message, data)
        self.simulation = simulation


class BlockhashNotFoundError(PreflightFailureError, TransientError):
    """The transaction's blockhash is unknown to the node: expired, or from another fork."""


class AlreadyProcessedError(PreflightFailureError):
    """The same signed transaction has already been processed (a harmless re-send)."""


class SignatureVerificationError(RpcError):
    """A signature of the transaction does not verify."""


class NodeUnhealthyError(RpcError, VenueUnavailableError):
    """The node cannot serve now: behind the cluster, overloaded, or an internal error."""


class RpcUnavailableError(VenueUnavailableError):
    """The node did not answer: timeout, refused connection, HTTP 5xx or 429, lost websocket."""


class InvalidResponseError(RpcUnavailableError):
    """The node's answer did not have the documented shape (a proxy's page, another API)."""


_BY_CODE: dict[int, type[RpcError]] = {
    PARSE_ERROR: InvalidRequestError,
    INVALID_REQUEST: InvalidRequestError,
    METHOD_NOT_FOUND: MethodNotFoundError,
    INVALID_PARAMS: InvalidParamsError,
    INTERNAL_ERROR: NodeUnhealthyError,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE: SignatureVerificationError,
    NODE_UNHEALTHY: NodeUnhealthyError,
    MIN_CONTEXT_SLOT_NOT_REACHED: NodeUnhealthyError,
}


def rpc_error_class(code: int) -> type[RpcError]:
    """Return the class raised for a JSON-RPC error code (preflight failures aside)."""
    return _BY_CODE.get(code, RpcError)
