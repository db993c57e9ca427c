"""Summarise py-spy collapsed stacks (``py-spy record --format raw``): where the CPU goes.

Prints, for each file: the share of samples by package of the innermost frame (self time),
the top functions by self time, and the top functions by inclusive time (the function or
anything it calls).

py-spy counts a process whenever it is runnable, also while it waits for a core: on a busy
two-core machine those samples pile up on socket writes (the kernel switches to the woken
peer there) and, under uvloop, on the native event loop (``Runner.run``). By default such
innermost frames are set apart and the tables show the rest (``--keep-waits`` keeps them);
compare with the process's system CPU time (/proc/<pid>/stat) to see how much is real.

Run:  .venv/bin/python bench/pyspy_summary.py /tmp/prof/api0.txt /tmp/prof/worker0.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

WAIT_LEAVES = re.compile(
    r"^(_SelectorSocketTransport\.write|StreamWriter\.writelines|WriteTransport\.writelines"
    r"|WebSocketsSansIOProtocol\.send|Runner\.run|EpollSelector\.select) "
)
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")


def split_frame(frame: str) -> tuple[str, str]:
    """Return (function, file) of a frame ``func (path/file.py:line)``."""
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), "?"
    return match["func"], match["file"]


def package_of(path: str) -> str:
    """Return the top package (or stdlib module) a frame's file belongs to."""
    if path.startswith("<"):
        return path
    first = path.split("/", 1)[0]
    return first.removesuffix(".py")


def load(path: Path) -> list[tuple[list[str], int]]:
    """Read the collapsed stacks of one file."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def set_apart_waits(
    stacks: list[tuple[list[str], int]],
) -> tuple[list[tuple[list[str], int]], Counter[str]]:
    """Split off the samples whose innermost frame is a socket write or the native loop."""
    waits: Counter[str] = Counter()
    kept = []
    for frames, count in stacks:
        if WAIT_LEAVES.match(frames[-1]):
            waits[split_frame(frames[-1])[0]] += count
        else:
            kept.append((frames, count))
    return kept, waits


def tally(
    stacks: list[tuple[list[str], int]],
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Return samples by package (self), by function (self) and by function (inclusive)."""
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        func, file = split_frame(frames[-1])
        by_package[package_of(file)] += count
        self_time[f"{func} ({file})"] += count
        seen: set[str] = set()
        for frame in frames:
            f, fl = split_frame(frame)
            key = f"{f} ({fl.rsplit(':', 1)[0]})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
    return by_package, self_time, inclusive


def summarise(path: Path, top: int, *, keep_waits: bool = False) -> None:
    """Print the tables of one profile."""
    stacks = load(path)
    everything = sum(c for _, c in stacks)
    waits: Counter[str] = Counter()
    if not keep_waits:
        stacks, waits = set_apart_waits(stacks)
    total = sum(c for _, c in stacks)
    if not total:
        print(f"{path}: no samples")
        return
    by_package, self_time, inclusive = tally(stacks)

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    print(f"\n=== {path} ({everything} samples) ===")
    if waits:
        parts = ", ".join(f"{k} {100 * v / everything:.1f}%" for k, v in waits.most_common())
        print(
            f"set apart: {100 * sum(waits.values()) / everything:.1f}% of the samples, at "
            f"socket writes or in the native loop ({parts}); the shares below are of the rest"
        )
    print("\n-- self time by package --")
    for name, n in by_package.most_common(top):
        print(f"{pct(n)}  {name}")
    print("\n-- top functions, self time --")
    for name, n in self_time.most_common(top):
        print(f"{pct(n)}  {name}")
    print("\n-- top functions, inclusive time (skipping the event loop and runners) --")
    skip = ("asyncio/", "<frozen", "eterna/__main__", "eterna/cli.py", "uvicorn/", "<module>")
    rows = [(k, n) for k, n in inclusive.most_common() if not any(s in k for s in skip)]
    for name, n in rows[:top]:
        print(f"{pct(n)}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("files", nargs="+", type=Path, help="py-spy raw (collapsed) files")
    parser.add_argument("--top", type=int, default=25, help="rows per table (25)")
    parser.add_argument(
        "--keep-waits", action="store_true", help="keep samples at socket writes in the tables"
    )
    args = parser.parse_args()
    for path in args.files:
        summarise(path, args.top, keep_waits=args.keep_waits)


if __name__ == "__main__":
    main()
