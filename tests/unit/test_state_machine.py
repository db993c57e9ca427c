import itertools

import pytest

from eterna.domain.errors import InvalidTransitionError
from eterna.domain.orders import TERMINAL_STATUSES, OrderStatus
from eterna.domain.state_machine import TRANSITIONS, Trigger, can_apply, next_status

S = OrderStatus
T = Trigger

EXPECTED = {
    (S.PENDING, T.REST): S.WAITING,
    (S.PENDING, T.ROUTE): S.ROUTING,
    (S.PENDING, T.RETRY): S.PENDING,
    (S.PENDING, T.FAIL): S.FAILED,
    (S.PENDING, T.CANCEL): S.CANCELLED,
    (S.PENDING, T.EXPIRE): S.EXPIRED,
    (S.PENDING, T.FIRE): S.PENDING,
    (S.WAITING, T.ROUTE): S.ROUTING,
    (S.WAITING, T.FIRE): S.PENDING,
    (S.WAITING, T.CANCEL): S.CANCELLED,
    (S.WAITING, T.EXPIRE): S.EXPIRED,
    (S.WAITING, T.FAIL): S.FAILED,
    (S.WAITING, T.PROGRESS): S.WAITING,
    (S.WAITING, T.COMPLETE): S.CONFIRMED,
    (S.ROUTING, T.BUILD): S.BUILDING,
    (S.ROUTING, T.REST): S.WAITING,
    (S.ROUTING, T.RETRY): S.PENDING,
    (S.ROUTING, T.FAIL): S.FAILED,
    (S.BUILDING, T.SUBMIT): S.SUBMITTED,
    (S.BUILDING, T.RETRY): S.PENDING,
    (S.BUILDING, T.FAIL): S.FAILED,
    (S.BUILDING, T.SIMULATE): S.CONFIRMED,
    (S.SUBMITTED, T.CONFIRM): S.CONFIRMED,
    (S.SUBMITTED, T.FILL): S.WAITING,
    (S.SUBMITTED, T.REST): S.WAITING,
    (S.SUBMITTED, T.RETRY): S.PENDING,
    (S.SUBMITTED, T.FAIL): S.FAILED,
}


@pytest.mark.parametrize(("status", "trigger"), list(itertools.product(S, T)))
def test_every_status_trigger_pair_follows_the_table(status: S, trigger: T) -> None:
    expected = EXPECTED.get((status, trigger))
    assert can_apply(status, trigger) is (expected is not None)
    if expected is None:
        with pytest.raises(InvalidTransitionError):
            next_status(status, trigger)
    else:
        assert next_status(status, trigger) is expected


def test_table_has_no_entry_beyond_the_reviewed_set() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_terminal_statuses_have_no_way_out() -> None:
    for status, trigger in itertools.product(TERMINAL_STATUSES, T):
        assert not can_apply(status, trigger)


def test_market_happy_path_walks_pending_to_confirmed() -> None:
    status = S.PENDING
    for trigger in (T.ROUTE, T.BUILD, T.SUBMIT, T.CONFIRM):
        status = next_status(status, trigger)
    assert status is S.CONFIRMED
    assert status.is_terminal


def test_limit_rests_fires_and_is_routed_like_a_market_order() -> None:
    status = S.PENDING
    for trigger in (T.REST, T.FIRE, T.ROUTE, T.BUILD, T.SUBMIT, T.CONFIRM):
        status = next_status(status, trigger)
    assert status is S.CONFIRMED


def test_only_a_resting_or_not_yet_looked_at_order_can_fire() -> None:
    # PENDING: an OCO leg whose trigger holds on the worker's first look fires before routing.
    assert [s for s in S if can_apply(s, T.FIRE)] == [S.PENDING, S.WAITING]
    assert next_status(S.PENDING, T.FIRE) is S.PENDING
