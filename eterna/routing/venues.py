"""The ports the engine trades through: venues that quote, a gateway that lands transactions."""

from __future__ import annotations

import base64
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple, Protocol

from eterna.domain.failures import FailureKind
from eterna.domain.routes import Route
from eterna.domain.tokens import Token


class PoolQuote(NamedTuple):
    """What one pool pays for an exact input, in integer base units.

    A named tuple rather than a frozen dataclass: a route quotes a ladder of amounts on every
    pool, dozens of these per order, and a tuple is built three times as fast.

    ``spot`` is the pool's marginal price before the swap, fee excluded (base units of
    tokenOut per base unit of tokenIn), when the venue knows it: the reference the all-in
    cost of a route is measured against, and a bound on what any amount can pay.
    """

    venue: str
    pool: str
    token_in: Token
    token_out: Token
    amount_in: int
    amount_out: int
    fee: int
    price_impact_bps: int
    spot: Fraction | None = None


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """A venue and what it is."""

    name: str
    kind: str
    pool_count: int


class VenueAdapter(Protocol):
    """A DEX venue that quotes its pools.

    The router calls ``quote_amounts`` only: one call per pair and route step, at a ladder of
    amounts (the chunks of a split, topped by the whole amount). A remote adapter answers it
    with one request, or a few when its API takes one amount at a time. ``quote`` is the
    one-amount form, for callers that want a plain quote.
    """

    @property
    def name(self) -> str:
        """Return the venue's stable name, e.g. "raydium"."""
        ...

    async def info(self) -> VenueInfo:
        """Describe the venue."""
        ...

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue that trades the pair; empty when none does.

        :raises VenueUnavailableError: when the venue cannot be reached.
        """
        ...

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of the pair at each amount, all against one state of the venue.

        A pool that cannot fill an amount has no quote for it; the result is empty when no
        pool trades the pair.

        :raises VenueUnavailableError: when the venue cannot be reached.
        """
        ...


