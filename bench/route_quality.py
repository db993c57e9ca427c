"""How close the router comes to the best allocation the pool math allows, and how fast.

Usage: ``python bench/route_quality.py [--seed S] [--grid N ...] [--repeat R]``. On the seeded
genesis market of the pure-Python pool models (the market of ``bench/route.py``), every
ordered pair of SOL, USDC, USDT, BONK, JUP and RAY at 15 sizes log-spaced from $1 to $10M
(450 cases): the router's output against an optimum computed here from the same pool math,
the shortfall in bps, the time of a route and the venue calls it took.

The optimum (:func:`optimum`) allocates the amount over every family a route can take:
each direct pool of the pair and, for each hub (SOL, USDC) that is not one of the pair, the
path through it with each hop split over its pools, all in one allocation. On a grid of N
equal chunks it is exact for concave outputs, by the same argument as the router's water
filling: each family's output at 1..N chunks is concave (a hub path's output is its first
hop's best split, itself found chunk by chunk, composed with its second hop's best split
on a grid of N chunks of the largest middle amount), and the chunks go one at a time to
the family that pays most for the next one. The allocation found is then quoted exactly,
leg by leg (the second hop spends exactly what the first pays out), so the optimum is an
output the pools really pay, never an estimate. It runs at each grid of ``--grid`` (1: the
best single family, 20, 1,000 = 0.1 % and 4,000 = 0.025 % by default) and keeps the best,
so it is at least as good as the 0.1 % grid (on small orders the coarse grids win: a
chunk of 0.1 % of $1 pays a fee rounded up to a base unit of its own).

The shortfall is ``(optimum - router) / optimum`` in bps, negative when the router beats
the optimum. Route times are the median of ``--repeat`` runs of each case, in CPU time of
the routing thread (the router and the in-process venues; no venue here waits on I/O), so
that other processes sharing the machine do not inflate them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from eterna.domain.errors import NoRouteError
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, Token
from eterna.routing import joint
from eterna.routing.router import Router
from eterna.routing.router import RoutingDecision as Decision
from tests.support.genesis import REFERENCE_USD, genesis_market
from tests.support.market import ModelMarket
from tests.support.venue import ModelVenue

TOKENS = (SOL, USDC, USDT, BONK, JUP, RAY)
HUBS = (SOL, USDC)
SIZES_USD = tuple(Decimal(10) ** (Decimal(7 * i) / 14) for i in range(15))


@dataclass(frozen=True, slots=True)
class Case:
    """One order of the grid: the pair, its USD size and its amount in base units."""

    token_in: Token
    token_out: Token
    usd: Decimal
    units: int


def cases() -> list[Case]:
    """Return every ordered pair at every size."""
    out = []
    for a in TOKENS:
        for b in TOKENS:
            if a == b:
                continue
            for usd in SIZES_USD:
                price = Decimal(REFERENCE_USD[a].numerator) / REFERENCE_USD[a].denominator
                units = int(usd / price * 10**a.decimals)
                out.append(Case(a, b, usd, max(units, 1)))
    return out


class Pools:
    """Exact quotes of the market's pools by pair, straight from the pool math."""

    def __init__(self, market: ModelMarket) -> None:
        self._market = market

    def of(self, a: Token, b: Token) -> list[str]:
        """Return the addresses of the pools trading a for b, sorted."""
        return sorted(
            p.address for p in self._market.pools() if p.direction(a.mint, b.mint) is not None
        )

    def outputs(self, pool: str, token_in: Token, amounts: Sequence[int]) -> list[int | None]:
        """Return what the pool pays for each amount (None where it cannot fill it)."""
        positive = [a for a in amounts if a > 0]
        answers = iter(
            self._market.quote_amounts(pool, token_in.mint, positive) if positive else []
        )
        paid: list[int | None] = []
        for amount in amounts:
            if amount <= 0:
                paid.append(0)
                continue
            answer = next(answers)
            paid.append(None if answer is None else answer[0].amount_out)
        return paid


def _grid(total: int, n: int) -> list[int]:
    """Return the inputs for 0..n chunks of total: multiples of total // n, then total."""
    step = total // n
    return [0, *(step * k for k in range(1, n)), total]


