"""One allocation of an exact input over every route family, from the quoted ladders.

The families of a swap ``tokenIn -> tokenOut``: each pool of the pair (direct), and for each
hub the path ``tokenIn -> hub -> tokenOut`` with each hop split over its pools. Every
family's output is concave in its input: a pool's is (each further unit fills at a worse
price), the best split of a hop over its pools is (the sup-convolution of concave
functions), and so is a hub path's, a concave non-decreasing second hop of a concave first
hop. So the best allocation over all families is where their marginal outputs are equal.

**The families share no pool.** A pool trades one pair, and the pairs of the families are
distinct: ``tokenIn/tokenOut`` for the direct pools, ``tokenIn/hub`` and ``hub/tokenOut``
for each hub, which is neither token of the order (two-hop paths only, so no pool serves
two hops or two hubs). Each pool is therefore quoted with exactly the flow that goes through
it, and no family's output depends on another's.

**How it is computed.** A pool's output is known at the amounts it was quoted at; between
them it is taken as the chord (:func:`segments`: the upper concave hull of the quoted points,
which a concave output is never below). The best split of an amount over several such
curves takes their segments steepest first, which is exact for piecewise-linear concave
curves (:class:`Merged`); a hub path's curve is its second hop's merged curve evaluated on
its first hop's, at every breakpoint of either. All families are merged once more, and the
amount is allocated down the steepest segments: marginal outputs are equalised, not
rationed in fixed chunks. Points quoted near the result (:func:`window`) make the chords
shorter where it matters, so a second pass lands closer to the true optimum (the router
quotes windows around each allocation, then quotes the allocation itself exactly). Past the
most a pool was quoted to fill its curve stops: a hub path stops :data:`HEADROOM` short of
what its second hop is known to take, since its first hop, quoted exactly, may pay more.

Amounts are integer base units throughout; a segment's slope is compared as a float only
to order segments, never to compute an amount.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, pairwise


def _hull(points: Mapping[int, int]) -> list[tuple[int, int]]:
    """Return the upper concave hull of the points and (0, 0), left to right, increasing.

    A point paying no more than the one before it is left out: a larger input is never
    worth less, and past the highest output the curve stops.
    """
    hull = [(0, 0)]
    for x in sorted(points):
        y = points[x]
        if x <= 0 or y <= hull[-1][1]:
            continue
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            # Drop the middle point when it lies on or below the chord from x1 to x.
            if (y2 - y1) * (x - x1) <= (y - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append((x, y))
    return hull


# A hub path stops 1/HEADROOM short of the most its second hop is known to take.
HEADROOM = 1_000

# A straight piece of some owner's curve: (-slope, dx, dy, owner); dx more input pays dy
# more output. The slope is a float, to order pieces only.
Segment = tuple[float, int, int, str]


Cache = dict[str, tuple[tuple[int, int], list[Segment]]]


def segments(owner: str, points: Mapping[int, int], cache: Cache | None = None) -> list[Segment]:
    """Return the pieces of the concave curve through the upper hull of the points.

    With a cache, an owner whose points are as many and pay as much in all as last time
    (no new quote) reuses its pieces.
    """
    if cache is not None:
        key = (len(points), sum(points.values()))
        held = cache.get(owner)
        if held is not None and held[0] == key:
            return held[1]
        pieces = segments(owner, points)
        cache[owner] = (key, pieces)
        return pieces
    hull = _hull(points)
    return [
        (-(y2 - y1) / (x2 - x1), x2 - x1, y2 - y1, owner) for (x1, y1), (x2, y2) in pairwise(hull)
    ]


class Merged:
    """The best split of any amount over several curves: their pieces, steepest first.

    Ties keep the order the pieces were given in (a stable sort).
    """

    __slots__ = ("dxs", "dys", "owners", "starts", "values")

    def __init__(self, pieces: Iterable[Segment]) -> None:
        ordered = sorted(pieces, key=lambda p: p[0])
        self.owners = [p[3] for p in ordered]
        self.dxs = [p[1] for p in ordered]
        self.dys = [p[2] for p in ordered]
        self.starts = [0, *accumulate(self.dxs)]
        self.values = [0, *accumulate(self.dys)]

    @classmethod
    def of(cls, curves: Mapping[str, Mapping[int, int]], cache: Cache | None = None) -> Merged:
        """Merge the curves of owners given by their quoted (input -> output) points."""
        return cls(p for owner, pts in curves.items() for p in segments(owner, pts, cache))

    @property
    def capacity(self) -> int:
        """Return the largest amount the curves can take together."""
        return self.starts[-1]

    def value(self, amount: int) -> int:
        """Return the output of the best split of amount (rounded down); amount <= capacity."""
        i = bisect_right(self.starts, amount) - 1
        if i >= len(self.dxs):
            return self.values[-1]
        return self.values[i] + self.dys[i] * (amount - self.starts[i]) // self.dxs[i]

    def slope(self, amount: int) -> float:
        """Return the marginal output at amount: the slope of the piece it falls in."""
        i = bisect_right(self.starts, amount) - 1
        return self.dys[i] / self.dxs[i] if i < len(self.dxs) else 0.0

    def allocation(self, amount: int) -> dict[str, int]:
        """Return each owner's input in the best split of amount; they add up to amount."""
        if amount > self.capacity:
            raise ValueError("the curves cannot take that much")
        out: dict[str, int] = {}
        left = amount
        for owner, dx in zip(self.owners, self.dxs, strict=True):
            if left <= 0:
                break
            take = min(left, dx)
            out[owner] = out.get(owner, 0) + take
            left -= take
        return out


