"""Reading a JSON-RPC request's params the way a Solana node does, with its error answers.

Every malformed param raises :class:`RpcFault` with the code and message a node answers
with (``-32602 Invalid param: WrongSize`` for a short address, ``Too many inputs provided;
max 100`` ...), so a client meets the same failures here as on a cluster.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from eterna.adapters.solana.rpc_errors import INVALID_PARAMS

COMMITMENTS: Final = ("processed", "confirmed", "finalized")
MAX_MULTIPLE_ACCOUNTS: Final = 100
MAX_SIGNATURE_STATUSES: Final = 256
_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}
_PUBKEY_LEN: Final = 32
_SIGNATURE_LEN: Final = 64


class RpcFault(Exception):  # noqa: N818 - a JSON-RPC error object, raised to answer with it
    """An error answer: the JSON-RPC error object a handler replies with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """Return the error object (``data`` only when there is some)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid(message: str) -> RpcFault:
    """Return an invalid-params fault."""
    return RpcFault(INVALID_PARAMS, message)


def positional(params: Any, required: int, allowed: int) -> list[Any]:
    """Return params as a list of ``allowed`` items (missing trailing ones None)."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid("Invalid params: expected an array")
    if not required <= len(params) <= allowed:
        raise invalid(f"Invalid params: invalid length {len(params)}, expected {required}")
    return [*params, *([None] * (allowed - len(params)))]


def options(raw: Any, allowed: frozenset[str]) -> dict[str, Any]:
    """Return a config object, refusing fields the method does not take."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid params: the config must be an object")
    unknown = set(raw) - allowed
    if unknown:
        raise invalid(f"Invalid params: unknown field `{sorted(unknown)[0]}`")
    return raw


def commitment(config: dict[str, Any]) -> str:
    """Return the config's commitment (a node's default: finalized)."""
    level = config.get("commitment", "finalized")
    if level not in COMMITMENTS:
        raise invalid(f"Invalid params: unknown variant `{level}`")
    return str(level)


def encoding(config: dict[str, Any], default: str = "base64") -> str:
    """Return the data encoding asked for; this node answers in base64 only."""
    asked = config.get("encoding", default)
    if asked != "base64":
        raise invalid(f"Invalid params: encoding {asked!r} is not served here; ask for base64")
    return "base64"


def pubkey(raw: Any) -> Pubkey:
    """Return the address in a param."""
    if not isinstance(raw, str):
        raise invalid("Invalid params: an address must be a base58 string")
    try:
        decoded = b58decode(raw)
    except ValueError:
        raise invalid("Invalid param: Invalid") from None
    if len(decoded) != _PUBKEY_LEN:
        raise invalid("Invalid param: WrongSize")
    return Pubkey.from_bytes(decoded)


def blockhash(raw: Any) -> Hash:
    """Return the blockhash in a param."""
    if not isinstance(raw, str):
        raise invalid("Invalid params: a blockhash must be a base58 string")
    try:
        decoded = b58decode(raw)
    except ValueError:
        raise invalid("Invalid param: Invalid") from None
    if len(decoded) != _PUBKEY_LEN:
        raise invalid("Invalid param: WrongSize")
    return Hash(decoded)


def pubkeys(raw: Any, limit: int) -> list[Pubkey]:
    """Return a list of addresses, at most ``limit`` of them."""
    if not isinstance(raw, list):
        raise invalid("Invalid params: expected an array of addresses")
    if len(raw) > limit:
        raise invalid(f"Too many inputs provided; max {limit}")
    return [pubkey(item) for item in raw]


def signature(raw: Any) -> Signature:
    """Return the signature in a param."""
    if not isinstance(raw, str):
        raise invalid("Invalid params: a signature must be a base58 string")
    try:
        decoded = b58decode(raw)
    except ValueError:
        raise invalid("Invalid param: Invalid") from None
    if len(decoded) != _SIGNATURE_LEN:
        raise invalid("Invalid param: WrongSize")
    return Signature.from_bytes(decoded)


def signatures(raw: Any) -> list[Signature]:
    """Return the signatures of getSignatureStatuses (at most 256)."""
    if not isinstance(raw, list):
        raise invalid("Invalid params: expected an array of signatures")
    if len(raw) > MAX_SIGNATURE_STATUSES:
        raise invalid(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
    return [signature(item) for item in raw]


def transaction(raw: Any, config: dict[str, Any]) -> VersionedTransaction:
    """Return the wire transaction of sendTransaction or simulateTransaction."""
    kind = config.get("encoding", "base58")
    if not isinstance(raw, str):
        raise invalid("Invalid params: a transaction must be a string")
    try:
        if kind == "base64":
            wire = base64.b64decode(raw, validate=True)
        elif kind == "base58":
            wire = b58decode(raw)
        else:
            raise invalid(f"Invalid params: unknown variant `{kind}`, expected base58 or base64")
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"invalid {kind} encoding: {exc}") from None
    try:
        return VersionedTransaction.from_bytes(wire)
    except ValueError as exc:
        raise invalid(f"failed to deserialize VersionedTransaction: {exc}") from None


def memcmp_bytes(raw: dict[str, Any]) -> bytes:
    """Return the bytes of a memcmp filter (base58 unless it says base64)."""
    text, kind = raw.get("bytes"), raw.get("encoding", "base58")
    if not isinstance(text, str):
        raise invalid("Invalid params: memcmp bytes must be a string")
    try:
        if kind == "base64":
            return base64.b64decode(text, validate=True)
        if kind == "base58":
            return b58decode(text)
    except (binascii.Error, ValueError):
        raise invalid(f"Invalid params: memcmp bytes are not {kind}") from None
    raise invalid(f"Invalid params: unknown variant `{kind}`, expected base58 or base64")


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet).

    :raises ValueError: for a character outside the alphabet.
    """
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise ValueError(f"{char!r} is not base58")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def b58encode(data: bytes) -> str:
    """Encode bytes as base58 (Bitcoin alphabet)."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + "".join(reversed(digits))
