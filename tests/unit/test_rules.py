"""Issue 3 rules at the unit level: blocklists, limits, routing, private links, confirmation and payments."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.bookings import CreateBookingInput
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking
from booking_core.services.changes import confirm, decline, payment_succeeded
from tests.unit.fakes import InMemoryStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # Tuesday
WED = "2026-12-02"


def body(event_type_id: int = 1, start: str = f"{WED}T10:00:00Z", email: str = "jane@example.org", **extra):
    return CreateBookingInput.model_validate({
        "start": start, "eventTypeId": event_type_id,
        "attendee": {"name": "Jane", "email": email, "timeZone": "Europe/Paris"}, **extra})


def book(store, signed_in: str | None = None, **kwargs):
    return create_booking(body(**kwargs), store, NOW, signed_in)


def code_of(store, signed_in: str | None = None, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        book(store, signed_in, **kwargs)
    return caught.value.code


def block(store: InMemoryStore, kind: str, value: str, action: str = "block") -> None:
    store.blocklist.append(BlocklistEntry(id=len(store.blocklist) + 1, type=kind, value=value, action=action,
                                          created_at=NOW))


def details(store, **kwargs) -> dict:
    with pytest.raises(DomainError) as caught:
        book(store, **kwargs)
    return {"code": caught.value.code, **caught.value.details}


# -- blocklist ---------------------------------------------------------------------------------------------------
def test_blocked_email_ignores_case_and_plus_tags(store):
    block(store, "email", "jane@example.org")
    assert code_of(store, email="Jane+work@Example.org") == "booker_email_blocked"
    assert book(store, email="john@example.org").created


def test_blocked_domain_covers_subdomains(store):
    block(store, "domain", "example.org")
    assert code_of(store, email="jane@mail.example.org") == "booker_email_blocked"


def test_require_login_needs_a_jwt_for_that_address(store):
    block(store, "email", "jane@example.org", "requireLogin")
    assert code_of(store) == "booker_email_requires_login"
    assert code_of(store, signed_in="someone@example.org") == "booker_email_requires_login"
    assert book(store, signed_in="JANE@example.org").created


def test_block_beats_require_login(store):
    block(store, "domain", "example.org", "requireLogin")
    block(store, "email", "jane@example.org", "block")
    assert code_of(store, signed_in="jane@example.org") == "booker_email_blocked"


def test_blocked_guests_are_dropped_silently(store):
    block(store, "domain", "spam.test")
    booking = book(store, guests=["friend@example.org", "bot@spam.test"]).booking
    assert booking.guests == ["friend@example.org"]


def test_blocked_or_locked_hosts_are_never_booked():
    store = InMemoryStore()
    store.add_host(1, blocked=True)
    store.add_host(2)
    store.add_host(3, locked=True)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": h} for h in (1, 2, 3)])
    chosen = {book(store, event_type_id=5, start=f"{WED}T{h:02d}:00:00Z", email=f"b{h}@x.org").booking.hosts[0].id
              for h in (9, 10, 11)}
    assert chosen == {2}
    store.add_host(2, blocked=True)
    assert code_of(store, event_type_id=5, start=f"{WED}T13:00:00Z") == "event_type_no_hosts"


# -- active bookings per booker -----------------------------------------------------------------------------------
def test_booker_active_bookings_limit(store):
    store.add_event_type(1, owner_id=1, booker_active_bookings_limit={"maximum_active_bookings": 2})
    book(store, start=f"{WED}T10:00:00Z")
    book(store, start=f"{WED}T11:00:00Z")
    assert code_of(store, start=f"{WED}T12:00:00Z") == "booker_limit_exceeded_error"
    assert book(store, start=f"{WED}T12:00:00Z", email="other@example.org").created


def test_booker_limit_offers_the_latest_booking_to_reschedule(store):
    store.add_event_type(1, owner_id=1, booker_active_bookings_limit={"maximum_active_bookings": 2,
                                                                      "offer_reschedule": True})
    book(store, start=f"{WED}T10:00:00Z")
    latest = book(store, start=f"{WED}T15:00:00Z").booking
    found = details(store, start=f"{WED}T12:00:00Z")
    assert found == {"code": "booker_limit_exceeded_error_reschedule", "rescheduleUid": latest.uid,
                     "startTime": f"{WED}T15:00:00.000Z"}


def test_pending_and_past_bookings_do_not_count_for_the_booker_limit(store):
    store.add_event_type(1, owner_id=1, booker_active_bookings_limit={"maximum_active_bookings": 1},
                         confirmation_policy={"type": "always"})
    book(store)  # pending: awaiting the host
    assert book(store, start=f"{WED}T11:00:00Z").created


# -- booking limits -------------------------------------------------------------------------------------------------
def test_count_limit_per_day_in_the_schedule_time_zone():
    store = InMemoryStore()
    store.add_host(1, time_zone="America/New_York")  # 09:00-17:00 New York = 14:00-22:00 UTC
    store.add_event_type(1, owner_id=1, booking_limits_count={"day": 2})
    book(store, start="2026-12-02T14:00:00Z")
    book(store, start="2026-12-02T15:00:00Z")
    assert code_of(store, start="2026-12-02T21:00:00Z") == "booking_limit_reached"  # still Dec 2 in New York
    assert book(store, start="2026-12-03T14:00:00Z").created


def test_duration_limit_per_week(store):
    store.add_event_type(1, owner_id=1, length_in_minutes_options=[30, 60], booking_limits_duration={"week": 90})
    book(store, start=f"{WED}T10:00:00Z", lengthInMinutes=60)
    assert code_of(store, start="2026-12-04T10:00:00Z", lengthInMinutes=60) == "duration_limit_reached"
    assert book(store, start="2026-12-04T10:00:00Z").created  # 30 more minutes fit
    assert book(store, start="2026-12-07T10:00:00Z", lengthInMinutes=60).created  # next ISO week


def test_cancelled_bookings_free_their_place_in_the_limit(store):
    from booking_core.domain.bookings import CancelInput
    from booking_core.services.changes import cancel

    store.add_event_type(1, owner_id=1, booking_limits_count={"month": 1})
    first = book(store).booking
    assert code_of(store, start=f"{WED}T11:00:00Z") == "booking_limit_reached"
    cancel(store, first.uid, CancelInput(), NOW)
    assert book(store, start=f"{WED}T11:00:00Z").created


# -- routing forms --------------------------------------------------------------------------------------------------
def rr_store() -> InMemoryStore:
    store = InMemoryStore()
    for host in (1, 2, 3):
        store.add_host(host)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": h} for h in (1, 2, 3)])
    store.routing[7] = RoutingFormResponse(id=7, form_id="f", response={"team": "sales"}, created_at=NOW)
    return store


def test_routing_response_must_exist():
    store = rr_store()
    assert code_of(store, event_type_id=5, routing={"responseId": 8}) == "routing_form_response_not_found"


def test_team_member_ids_narrow_the_round_robin_and_travel_in_the_event():
    store = rr_store()
    for i in range(3):
        booking = book(store, event_type_id=5, start=f"{WED}T{10 + i}:00:00Z", email=f"r{i}@x.org",
                       routing={"responseId": 7, "teamMemberIds": [3]}).booking
        assert booking.hosts[0].id == 3
    detail = json.loads(store.outbox[-1].detail_json)
    assert detail["context"]["routingFormResponseId"] == 7


# -- private links --------------------------------------------------------------------------------------------------
def test_hidden_type_needs_a_valid_private_link(store):
    store.add_event_type(1, owner_id=1, hidden=True)
    store.links[(1, "good")] = PrivateLink(link_id="good", event_type_id=1, created_at=NOW)
    store.links[(1, "old")] = PrivateLink(link_id="old", event_type_id=1, created_at=NOW,
                                          expires_at=NOW - timedelta(minutes=1))
    store.links[(1, "used")] = PrivateLink(link_id="used", event_type_id=1, created_at=NOW, max_usage_count=1,
                                           usage_count=1)
    assert code_of(store) == "private_link_expired"
    for link in ("nope", "old", "used"):
        assert code_of(store, privateLink=link) == "private_link_expired"
    booking = book(store, privateLink="good").booking
    assert json.loads(store.outbox[-1].detail_json)["context"]["privateLink"] == "good"
    assert booking.status == "accepted"


# -- confirmation ---------------------------------------------------------------------------------------------------
def test_always_confirm_makes_a_pending_booking_that_holds_its_slot(store):
    store.add_event_type(1, owner_id=1, confirmation_policy={"type": "always"})
    booking = book(store).booking
    assert booking.status == "pending"
    assert [e.detail_type for e in store.outbox] == ["bookingRequested"]
    assert code_of(store, email="other@example.org") == "no_available_users_found_error"
    confirmed = confirm(store, booking.uid, NOW)
    assert confirmed["status"] == "accepted"
    assert store.outbox[-1].detail_type == "bookingConfirmed"
    assert json.loads(store.outbox[-1].detail_json)["context"]["triggeredBy"] == "host"


def test_notice_threshold_confirmation(store):
    store.add_event_type(1, owner_id=1, confirmation_policy={"type": "time",
                                                             "notice_threshold": {"unit": "hours", "count": 48}})
    assert book(store, start="2026-12-02T10:00:00Z").booking.status == "pending"  # 26 h away
    assert book(store, start="2026-12-04T10:00:00Z").booking.status == "accepted"  # 74 h away


def test_decline_frees_the_slot(store):
    store.add_event_type(1, owner_id=1, confirmation_policy={"type": "always"})
    booking = book(store).booking
    declined = decline(store, booking.uid, "busy", NOW)
    assert declined["status"] == "rejected" and declined["cancellationReason"] == "busy"
    assert store.outbox[-1].detail_type == "bookingRejected"
    assert book(store, email="other@example.org").created
    with pytest.raises(DomainError) as caught:
        confirm(store, booking.uid, NOW)
    assert caught.value.code == "conflict_error"


# -- payments -------------------------------------------------------------------------------------------------------
def test_priced_type_waits_for_payment_then_is_accepted(store):
    store.add_event_type(1, owner_id=1, price={"amount": 2500, "currency": "eur"})
    booking = book(store).booking
    assert booking.status == "pending" and booking.payment_required and booking.payment_uid
    assert store.outbox[-1].detail_type == "bookingPaymentInitiated"
    payment = store.payments[booking.payment_uid]
    assert (payment.amount, payment.currency, payment.status) == (2500, "EUR", "pending")
    with pytest.raises(DomainError):
        confirm(store, booking.uid, NOW)  # awaiting payment
    payment_succeeded(store, booking.payment_uid, NOW)
    assert [e.detail_type for e in store.outbox[-2:]] == ["bookingPaid", "bookingConfirmed"]
    assert store.bookings[booking.uid].status == "accepted"
    payment_succeeded(store, booking.payment_uid, NOW)  # a repeated report changes nothing
    assert len(store.outbox) == 3


def test_paid_booking_that_also_needs_confirmation_stays_pending(store):
    store.add_event_type(1, owner_id=1, price={"amount": 100, "currency": "USD"},
                         confirmation_policy={"type": "always"})
    booking = book(store).booking
    payment_succeeded(store, booking.payment_uid, NOW)
    assert store.bookings[booking.uid].status == "pending"
    assert [e.detail_type for e in store.outbox[-2:]] == ["bookingPaid", "bookingRequested"]
    assert confirm(store, booking.uid, NOW)["status"] == "accepted"