@dataclass(frozen=True, slots=True)
class SwapInstruction:
    """One swap in a transaction: amount_in of token_in through a pool.

    ``amount_in`` None means "all of token_in that earlier swaps of this transaction paid
    out and no swap spent yet": the second swap of a two-hop spends exactly the intermediate
    output, the way the next instruction on chain reads the intermediate token account.
    """

    venue: str
    pool: str
    mint_in: str
    mint_out: str
    amount_in: int | None

    @classmethod
    def for_route(cls, route: Route) -> tuple[SwapInstruction, ...]:
        """Return the swaps that execute route, in order.

        Legs spending tokenIn carry their amounts. Of the legs spending an intermediate
        token, the last one takes whatever is left of it, so the route spends exactly what
        the first hop paid out even when that moved since the quote.
        """
        last_spender = {leg.token_in: index for index, leg in enumerate(route.legs)}
        return tuple(
            cls(
                venue=leg.venue,
                pool=leg.pool,
                mint_in=leg.token_in.mint,
                mint_out=leg.token_out.mint,
                amount_in=(
                    None
                    if leg.token_in != route.token_in and last_spender[leg.token_in] == index
                    else leg.token_in.to_base_units(leg.amount_in)
                ),
            )
            for index, leg in enumerate(route.legs)
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (``amountIn`` null: spend what earlier swaps paid out)."""
        return {
            "venue": self.venue,
            "pool": self.pool,
            "mintIn": self.mint_in,
            "mintOut": self.mint_out,
            "amountIn": None if self.amount_in is None else str(self.amount_in),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SwapInstruction:
        """Rebuild from the JSON form."""
        amount = data.get("amountIn")
        return cls(
            venue=data["venue"],
            pool=data["pool"],
            mint_in=data["mintIn"],
            mint_out=data["mintOut"],
            amount_in=None if amount is None else int(amount),
        )


@dataclass(frozen=True, slots=True)
class Landing:
    """How a transaction was readied to land, and what its simulation said it would do.

    ``priority_fee`` is the compute-unit price (micro-lamports per unit) and
    ``compute_unit_limit`` the limit it was signed with. When a simulation ran (``simulated``)
    it reports the units consumed and, when the transaction would succeed, ``amount_out``:
    what it would pay the wallet, in tokenOut base units. A simulation that failed says why
    (``failure``, ``error``): such a transaction is never sent.
    """

    priority_fee: int
    compute_unit_limit: int
    simulated: bool = False
    units_consumed: int | None = None
    amount_out: int | None = None
    failure: FailureKind | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (as the BUILDING event's details and the stored transaction)."""
        data: dict[str, Any] = {
            "priorityFeeMicroLamports": self.priority_fee,
            "computeUnitLimit": self.compute_unit_limit,
            "simulated": self.simulated,
        }
        if self.units_consumed is not None:
            data["simulatedUnits"] = self.units_consumed
        if self.amount_out is not None:
            data["simulatedAmountOut"] = str(self.amount_out)
        if self.failure is not None:
            data["simulationFailure"] = self.failure.value
        if self.error is not None:
            data["simulationError"] = self.error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Landing:
        """Rebuild from the JSON form."""
        units = data.get("simulatedUnits")
        amount = data.get("simulatedAmountOut")
        failure = data.get("simulationFailure")
        return cls(
            priority_fee=int(data["priorityFeeMicroLamports"]),
            compute_unit_limit=int(data["computeUnitLimit"]),
            simulated=bool(data.get("simulated", False)),
            units_consumed=None if units is None else int(units),
            amount_out=None if amount is None else int(amount),
            failure=None if failure is None else FailureKind(failure),
            error=data.get("simulationError"),
        )


@dataclass(frozen=True, slots=True)
class Transaction:
    """A signed swap transaction: its signature is derived from its content.

    Re-sending the same transaction can never execute twice; a rebuilt transaction (new
    blockhash) has a new signature.

    On a Solana cluster ``wire`` holds the serialized signed transaction (what is sent, and
    sent again) and ``last_valid_block_height`` the block height after which it can no
    longer land; ``last_valid_slot`` is then the slot that height is expected at. Both are
    None for a market that needs neither (the model market of the router's tests).

    ``landing`` says how it was readied to land (fee, limit, simulation); ``dry_run``: it
    was built in dry-run mode and is never sent - the order ends with its simulated fill.
    """

    signature: str
    memo: str
    payer: str
    mint_in: str
    mint_out: str
    swaps: tuple[SwapInstruction, ...]
    min_amount_out: int
    recent_blockhash: str
    last_valid_slot: int
    wrap_sol: bool
    unwrap_sol: bool
    last_valid_block_height: int | None = None
    wire: bytes | None = None
    landing: Landing | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (``wire`` in base64; both chain fields left out when None)."""
        data: dict[str, Any] = {
            "signature": self.signature,
            "memo": self.memo,
            "payer": self.payer,
            "mintIn": self.mint_in,
            "mintOut": self.mint_out,
            "swaps": [s.to_json() for s in self.swaps],
            "minAmountOut": str(self.min_amount_out),
            "recentBlockhash": self.recent_blockhash,
            "lastValidSlot": self.last_valid_slot,
            "wrapSol": self.wrap_sol,
            "unwrapSol": self.unwrap_sol,
        }
        if self.last_valid_block_height is not None:
            data["lastValidBlockHeight"] = self.last_valid_block_height
        if self.wire is not None:
            data["wire"] = base64.b64encode(self.wire).decode("ascii")
        if self.landing is not None:
            data["landing"] = self.landing.to_json()
        if self.dry_run:
            data["dryRun"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transaction:
        """Rebuild from the JSON form (that of a transaction stored without chain fields too)."""
        height = data.get("lastValidBlockHeight")
        wire = data.get("wire")
        landing = data.get("landing")
        return cls(
            signature=data["signature"],
            memo=data["memo"],
            payer=data["payer"],
            mint_in=data["mintIn"],
            mint_out=data["mintOut"],
            swaps=tuple(SwapInstruction.from_json(s) for s in data["swaps"]),
            min_amount_out=int(data["minAmountOut"]),
            recent_blockhash=data["recentBlockhash"],
            last_valid_slot=int(data["lastValidSlot"]),
            wrap_sol=bool(data["wrapSol"]),
            unwrap_sol=bool(data["unwrapSol"]),
            last_valid_block_height=None if height is None else int(height),
            wire=None if wire is None else base64.b64decode(wire, validate=True),
            landing=None if landing is None else Landing.from_json(landing),
            dry_run=bool(data.get("dryRun", False)),
        )


class TxState(enum.Enum):
    """Where a signature stands on the chain."""

    CONFIRMED = "CONFIRMED"  # landed and succeeded
    FAILED = "FAILED"  # landed and failed (e.g. slippage); it can never succeed
    UNKNOWN = "UNKNOWN"  # not landed; may still land while its blockhash is valid
    EXPIRED = "EXPIRED"  # not landed and its blockhash expired: it can never land


@dataclass(frozen=True, slots=True)
class TxStatus:
    """The chain's answer about a signature: for a FAILED one, why (a kind, and a message).

    A landed transaction on a Solana cluster also reports its fee (lamports) and the compute
    units it consumed.
    """

    state: TxState
    slot: int | None = None
    amount_out: int | None = None
    error: str | None = None
    failure: FailureKind | None = None
    fee: int | None = None
    compute_units: int | None = None


@dataclass(frozen=True, slots=True)
class SwapRequest:
    """What the engine asks the gateway to build."""

    memo: str
    payer: str
    mint_in: str
    mint_out: str
    swaps: tuple[SwapInstruction, ...]
    min_amount_out: int


class ChainGateway(Protocol):
    """Builds, sends and tracks transactions (an RPC node plus a swap builder)."""

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction with a fresh blockhash."""
        ...

    async def send(self, tx: Transaction) -> None:
        """Broadcast the transaction; sending the same one twice is harmless."""
        ...

    async def status(self, tx: Transaction) -> TxStatus:
        """Ask whether the transaction landed, failed, may still land, or expired."""
        ...
