"""How far one Whirlpool swap can walk: the three tick arrays the program picks for it.

Sources (orca-so/whirlpools ``programs/whirlpool/src/``, the build of February 2025):
``util/sparse_swap.rs`` (``get_start_tick_indexes``), ``util/swap_tick_sequence.rs``
(``get_next_initialized_tick_index``), ``state/tick.rs`` (``check_is_valid_start_tick``,
``is_min_tick_array``, ``is_max_tick_array``) and the step loop of
``manager/swap_manager.rs``.

The program derives the arrays from the pool's current tick, not from the accounts a client
passes: A to B walks the array holding the tick and the two below it; B to A the array
holding the tick (or the next one when the tick is within one spacing of its end) and the two
above. Past the last array's edge the swap fails (``TickArraySequenceInvalidIndex``), unless
that array is the first or last array of the whole tick range, where the walk may run on to
the minimum or maximum sqrt price and the swap ends there, partly filled.

Where no initialized tick is left in the arrays, the program's next target is the edge: the
last array's first tick moving down, the tick one below the next array's start moving up.
Crossing the last array's edge tick (offset 0 down, offset 87 up) also ends the walk, as the
program then moves its array cursor past the last array.
"""

from __future__ import annotations

from typing import NamedTuple

from eterna.amm.clmm_math import MAX_TICK_INDEX, MIN_TICK_INDEX

TICK_ARRAY_SIZE = 88


def ticks_in_array(tick_spacing: int) -> int:
    """Return how many tick indexes one tick array spans."""
    return TICK_ARRAY_SIZE * tick_spacing


def tick_array_start(tick: int, tick_spacing: int) -> int:
    """Return the start index of the tick array that holds tick."""
    span = ticks_in_array(tick_spacing)
    return tick // span * span


def is_valid_start(start: int, tick_spacing: int) -> bool:
    """Tell whether a tick array may start at start (``check_is_valid_start_tick``)."""
    span = ticks_in_array(tick_spacing)
    if MIN_TICK_INDEX <= start <= MAX_TICK_INDEX:
        return start % span == 0
    # Below the range only the array that holds the minimum tick is valid.
    return start < MIN_TICK_INDEX and start == tick_array_start(MIN_TICK_INDEX, tick_spacing)


def swap_array_starts(tick_current: int, tick_spacing: int, *, a_to_b: bool) -> tuple[int, ...]:
    """Return the start indexes of the tick arrays a swap walks, in swap order."""
    span = ticks_in_array(tick_spacing)
    base = tick_array_start(tick_current, tick_spacing)
    if a_to_b:
        offsets: tuple[int, ...] = (0, -1, -2)
    elif tick_current + tick_spacing >= base + span:
        offsets = (1, 2, 3)
    else:
        offsets = (0, 1, 2)
    starts = (base + offset * span for offset in offsets)
    return tuple(start for start in starts if is_valid_start(start, tick_spacing))


class Reach(NamedTuple):
    """The bounds of one swap's walk.

    ``edge`` is the tick the walk targets when no initialized tick is left before it (the
    minimum or maximum tick when ``to_limit``); reaching ``stop`` or beyond it (an
    initialized tick at the last array's edge, or the edge itself) ends the walk, and a swap
    with input left then fails.
    """

    edge: int
    stop: int
    to_limit: bool


def swap_reach(tick_current: int, tick_spacing: int, *, a_to_b: bool) -> Reach:
    """Return the bounds of a swap's walk from tick_current in the given direction."""
    span = ticks_in_array(tick_spacing)
    last = swap_array_starts(tick_current, tick_spacing, a_to_b=a_to_b)[-1]
    if a_to_b:
        if last <= MIN_TICK_INDEX:
            return Reach(edge=MIN_TICK_INDEX, stop=last, to_limit=True)
        return Reach(edge=last, stop=last, to_limit=False)
    stop = last + (TICK_ARRAY_SIZE - 1) * tick_spacing
    if last + span > MAX_TICK_INDEX:
        return Reach(edge=MAX_TICK_INDEX, stop=stop, to_limit=True)
    return Reach(edge=last + span - 1, stop=stop, to_limit=False)


def ends_walk(reach: Reach, tick: int, *, a_to_b: bool) -> bool:
    """Tell whether reaching tick (and crossing it, when initialized) ends the walk."""
    return tick <= reach.stop if a_to_b else tick >= reach.stop
