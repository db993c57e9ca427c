"""Split an exact input across pools: greedy water-filling over a grid of equal chunks.

The amount is cut into ``k`` chunks of ``q = amount // k`` base units (the grid point for all
``k`` chunks is the whole amount). Each pool is quoted at every grid point, which gives its
output for 1..k chunks; then, chunk by chunk, the next chunk goes to the pool whose output
grows most by taking it (its marginal gain). The rounding remainder ``amount - k·q`` joins
the largest leg; the ladder of quoted amounts includes those sums too, so every leg of the
result is quoted in the same round and no further call is needed.

Why this is optimal on the grid: an AMM's output is concave in its input (each further unit
fills at a worse price), so a pool's marginal gains never increase. An allocation of
``n_P`` chunks to each pool is worth the sum of the first ``n_P`` marginal gains of each pool,
so no allocation can beat the sum of the ``k`` largest gains over all pools; because every
pool's gains are sorted, the greedy takes exactly those ``k`` and reaches that bound. Integer
rounding can break concavity by a base unit or two per chunk, which bounds how far from the
grid optimum the result can be. The finer the grid, the closer the optimum over real
allocations (``k = 20`` is Uniswap's ``distributionPercent: 5``).

A pool appears at most once in a split: swapping through a pool changes its state, so two
legs through one pool would not pay what they were quoted apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_CHUNKS = 20


def points(amount: int, chunks: int) -> tuple[int, ...]:
    """Return the input for 1..chunks chunks: multiples of amount // chunks, then amount.

    A single point (the whole amount) when a chunk would be smaller than one base unit.
    """
    step = amount // chunks
    if step <= 0:
        return (amount,)
    return (*(step * n for n in range(1, chunks)), amount)


def ladder(amount: int, chunks: int) -> tuple[int, ...]:
    """Return every amount a leg of a split can get: the points, and each plus the remainder.

    Quoting these ahead means every leg :func:`leg_amounts` hands out is already quoted.
    """
    step, remainder = divmod(amount, chunks)
    if step <= 0:
        return (amount,)
    extra = (step * n + remainder for n in range(1, chunks)) if remainder else ()
    return tuple(sorted({*points(amount, chunks), *extra}))


def allocate(outputs: Mapping[str, Sequence[int | None]], chunks: int) -> dict[str, int]:
    """Give each of chunks chunks to the pool with the best marginal output; return the counts.

    ``outputs[pool][n - 1]`` is what the pool pays for n chunks, None when it cannot fill
    them. A pool that gets no chunk is left out; ties go to a pool already in the split (one
    leg fewer), then to the pool listed first. Empty when the pools cannot absorb every chunk.
    """
    taken = dict.fromkeys(outputs, 0)
    for _ in range(chunks):
        best: tuple[int, bool] | None = None
        choice: str | None = None
        for pool, paid in outputs.items():
            n = taken[pool]
            after = paid[n] if n < len(paid) else None
            if after is None:
                continue
            gain = after - ((paid[n - 1] or 0) if n else 0)
            key = (gain, n > 0)
            if best is None or key > best:
                best, choice = key, pool
        if choice is None:
            return {}
        taken[choice] += 1
    return {pool: n for pool, n in taken.items() if n > 0}


def leg_amounts(amount: int, allocation: Mapping[str, int], chunks: int) -> dict[str, int]:
    """Return each pool's input for the allocation; they add up to exactly amount.

    Every pool gets its chunks' worth, ``n · (amount // chunks)``; the rounding remainder
    (under ``chunks`` base units) goes to the pool with the most chunks, so every amount is
    on the :func:`ladder`.
    """
    if sum(allocation.values()) != chunks:
        raise ValueError("the allocation must hand out every chunk")
    step = amount // chunks
    amounts = {pool: n * step for pool, n in allocation.items()}
    largest = max(allocation, key=lambda pool: allocation[pool])
    amounts[largest] += amount - sum(amounts.values())
    return amounts
