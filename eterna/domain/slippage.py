"""Adaptive slippage: the tolerance an attempt gets when the order gives only a cap.

An order with ``maxSlippageBps`` lets the engine pick each attempt's tolerance (the share of
the quoted output it may lose before the chain refuses the swap) from what it knows then:

- **depth**: the route's price impact for the order's amount. A swap that moves the price
  by ``impact`` bps sits in pools where the flow of other traders of a similar size moves
  the price about as much, so half of it is allowed for their moves;
- **recent moves**: the largest absolute price change of the route's pools over the last
  updates the market data showed (summed over the hops of a two-hop route, whose moves
  compound);
- **recent failures**: a slippage failure on one of the route's pools a moment ago means
  moves beyond the tolerance it had happen there: start above it.

    base     = MARGIN + impact / 2 + recent move
    first    = max(base, failed tolerance + MARGIN)          (no failure: base)
    retry    = max(first, 2 x previous, previous + adverse move seen since + MARGIN)
    chosen   = min(cap, max(FLOOR, ...))

On a retry after a slippage failure the tolerance widens: at least double the previous one,
and at least the previous one plus the adverse move the fresh quotes show against the last
(how much less the same amount buys now, on the route or on a pool the last route used). A
retry after another failure (an expired blockhash, a venue that did not answer) never
narrows it. The cap always wins: never above
it, and the floor (``FLOOR_BPS``, or the cap when that is lower) keeps a tolerance from
being so tight that the slightest tick fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FLOOR_BPS = 10
MARGIN_BPS = 10


@dataclass(frozen=True, slots=True)
class SlippageInputs:
    """What the choice of one attempt's tolerance is made of (every figure in bps)."""

    cap_bps: int
    impact_bps: int
    recent_move_bps: int = 0
    failed_tolerance_bps: int | None = None  # a recent slippage failure on the route's pools
    previous_bps: int | None = None  # the tolerance of this order's previous attempt
    slippage_failures: int = 0  # this order's attempts that failed on slippage so far
    adverse_move_bps: int = 0  # how much less the same amount buys than at the last attempt


@dataclass(frozen=True, slots=True)
class SlippageChoice:
    """The tolerance chosen, what it was made of, and why, for the ROUTING event."""

    bps: int
    inputs: SlippageInputs
    reason: str

    def to_json(self) -> dict[str, Any]:
        """Return the form the ROUTING event's details carry under ``slippage``."""
        i = self.inputs
        return {
            "chosenBps": self.bps,
            "maxSlippageBps": i.cap_bps,
            "priceImpactBps": i.impact_bps,
            "recentMoveBps": i.recent_move_bps,
            "recentFailureBps": i.failed_tolerance_bps,
            "previousBps": i.previous_bps,
            "slippageFailures": i.slippage_failures,
            "adverseMoveBps": i.adverse_move_bps,
            "reason": self.reason,
        }


def floor_bps(cap_bps: int) -> int:
    """Return the narrowest tolerance the rule picks under this cap."""
    return min(FLOOR_BPS, cap_bps)


def choose_tolerance(inputs: SlippageInputs) -> SlippageChoice:
    """Return the attempt's tolerance: from depth, moves and failures, widened on a retry.

    :raises ValueError: when the cap is not positive.
    """
    if inputs.cap_bps < 1:
        raise ValueError("the cap must be at least 1 bps")
    impact = max(inputs.impact_bps, 0)
    move = max(inputs.recent_move_bps, 0)
    base = MARGIN_BPS + (impact + 1) // 2 + move
    why = [f"depth {impact} bps impact", f"recent moves up to {move} bps"]
    want = base
    if inputs.failed_tolerance_bps is not None:
        after_failure = inputs.failed_tolerance_bps + MARGIN_BPS
        why.append(f"a recent slippage failure at {inputs.failed_tolerance_bps} bps")
        want = max(want, after_failure)
    previous = inputs.previous_bps
    if previous is not None:
        if inputs.slippage_failures > 0:
            adverse = max(inputs.adverse_move_bps, 0)
            widened = max(2 * previous, previous + adverse + MARGIN_BPS)
            why.append(
                f"widened after a slippage failure at {previous} bps "
                f"(price {adverse} bps worse since)"
            )
            want = max(want, widened)
        else:
            why.append(f"never below the previous attempt's {previous} bps")
            want = max(want, previous)
    chosen = min(inputs.cap_bps, max(floor_bps(inputs.cap_bps), want))
    if chosen == inputs.cap_bps and want > inputs.cap_bps:
        why.append(f"held at the cap {inputs.cap_bps} bps (wanted {want})")
    return SlippageChoice(bps=chosen, inputs=inputs, reason="; ".join(why))


def adverse_move_bps(before: int, now: int) -> int:
    """Return how many bps less ``now`` is than ``before`` (0 when it is not less)."""
    if before <= 0 or now >= before:
        return 0
    return -(-(before - now) * 10_000 // before)  # rounded up: the move is at least this
