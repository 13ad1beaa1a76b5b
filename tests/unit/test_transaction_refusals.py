"""Which domain failure a refused condition of the booking transaction means (repositories/bookings.py `refusal`).
tests/integration/test_transaction_refusals.py checks, against the server, that the reasons reach the right items."""

from __future__ import annotations

import pytest

from booking_core.domain.abuse import RateWindow
from booking_core.ports import (
    AlreadySeated,
    DuplicateBooking,
    LimitReached,
    PaymentAlreadySettled,
    RateLimited,
    SeatsFull,
    SeatSlotOpened,
    SlotTaken,
    StaleBooking,
    StaleReservation,
)
from booking_core.repositories.bookings import Part, refusal

WINDOW = RateWindow("ip", "198.51.100.7", 10, 0, 60)

EXPECTED = {
    Part.SEAT_OPEN: SeatSlotOpened,
    Part.LOCK: SlotTaken,
    Part.RESERVATION: StaleReservation,
    Part.RESERVATION_LOCK: StaleReservation,
    Part.SEAT_GUARD: AlreadySeated,
    Part.SEAT_JOIN: SeatsFull,
    Part.DUPLICATE: DuplicateBooking,
    Part.PAYMENT: PaymentAlreadySettled,
    Part.LIMIT: LimitReached,
    Part.RATE: RateLimited,
    Part.BOOKING: StaleBooking,
    Part.VERSION: StaleBooking,
    Part.HOST_BOOKING: StaleBooking,
    Part.RELEASE_LOCK: StaleBooking,
    Part.RELEASE_GUARD: StaleBooking,
    Part.SEAT: StaleBooking,
    Part.SEAT_LEAVE: StaleBooking,
}
INFO = {Part.LOCK: 4, Part.LIMIT: "7#day#2026-01-01", Part.RATE: WINDOW}


@pytest.mark.parametrize("part", list(EXPECTED), ids=lambda part: part.value)
def test_each_kind_of_item_reports_its_own_failure(part):
    assert type(refusal([(part, INFO.get(part))])) is EXPECTED[part]


def test_the_failure_carries_what_the_caller_needs():
    taken = refusal([(Part.LOCK, 4), (Part.LOCK, 9), (Part.LOCK, 4)])
    assert isinstance(taken, SlotTaken) and taken.host_ids == {4, 9}
    reached = refusal([(Part.LIMIT, "7#week#2026-W01"), (Part.LIMIT, "7#day#2026-01-01")])
    assert isinstance(reached, LimitReached) and reached.key == "7#week#2026-W01"
    limited = refusal([(Part.RATE, WINDOW)])
    assert isinstance(limited, RateLimited) and limited.window is WINDOW


@pytest.mark.parametrize(("refused", "expected"), [
    # another first attendee opened the seated booking: the locks they hold are explained by it (join it instead)
    ([Part.LOCK, Part.SEAT_OPEN], SeatSlotOpened),
    # a lock held by someone else is what the booker can act on, whatever else changed
    ([Part.VERSION, Part.LOCK, Part.LIMIT], SlotTaken),
    ([Part.RESERVATION_LOCK, Part.LOCK], SlotTaken),
    ([Part.DUPLICATE, Part.RESERVATION], StaleReservation),
    ([Part.SEAT_JOIN, Part.SEAT_GUARD], AlreadySeated),
    ([Part.RATE, Part.LIMIT, Part.PAYMENT], PaymentAlreadySettled),
    ([Part.RATE, Part.LIMIT], LimitReached),
    ([Part.VERSION, Part.RATE], RateLimited),
], ids=lambda value: "+".join(p.value for p in value) if isinstance(value, list) else value.__name__)
def test_when_several_are_refused_the_first_part_listed_decides(refused, expected):
    assert type(refusal([(part, INFO.get(part)) for part in refused])) is expected
