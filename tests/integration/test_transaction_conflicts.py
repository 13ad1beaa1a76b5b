"""DynamoDB's TransactionConflict (another transaction touching the same items at that instant) is retried with
backoff; only when it persists does the booker get 409 `conflict_error`, with nothing written.

moto never produces the conflict itself, so a botocore `before-call` hook on the transaction connection answers the
first TransactWriteItems calls with the error DynamoDB sends: a TransactionCanceledException whose
CancellationReasons say TransactionConflict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from booking_core.repositories.bookings import _TRANSACTION_ATTEMPTS as TRANSACTION_ATTEMPTS
from tests.support import weekday_ahead

DAY = weekday_ahead(63)


@contextmanager
def conflicting_transactions(times: int) -> Iterator[list[int]]:
    """The next `times` TransactWriteItems calls fail with TransactionConflict; yields the count of calls seen."""
    from booking_core.repositories.tables import connection

    calls: list[int] = []

    def answer(params, **_):
        items = len(json.loads(params["body"])["TransactItems"])  # the serialised request
        calls.append(items)
        if len(calls) > times:
            return None  # let the call through to the table
        reasons = [{"Code": "None"}] * items
        reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        return SimpleNamespace(status_code=400, headers={}), {
            "Error": {"Code": "TransactionCanceledException",
                      "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                                 "[TransactionConflict]"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        }

    events = connection().client.meta.events
    events.register("before-call.dynamodb.TransactWriteItems", answer, unique_id="test-transaction-conflict")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="test-transaction-conflict")


@pytest.fixture(scope="module")
def event_type(api):
    host = api.host("Conflict Host", time_zone="UTC")
    return api.event_type(ownerId=host["id"], slug="conflicts")


def test_a_passing_conflict_is_retried_and_the_booking_is_made_once(api, event_type):
    start = f"{DAY.isoformat()}T10:00:00Z"
    with conflicting_transactions(times=2) as calls:
        reply = api.book(event_type["id"], start, email="patient@example.org")
    assert reply.status == 201, reply.body
    assert len(calls) == 3  # two conflicts, then the write that went through
    assert api.call("GET", f"/v2/bookings/{reply.data['uid']}").data["start"] == f"{DAY.isoformat()}T10:00:00.000Z"
    again = api.book(event_type["id"], start, email="second@example.org")
    assert again.status == 409 and again.code == "no_available_users_found_error"  # its locks were written


def test_a_conflict_that_persists_is_a_409_and_writes_nothing(api, event_type):
    start = f"{DAY.isoformat()}T11:00:00Z"
    with conflicting_transactions(times=1000) as calls:
        reply = api.book(event_type["id"], start, email="unlucky@example.org")
    assert reply.status == 409 and reply.code == "conflict_error"
    assert len(calls) == TRANSACTION_ATTEMPTS  # every attempt the repository allows, then give up
    retry = api.book(event_type["id"], start, email="unlucky@example.org")
    assert retry.status == 201  # no lock or duplicate guard was left behind
