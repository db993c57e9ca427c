"""Order list cursors: whatever a client sends back is a valid position or INVALID_INPUT."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eterna.application.ports import OrderCursor
from eterna.application.service import decode_cursor
from eterna.domain.errors import RejectedError, RejectionCode


def _decoded(cursor: str) -> OrderCursor | RejectionCode:
    """Return the decoded cursor, or the code of its refusal."""
    try:
        return decode_cursor(cursor)
    except RejectedError as exc:
        return exc.code


def _forge(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


ORDER_ID = "0b5e8f8e-7f6a-4a53-9a55-3c1de1a4b0f1"


@pytest.mark.parametrize(
    "raw",
    [
        f"0001-01-01T00:00:00+14:00|{ORDER_ID}",  # before year 1 in UTC
        f"9999-12-31T23:59:59-14:00|{ORDER_ID}",  # after year 9999 in UTC
        f"2030-01-01T00:00:00+24:00|{ORDER_ID}",  # an offset of a day or more
        f"2030-01-01T00:00:00|{ORDER_ID}",  # no offset
        f"0000-01-01T00:00:00+00:00|{ORDER_ID}",
        f"2030-02-30T00:00:00+00:00|{ORDER_ID}",
        "2030-01-01T00:00:00+00:00|not-a-uuid",
        "2030-01-01T00:00:00+00:00",
        "",
        b"\xff\xfe|\x00",
    ],
    ids=repr,
)
def test_a_forged_cursor_that_is_no_position_is_invalid_input(raw: str | bytes) -> None:
    with pytest.raises(RejectedError) as refused:
        decode_cursor(_forge(raw))
    assert (refused.value.code, refused.value.field) == (RejectionCode.INVALID_INPUT, "after")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"0001-01-01T00:00:00-14:00|{ORDER_ID}", datetime(1, 1, 1, 14, tzinfo=UTC)),
        (f"9999-12-31T23:59:59+00:00|{ORDER_ID}", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (f"2030-01-01T02:00:00+02:00|{ORDER_ID}", datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_cursor_at_the_limits_is_read_in_utc(raw: str, expected: datetime) -> None:
    cursor = decode_cursor(_forge(raw))
    assert cursor.created_at == expected
    assert cursor.created_at.utcoffset() == timedelta(0)
    assert cursor.order_id == uuid.UUID(ORDER_ID)


# Whole minutes, as real offsets are (and as ``isoformat`` and ``fromisoformat`` agree on).
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))


@given(
    at=st.datetimes(),
    offset=offsets,
    order_id=st.uuids(),
)
def test_any_dated_cursor_decodes_to_utc_or_is_invalid_input(
    at: datetime, offset: timedelta, order_id: uuid.UUID
) -> None:
    raw = f"{at.replace(tzinfo=timezone(offset)).isoformat()}|{order_id}"
    cursor = _decoded(_forge(raw))
    if isinstance(cursor, RejectionCode):
        assert cursor is RejectionCode.INVALID_INPUT
    else:
        assert cursor.created_at.tzinfo is UTC
        assert cursor.created_at == at.replace(tzinfo=timezone(offset))


@given(text=st.text(max_size=80) | st.binary(max_size=80).map(_forge))
def test_any_text_decodes_or_is_invalid_input(text: str) -> None:
    cursor = _decoded(text)
    if isinstance(cursor, RejectionCode):
        assert cursor is RejectionCode.INVALID_INPUT
    else:
        assert cursor.created_at.tzinfo is UTC
