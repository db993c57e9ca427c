"""Plan a route's swaps for one transaction: each leg's amount in and its minimum out.

A program's exact-in swap takes a fixed amount and refuses to pay less than a fixed minimum.
From the request and the pools as they are now (their snapshots):

- a leg spending tokenIn spends what the route gave it;
- a leg spending an intermediate token with no amount (the last spender of that token, see
  :meth:`~eterna.routing.venues.SwapInstruction.for_route`) spends what the earlier legs
  are quoted to pay of it now, less what the other legs spending it take;
- a leg paying an intermediate token carries its quoted output as its minimum: the legs
  after it spend exactly that, and no program can hand "whatever the last swap paid" to
  the next one. So the wallet never pays an intermediate token out of its own balance; a
  move against the first hop fails the transaction on that minimum (slippage), a move in
  its favour leaves the surplus in the wallet;
- the legs paying tokenOut share the route's minimum in proportion to their quoted outputs,
  each rounded up, so they add up to at least the route's minimum and each tolerates the
  same relative slippage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from solders.pubkey import Pubkey

from eterna.adapters.solana.pools import PoolRegistry, UnknownPoolError
from eterna.adapters.solana.snapshots import PoolSnapshot
from eterna.domain.errors import TransientError, VenueError
from eterna.routing.venues import SwapInstruction, SwapRequest


class RouteMovedError(VenueError, TransientError):
    """The pools moved since the route was quoted: a leg cannot be filled as planned now."""


class InvalidSwapRequestError(VenueError):
    """The request names a pool that is not known, or that does not trade the leg's pair."""


@dataclass(frozen=True, slots=True)
class PlannedSwap:
    """One leg as it goes on chain: pool, direction, amount in, quoted and minimum out."""

    snapshot: PoolSnapshot
    a_to_b: bool
    mint_in: Pubkey
    mint_out: Pubkey
    amount_in: int
    expected_out: int
    min_out: int


def pools_of(request: SwapRequest, registry: PoolRegistry) -> list[Pubkey]:
    """Return the addresses of the pools the request swaps through, in order.

    :raises InvalidSwapRequestError: when a swap names an unknown pool, or one of another venue.
    """
    try:
        return [registry.find(s.pool, s.venue).address for s in request.swaps]
    except UnknownPoolError as exc:
        raise InvalidSwapRequestError(str(exc)) from exc


def plan_swaps(request: SwapRequest, snapshots: Mapping[Pubkey, PoolSnapshot]) -> list[PlannedSwap]:
    """Return the request's legs with their amounts and minimums on the pools as they are.

    :raises InvalidSwapRequestError: when the request cannot describe a transaction.
    :raises RouteMovedError: when a pool cannot fill its leg now, or the intermediate
        amounts no longer cover the legs that spend them.
    """
    if not request.swaps:
        raise InvalidSwapRequestError("a swap request needs at least one swap")
    if request.min_amount_out < 0:
        raise InvalidSwapRequestError("the minimum out cannot be negative")
    if len({s.pool for s in request.swaps}) < len(request.swaps):
        # Each leg is quoted on the pool as it is now: a second pass through it would not be.
        raise InvalidSwapRequestError("a transaction swaps through each pool once")
    # Quoted amounts paid by earlier legs and not spent yet, by mint.
    held: dict[str, int] = {}
    legs: list[tuple[PoolSnapshot, bool, SwapInstruction, int, int]] = []
    for swap in request.swaps:
        snap = _snapshot_of(swap, snapshots)
        a_to_b = snap.entry.a_to_b(swap.mint_in, swap.mint_out)
        if a_to_b is None:
            raise InvalidSwapRequestError(f"pool {swap.pool} does not trade {swap.mint_in}")
        amount = _amount_in(swap, request, held)
        out = _quote(snap, a_to_b, amount)
        if swap.mint_in != request.mint_in:
            held[swap.mint_in] -= amount
        held[swap.mint_out] = held.get(swap.mint_out, 0) + out
        legs.append((snap, a_to_b, swap, amount, out))
    if any(left < 0 for mint, left in held.items() if mint != request.mint_out):
        raise RouteMovedError("the first hop now pays less than the second hop's legs spend")
    finals = [out for _, _, swap, _, out in legs if swap.mint_out == request.mint_out]
    if not finals:
        raise InvalidSwapRequestError("no swap of the request pays its tokenOut")
    minimums = iter(split_minimum(request.min_amount_out, finals))
    return [
        PlannedSwap(
            snapshot=snap,
            a_to_b=a_to_b,
            mint_in=Pubkey.from_string(swap.mint_in),
            mint_out=Pubkey.from_string(swap.mint_out),
            amount_in=amount,
            expected_out=out,
            min_out=next(minimums) if swap.mint_out == request.mint_out else out,
        )
        for snap, a_to_b, swap, amount, out in legs
    ]


def split_minimum(minimum: int, outputs: Sequence[int]) -> list[int]:
    """Share minimum among legs in proportion to their outputs, each share rounded up."""
    total = sum(outputs)
    if total <= 0:
        raise ValueError("outputs must add up to more than zero")
    return [-(-minimum * out // total) for out in outputs]


def _snapshot_of(swap: SwapInstruction, snapshots: Mapping[Pubkey, PoolSnapshot]) -> PoolSnapshot:
    try:
        return snapshots[Pubkey.from_string(swap.pool)]
    except (KeyError, ValueError):
        raise InvalidSwapRequestError(f"pool {swap.pool} was not read") from None


def _amount_in(swap: SwapInstruction, request: SwapRequest, held: dict[str, int]) -> int:
    if swap.amount_in is not None:
        if swap.amount_in <= 0:
            raise InvalidSwapRequestError("a swap's amount must be positive")
        if swap.mint_in != request.mint_in and swap.mint_in not in held:
            raise InvalidSwapRequestError(f"no earlier swap pays the {swap.mint_in} it spends")
        return swap.amount_in
    if swap.mint_in == request.mint_in:
        raise InvalidSwapRequestError("a swap of tokenIn needs its amount")
    if swap.mint_in not in held:
        raise InvalidSwapRequestError(f"no earlier swap pays the {swap.mint_in} it spends")
    amount = held[swap.mint_in]
    if amount <= 0:
        raise RouteMovedError("the first hop now pays less than the second hop's legs spend")
    return amount


def _quote(snap: PoolSnapshot, a_to_b: bool, amount: int) -> int:
    if not snap.tradable:
        raise RouteMovedError(f"pool {snap.entry.address} takes no swaps: {snap.closed_reason}")
    (result,) = snap.math.quote_amounts([amount], a_to_b=a_to_b, now=snap.unix_time)
    if result is None:
        raise RouteMovedError(f"pool {snap.entry.address} cannot fill {amount} now")
    return result.amount_out