def _greedy(curves: Sequence[Sequence[int | None]], n: int) -> list[list[int]]:
    """Water-fill n chunks over concave curves; return the counts after each chunk.

    ``curves[i][k]`` is what family i pays for k chunks (``curves[i][0] == 0``), None past
    what it can fill. ``result[k]`` is the best allocation of k chunks (empty past the
    chunks the families can absorb).
    """
    counts = [0] * len(curves)
    history = [list(counts)]
    for _ in range(n):
        best, choice = -1, -1
        for i, curve in enumerate(curves):
            k = counts[i]
            nxt = curve[k + 1] if k + 1 < len(curve) else None
            if nxt is None:
                continue
            gain = nxt - (curve[k] or 0)
            if gain > best:
                best, choice = gain, i
        if choice < 0:
            break
        counts[choice] += 1
        history.append(list(counts))
    return history


def _value(curves: Sequence[Sequence[int | None]], counts: Sequence[int]) -> int:
    return sum(curve[k] or 0 for curve, k in zip(curves, counts, strict=True))


@dataclass(frozen=True, slots=True)
class HubPath:
    """A hub family on the grid: its output per chunk and how to split each hop."""

    hub: Token
    first: list[str]
    second: list[str]
    first_history: list[list[int]]
    second_history: list[list[int]]
    second_step: int
    curve: list[int | None]


