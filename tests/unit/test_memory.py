"""When the API collects and releases memory after connections close, and how its GC is set."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from eterna.adapters.web.memory import (
    FULL_COLLECTION_THRESHOLD,
    TrimAfterClosing,
    release_free_memory,
    tune_collector,
)


def _checks(counts: list[int], **options: int) -> list[bool]:
    """Return, for each count of open connections in turn, whether the check released."""
    feed = iter(counts)
    released: list[int] = []

    def release() -> bool:
        released.append(1)
        return True

    trimmer = TrimAfterClosing(lambda: next(feed), release=release, **options)
    outcomes = [trimmer.check() for _ in counts]
    assert len(released) == sum(outcomes)
    return outcomes


def test_a_settled_fall_is_collected_and_released_twice() -> None:
    outcomes = _checks([0, 1000, 600, 0, 0, 0, 0], drop=256, after=2)
    assert outcomes == [False, False, False, False, True, True, False]


def test_nothing_runs_while_connections_come_back() -> None:
    outcomes = _checks([1000, 0, 800, 800, 0, 0, 0, 0], drop=256, after=2)
    assert outcomes == [False, False, False, False, False, True, True, False]


def test_a_steady_or_slowly_changing_population_never_causes_a_release() -> None:
    assert not any(_checks([500, 450, 520, 400, 480, 300, 310], drop=256))


def test_free_memory_is_released_where_glibc_is() -> None:
    assert release_free_memory()


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_full_collections_wait_for_a_thousand_young_ones(
    thresholds: tuple[int, int, int],
) -> None:
    tune_collector()
    assert gc.get_threshold() == (thresholds[0], thresholds[1], FULL_COLLECTION_THRESHOLD)
