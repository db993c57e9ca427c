"""Per-user lanes: each user's order kept, users served in turn."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from eterna.core.fair_queue import FairQueue

users = st.sampled_from(["a", "b", "c", "d"])
pushes = st.lists(users, min_size=1, max_size=60)
batches = st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=60)


def _queue(owners: list[str]) -> FairQueue[int]:
    queue: FairQueue[int] = FairQueue()
    queue.push((user, i) for i, user in enumerate(owners))
    return queue


def _drain(queue: FairQueue[int], sizes: list[int]) -> list[tuple[str, int]]:
    taken: list[tuple[str, int]] = []
    turn = 0
    while queue:
        taken += queue.pop(sizes[turn % len(sizes)])
        turn += 1
    return taken


@given(pushes, batches)
def test_every_item_comes_out_once_and_each_users_in_order(
    owners: list[str], sizes: list[int]
) -> None:
    taken = _drain(_queue(owners), sizes)
    assert sorted(i for _, i in taken) == list(range(len(owners)))
    for user in set(owners):
        mine = [i for u, i in taken if u == user]
        assert mine == sorted(mine)
        assert all(owners[i] == user for i in mine)


@given(pushes, batches)
def test_users_with_work_are_served_in_turn(owners: list[str], sizes: list[int]) -> None:
    """While two users both still have work, neither gets two items ahead of the other."""
    totals = Counter(owners)
    taken = _drain(_queue(owners), sizes)
    served: Counter[str] = Counter()
    for user, _ in taken:
        served[user] += 1
        busy = [u for u in totals if served[u] < totals[u] or u == user]
        for other in busy:
            if served[other] < totals[other]:
                assert served[user] - served[other] <= 1


def test_a_flood_delays_another_user_by_one_item() -> None:
    queue = _queue(["flood"] * 1_000)
    queue.push([("other", 1_000)])
    first = queue.pop(2)
    assert [u for u, _ in first] == ["flood", "other"]


def test_items_handed_back_come_out_first_in_their_order() -> None:
    queue = _queue(["a", "a", "b"])
    taken = queue.pop(3)
    assert taken == [("a", 0), ("b", 2), ("a", 1)]
    queue.push([("a", 9)])
    queue.push_front(taken)
    assert len(queue) == 4
    assert queue.lane("a") == 3
    assert _drain(queue, [1]) == [("a", 0), ("b", 2), ("a", 1), ("a", 9)]
    assert queue.users() == []