def _hub_path(pools: Pools, case: Case, hub: Token, n: int) -> HubPath | None:
    first, second = pools.of(case.token_in, hub), pools.of(hub, case.token_out)
    if not first or not second:
        return None
    grid = _grid(case.units, n)
    first_curves = [pools.outputs(p, case.token_in, grid) for p in first]
    first_history = _greedy(first_curves, n)
    middles = [_value(first_curves, counts) for counts in first_history]
    top = middles[-1]
    if top <= 0:
        return None
    grid2 = _grid(top, n)
    second_curves = [pools.outputs(p, hub, grid2) for p in second]
    second_history = _greedy(second_curves, n)
    second_values = [_value(second_curves, counts) for counts in second_history]
    step2 = max(top // n, 1)
    curve: list[int | None] = []
    last = len(second_values) - 1
    for m in middles:
        # What the second hop pays for m: the best splits at the grid points around it,
        # interpolated (a lower bound for a concave output; the allocation finally chosen
        # is quoted exactly).
        k = m // step2
        if k >= last:
            curve.append(second_values[last] if m <= top and last == n else None)
            continue
        low, high = second_values[k], second_values[k + 1]
        curve.append(low + (high - low) * (m - k * step2) // step2)
    if len(first_history) < n + 1:
        curve += [None] * (n + 1 - len(first_history))
    return HubPath(hub, first, second, first_history, second_history, step2, curve)


def _split_exact(
    pools: Pools,
    *,
    token_in: Token,
    names: Sequence[str],
    counts: Sequence[int],
    step: int,
    total: int,
) -> int | None:
    """Quote the split of total with counts chunks of step per pool, leftover to the largest."""
    if total <= 0:
        return 0
    if sum(counts) == 0:
        counts = [1 if i == 0 else 0 for i in range(len(names))]
    amounts = [k * step for k in counts]
    largest = max(range(len(counts)), key=lambda i: counts[i])
    amounts[largest] += total - sum(amounts)
    out = 0
    for name, amount in zip(names, amounts, strict=True):
        if amount <= 0:
            continue
        (paid,) = pools.outputs(name, token_in, [amount])
        if paid is None:
            return None
        out += paid
    return out


def optimum(pools: Pools, case: Case, n: int) -> int | None:
    """Return the output of the best allocation on a grid of n chunks, quoted exactly."""
    direct = pools.of(case.token_in, case.token_out)
    grid = _grid(case.units, n)
    curves: list[list[int | None]] = [pools.outputs(p, case.token_in, grid) for p in direct]
    for curve in curves:
        curve[0] = 0
    hubs = [
        path
        for hub in HUBS
        if hub not in (case.token_in, case.token_out)
        and (path := _hub_path(pools, case, hub, n)) is not None
    ]
    curves += [path.curve for path in hubs]
    history = _greedy(curves, n)
    if len(history) < n + 1:
        return None
    counts = history[-1]
    step = case.units // n
    # Every family's input, the rounding leftover to the family with most chunks.
    inputs = [k * step for k in counts]
    inputs[max(range(len(counts)), key=lambda i: counts[i])] += case.units - sum(inputs)
    total = 0
    for name, amount in zip(direct, inputs, strict=False):
        if amount > 0:
            (paid,) = pools.outputs(name, case.token_in, [amount])
            if paid is None:
                return None
            total += paid
    for index, path in enumerate(hubs, start=len(direct)):
        amount = inputs[index]
        if amount <= 0:
            continue
        first_counts = path.first_history[min(counts[index], len(path.first_history) - 1)]
        middle = _split_exact(
            pools,
            token_in=case.token_in,
            names=path.first,
            counts=first_counts,
            step=step,
            total=amount,
        )
        if middle is None:
            return None
        k2 = min(middle // path.second_step, len(path.second_history) - 1)
        paid = _split_exact(
            pools,
            token_in=path.hub,
            names=path.second,
            counts=path.second_history[k2],
            step=path.second_step,
            total=middle,
        )
        if paid is None:
            return None
        total += paid
    return total


def _points(pools: Pools, pool: str, token_in: Token, amounts: Sequence[int]) -> dict[int, int]:
    paid = pools.outputs(pool, token_in, amounts)
    return {a: out for a, out in zip(amounts, paid, strict=True) if out is not None and a > 0}


def _pay(pools: Pools, token_in: Token, split: dict[str, int]) -> int | None:
    total = 0
    for pool, amount in split.items():
        (paid,) = pools.outputs(pool, token_in, [amount])
        if paid is None:
            return None
        total += paid
    return total


def marginal_optimum(pools: Pools, case: Case, n: int) -> int | None:
    """Return the output of the allocation that equalises marginal outputs, quoted exactly.

    Every pool's output is taken as the chords between n equally spaced quotes (of the
    amount, or for a second hop of the most its first hop can pay out); the allocation
    over every family then follows the steepest pieces first
    (:func:`eterna.routing.joint.solve`), which is exact for those chords. The allocation
    is quoted leg by leg, each second hop splitting exactly what its first hop paid.
    """
    grid = _grid(case.units, n)[1:]
    direct = {
        p: _points(pools, p, case.token_in, grid) for p in pools.of(case.token_in, case.token_out)
    }
    hubs: dict[str, tuple[dict[str, dict[int, int]], dict[str, dict[int, int]]]] = {}
    tokens = {}
    for hub in HUBS:
        if hub in (case.token_in, case.token_out):
            continue
        first = {p: _points(pools, p, case.token_in, grid) for p in pools.of(case.token_in, hub)}
        top = joint.Merged.of(first).values[-1]
        if not first or top <= 0:
            continue
        grid2 = _grid(top, n)[1:]
        second = {p: _points(pools, p, hub, grid2) for p in pools.of(hub, case.token_out)}
        hubs[hub.mint] = (first, second)
        tokens[hub.mint] = hub
    alloc = joint.solve(case.units, direct, hubs)
    if alloc is None:
        return None
    total = _pay(pools, case.token_in, alloc.direct)
    for mint, split in alloc.first.items():
        middle = _pay(pools, case.token_in, split)
        onward = None if middle is None else joint.split_exact(middle, hubs[mint][1])
        paid = None if onward is None else _pay(pools, tokens[mint], onward)
        if total is None or paid is None:
            return None
        total += paid
    return total


def _percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _dist(label: str, samples: Sequence[float]) -> str:
    if not samples:
        return f"{label:<16} no cases"
    return (
        f"{label:<16} {len(samples):>4} cases  p50 {_percentile(samples, 0.5):9.3f}  "
        f"p99 {_percentile(samples, 0.99):9.3f}  max {max(samples):9.3f} bps"
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One routed case: its shortfall in bps, venue calls, route time and route kind."""

    case: Case
    shortfall: float
    calls: int
    seconds: float
    kind: str


async def _route(router: Router, case: Case, repeat: int) -> tuple[Decision | None, float]:
    """Route the case repeat times; return the decision and the median time."""
    amount = case.token_in.from_base_units(case.units)
    took = []
    decision = None
    for _ in range(repeat):
        t0 = time.thread_time()
        try:
            decision = await router.route(case.token_in, case.token_out, amount, slippage_bps=50)
        except NoRouteError:
            decision = None
        took.append(time.thread_time() - t0)
    return decision, statistics.median(took)


def _best(pools: Pools, case: Case, grids: Sequence[int], chords: int) -> tuple[int | None, str]:
    """Return the best optimum over the grids and the marginal one, and which found it."""
    best: int | None = None
    best_by = ""
    tries = [(f"grid {n}", optimum, n) for n in grids]
    if chords:
        tries.append((f"marginal {chords}", marginal_optimum, chords))
    for name, method, n in tries:
        value = method(pools, case, n)
        if value is not None and (best is None or value > best):
            best, best_by = value, name
    return best, best_by


def _report(rows: Sequence[Row], times: Sequence[float], worst: int) -> None:
    print("shortfall against the optimum:")
    print(_dist("all", [r.shortfall for r in rows]))
    print(_dist("<= $1M", [r.shortfall for r in rows if r.case.usd <= 1_000_001]))
    print(_dist("~ $1M", [r.shortfall for r in rows if 999_999 <= r.case.usd <= 1_000_001]))
    print(_dist("> $1M", [r.shortfall for r in rows if r.case.usd > 1_000_001]))
    beaten = [-r.shortfall for r in rows if r.shortfall < 0]
    if beaten:
        print(f"router above the optimum in {len(beaten)} cases, by at most {max(beaten):.3f} bps")
    print(
        f"route time: p50 {_percentile(times, 0.5) * 1000:.2f} ms  "
        f"p99 {_percentile(times, 0.99) * 1000:.2f} ms  max {max(times) * 1000:.2f} ms"
    )
    calls = [r.calls for r in rows]
    print(f"venue calls per route: mean {statistics.mean(calls):.1f}, max {max(calls)}")
    print(f"worst {worst} cases:")
    for r in sorted(rows, key=lambda r: -r.shortfall)[:worst]:
        print(
            f"  {r.case.token_in.label:>4} -> {r.case.token_out.label:<4} ${r.case.usd:>12,.0f}"
            f"  {r.shortfall:9.2f} bps  {r.kind:<8} {r.calls} calls {r.seconds * 1000:6.2f} ms"
        )


async def run(args: argparse.Namespace) -> None:
    """Route every case, compute its optimum and print the figures."""
    seed, grids, repeat, worst = args.seed, args.grid, args.repeat, args.worst
    market = genesis_market(seed, slot_ms=0)
    router = Router(
        [ModelVenue(market, venue) for venue in market.venues()],
        **({} if args.refinements is None else {"refinements": args.refinements}),
        **({} if args.window is None else {"window": args.window}),
    )
    pools = Pools(market)
    all_cases = cases()
    rows: list[Row] = []
    times: list[float] = []
    unrouted = 0
    wins: dict[str, int] = {}
    started = reported = time.perf_counter()
    for i, case in enumerate(all_cases):
        if time.perf_counter() - reported >= 5:
            reported = time.perf_counter()
            print(f"{i}/{len(all_cases)} cases", flush=True)
        decision, seconds = await _route(router, case, repeat)
        times.append(seconds)
        best, by = _best(pools, case, grids, args.chords)
        wins[by] = wins.get(by, 0) + 1
        if decision is None:
            unrouted += best is not None
            continue
        if best is None or best <= 0:
            continue
        got = case.token_out.to_base_units(decision.route.amount_out)
        shortfall = float(Fraction(best - got, best) * 10_000)
        kind = decision.route.kind.value
        rows.append(Row(case, shortfall, decision.venue_calls, seconds, kind))
    print(
        f"seed {seed}: {len(market.pools())} pools; optimum on grids {list(grids)}"
        f" and marginal on {args.chords} chords"
    )
    print(
        f"{len(all_cases)} cases in {time.perf_counter() - started:.1f} s; "
        f"{len(rows)} routed, {unrouted} the optimum fills but the router did not; "
        "the optimum found by "
        + ", ".join(f"{by}: {n}" for by, n in sorted(wins.items()))
        + " cases"
    )
    _report(rows, times, worst)


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=7, help="seed of the pool models")
    parser.add_argument(
        "--grid", type=int, nargs="+", default=[1, 20, 1_000, 4_000], help="grids of the optimum"
    )
    parser.add_argument(
        "--chords",
        type=int,
        default=2_000,
        help="quotes per pool of the marginal optimum (0: none)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="routes per case, median time")
    parser.add_argument("--worst", type=int, default=10, help="worst cases to list")
    parser.add_argument("--refinements", type=int, help="the router's (default: its own)")
    parser.add_argument("--window", type=int, help="the router's (default: its own)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
