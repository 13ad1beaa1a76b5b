"""The order of a user's sort keys that makes one Query per host enough (repositories/tables.py): CONF# < HB# (host
bookings and reservation holds) < HC# (configuration) < LOCK# (slot locks). The range host_window queries, from the
lowest host-booking key of a window to the end of the configuration, must hold every configuration item and every
host booking at or after the window's start, and no lock and no meeting-app connection."""

from __future__ import annotations

from booking_core.repositories.bookings import host_booking_key, lock_key
from booking_core.repositories.tables import (
    CONFIG_PREFIX,
    HOST_BUSY_PREFIX,
    PROFILE_SK,
    calendar_sk,
    minute_key,
    out_of_office_sk,
    schedule_sk,
)

LOW, HIGH = f"{HOST_BUSY_PREFIX}{minute_key(0)}", f"{CONFIG_PREFIX}~"  # host_window's range from minute 0
UID = "zzzzzzzzzzzzzzzzzzzzzz"  # uids are letters and digits: the highest sorts like this
LARGEST = 10**10 - 1  # the largest minute and id a 10-digit key holds


def in_range(sk: str) -> bool:
    return LOW <= sk <= HIGH


def test_every_configuration_item_sorts_after_every_host_booking():
    configuration = [PROFILE_SK, schedule_sk(1), schedule_sk(LARGEST), calendar_sk(LARGEST), out_of_office_sk(0),
                     out_of_office_sk(LARGEST)]
    latest_booking = host_booking_key(1, LARGEST, UID)[1]
    assert all(in_range(sk) and sk > latest_booking for sk in configuration)
    assert all(sk.startswith(CONFIG_PREFIX) for sk in configuration)


def test_host_bookings_from_the_window_on_are_in_the_range():
    assert all(in_range(host_booking_key(1, start, uid)[1]) for start in (0, 1, 10**6, LARGEST) for uid in ("0", UID))


def test_locks_and_meeting_app_connections_are_outside_the_range():
    assert not any(in_range(lock_key(1, bucket)[1]) for bucket in (0, 5, LARGEST))
    assert lock_key(1, 0)[1] > HIGH
    assert not in_range("CONF#zoom")