@dataclass(frozen=True, slots=True)
class HubPath:
    """A hub family: its first hop's and second hop's merged curves."""

    hub: str
    first: Merged
    second: Merged

    def segments(self) -> list[Segment]:
        """Return the path's output as pieces of a curve of its input.

        At every input where either hop bends: the first hop's breakpoints, and where the
        first hop pays a breakpoint of the second (found in one pass, both increasing).
        """
        first, second = self.first, self.second
        # Headroom below what the second hop is known to take: the first hop, quoted exactly
        # at last, pays a little more than its chords say.
        cap = second.capacity - second.capacity // HEADROOM
        points: dict[int, int] = {}
        j = 1
        bends = second.starts
        for i in range(1, len(first.starts)):
            x0, y0, y1 = first.starts[i - 1], first.values[i - 1], first.values[i]
            while j < len(bends) and bends[j] < y1:
                m = bends[j]
                if m > y0 and m <= cap:
                    x = x0 + (m - y0) * first.dxs[i - 1] // first.dys[i - 1]
                    points[x] = second.value(first.value(x))
                j += 1
            if y1 > cap:
                if cap > y0:  # the last input whose middle the second hop still takes
                    x = x0 + (cap - y0) * first.dxs[i - 1] // first.dys[i - 1]
                    points[x] = second.value(first.value(x))
                break
            points[first.starts[i]] = second.value(y1)
        return segments(self.hub, points)


@dataclass(frozen=True, slots=True)
class Allocation:
    """How much each pool takes: direct pools, and per hub each hop's pools.

    ``middle`` is what the first hop of a hub is expected to pay out (from the curves);
    ``marginal`` what one more unit of input pays at the allocation, and
    ``second_marginal`` the same for one more unit of each hub through its second hop: a
    pool left out whose best rate is lower cannot take part in a better allocation.
    """

    direct: dict[str, int]
    first: dict[str, dict[str, int]]
    middle: dict[str, int]
    second: dict[str, dict[str, int]]
    expected_out: int
    marginal: float = 0.0
    second_marginal: dict[str, float] = field(default_factory=dict)

    def legs(self) -> int:
        """Return how many swaps the allocation takes."""
        return (
            len(self.direct)
            + sum(len(p) for p in self.first.values())
            + sum(len(p) for p in self.second.values())
        )


def solve(
    amount: int,
    direct: Mapping[str, Mapping[int, int]],
    hubs: Mapping[str, tuple[Mapping[str, Mapping[int, int]], Mapping[str, Mapping[int, int]]]],
    cache: Cache | None = None,
) -> Allocation | None:
    """Return the best allocation of amount over the families, or None when they cannot take it.

    ``direct`` maps each direct pool to its quoted points (input -> output); ``hubs`` maps
    each hub to its first hop's and second hop's pools with their points. Owners of the
    top-level merge are pool addresses and hub names, which cannot collide. A ``cache``
    kept between calls spares the pieces of pools that got no new quote.
    """
    pieces: list[Segment] = [p for pool, pts in direct.items() for p in segments(pool, pts, cache)]
    paths: dict[str, HubPath] = {}
    for hub, (first, second) in hubs.items():
        if not first or not second:
            continue
        path = HubPath(hub, Merged.of(first, cache), Merged.of(second, cache))
        paths[hub] = path
        pieces += path.segments()
    top = Merged(pieces)
    if amount <= 0 or top.capacity < amount:
        return None
    shares = top.allocation(amount)
    result = Allocation({}, {}, {}, {}, top.value(amount), top.slope(amount))
    for owner, share in shares.items():
        if share <= 0:
            continue
        through = paths.get(owner)
        if through is None:
            result.direct[owner] = share
            continue
        middle = through.first.value(share)
        if middle <= 0 or middle > through.second.capacity:
            return None
        result.first[owner] = {p: a for p, a in through.first.allocation(share).items() if a > 0}
        result.middle[owner] = middle
        result.second_marginal[owner] = through.second.slope(middle)
        result.second[owner] = {p: a for p, a in through.second.allocation(middle).items() if a > 0}
    return result


def split_exact(amount: int, curves: Mapping[str, Mapping[int, int]]) -> dict[str, int] | None:
    """Return the best split of exactly amount over one hop's pools, or None without pools.

    Past what the quoted points cover, the excess goes to the largest leg: the split is
    quoted exactly before it is used, so a pool that cannot take it drops the route then.
    """
    merged = Merged.of(curves)
    if amount <= 0 or merged.capacity <= 0:
        return None
    out = {p: a for p, a in merged.allocation(min(amount, merged.capacity)).items() if a > 0}
    if amount > merged.capacity:
        largest = max(out, key=lambda p: out[p])
        out[largest] += amount - merged.capacity
    return out


def window(center: int, step: int, points: int) -> list[int]:
    """Return the positive amounts ``center + i * step`` for i in -points..points."""
    if step <= 0:
        return [center] if center > 0 else []
    return [a for i in range(-points, points + 1) if (a := center + i * step) > 0]
