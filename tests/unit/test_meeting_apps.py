"""Meeting apps without a network: which location a booking gets, the bounded wait for a meeting link, the links
providers answer with, Retry-After, and the pieces Graph's busy time is asked for."""

from __future__ import annotations

import email.utils
import typing
from datetime import datetime, timedelta, timezone

import pytest

from booking_core import meeting_wait
from booking_core.calendars.busy import _pieces
from booking_core.calendars.oauth import retry_after_seconds
from booking_core.conferencing import APPS, app_of_placeholder, describe_location
from booking_core.domain.bookings import BookingRecord
from booking_core.domain.event_types import EventType, IntegrationLocation
from booking_core.events.contracts import MEETING_CREATED, BookingEvent
from booking_core.pipeline.creation import carry_meeting, resolve_location
from booking_core.webhooks.ssrf import UnsafeUrl, check_link
from tests.unit.test_webhooks_payload import booking_doc, event

UTC = timezone.utc


def event_type(*locations: dict) -> EventType:
    return EventType.model_validate({"id": 3, "title": "Call", "slug": "call", "lengthInMinutes": 30, "ownerId": 1,
                                     "locations": list(locations)})


ZOOM = {"type": "integration", "integration": "zoom"}
JITSI = {"type": "integration", "integration": "jitsi"}


def test_every_api_app_is_an_integration_an_event_type_may_name():
    names = set(typing.get_args(IntegrationLocation.model_fields["integration"].annotation))
    assert names == {"jitsi", *APPS}
    assert {spec.placeholder for spec in APPS.values()} == {
        "integrations:google:meet", "integrations:office365_video", "integrations:zoom"}  # cal.com's values


def test_an_api_app_starts_with_its_placeholder_and_jitsi_with_its_room():
    assert resolve_location(event_type(ZOOM), None) == ("integrations:zoom", None, "zoom")
    location, url, app = resolve_location(event_type(JITSI), None)
    assert location == url and url.startswith("https://meet.jit.si/call-") and app is None


def test_a_booker_picks_an_offered_app_by_its_placeholder_and_nothing_else():
    both = event_type(JITSI, ZOOM)
    assert resolve_location(both, "integrations:zoom") == ("integrations:zoom", None, "zoom")
    # not offered: kept as the booker's text, and no meeting is made for it
    assert resolve_location(event_type(JITSI), "integrations:zoom") == ("integrations:zoom", None, None)
    assert resolve_location(both, "Room 4") == ("Room 4", None, None)


def record(**changes) -> BookingRecord:
    doc = {**booking_doc(), "busyStartMin": 0, "busyEndMin": 30}
    doc.pop("organizer"), doc.pop("price"), doc.pop("currency")
    return BookingRecord.model_validate({**doc, **changes})


def test_a_reschedule_keeps_the_meeting_with_the_organizer_and_drops_it_for_another():
    references = [{"type": "zoom", "uid": "851", "meetingUrl": "https://zoom.example/j/851"},
                  {"type": "google_calendar", "uid": "evt1"}]
    original = record(meetingApp="zoom", location="https://zoom.example/j/851",
                      meetingUrl="https://zoom.example/j/851", references=references)
    same = record(location="integrations:zoom", meetingUrl=None)
    carry_meeting(original, same)
    assert (same.meeting_app, same.location, same.meeting_url) == ("zoom", "https://zoom.example/j/851",
                                                                   "https://zoom.example/j/851")
    assert [r.type for r in same.references] == ["zoom"]  # the calendar reference is the app-sync step's to add
    other = record(hosts=[{"id": 99, "name": "Other", "email": "o@example.com", "timeZone": "UTC"}])
    carry_meeting(original, other)
    assert (other.location, other.meeting_url, other.references) == ("integrations:zoom", None, None)


def waiting_event(occurred: datetime, **booking) -> BookingEvent:
    built = event("bookingCreated", booking_doc(location="integrations:zoom", meetingUrl=None, **booking))
    return built.model_copy(update={"detail": built.detail.model_copy(update={"occurred_at": occurred})})


def test_a_booking_awaits_its_link_only_while_accepted_linkless_and_on_an_app_placeholder():
    now = datetime(2027, 1, 10, 8, tzinfo=UTC)
    assert meeting_wait.awaits_link(waiting_event(now).detail.booking)
    assert not meeting_wait.awaits_link(waiting_event(now, status="pending").detail.booking)
    assert not meeting_wait.awaits_link(event("bookingCreated").detail.booking)  # jitsi: the link is there
    assert not meeting_wait.awaits_link(event("bookingCreated", booking_doc(location="Room 4",
                                                                            meetingUrl=None)).detail.booking)


def test_the_wait_is_bounded_from_the_commit(monkeypatch):
    monkeypatch.setenv("MEETING_LINK_WAIT_SECONDS", "30")
    committed = datetime(2027, 1, 10, 8, tzinfo=UTC)
    job, delay = meeting_wait.hold(waiting_event(committed), committed + timedelta(seconds=12))
    assert delay == 18 and job["job"] == meeting_wait.WAIT_JOB
    _, late = meeting_wait.hold(waiting_event(committed), committed + timedelta(minutes=5))
    assert late == 0  # a late delivery does not wait again
    back = meeting_wait.event_of(job)
    assert back == waiting_event(committed)  # the event survives the queue as it was


def test_the_end_of_the_wait_takes_the_link_the_booking_has_by_then():
    held = waiting_event(datetime(2027, 1, 10, 8, tzinfo=UTC))
    linked = record(location="https://zoom.example/j/9", meetingUrl="https://zoom.example/j/9",
                    references=[{"type": "zoom", "uid": "9", "meetingUrl": "https://zoom.example/j/9"}])
    released = meeting_wait.with_link_of(held, linked)
    assert released.detail.booking.meeting_url == "https://zoom.example/j/9"
    assert released.detail.booking.location == "https://zoom.example/j/9"
    assert released.detail.booking.references[0].uid == "9" and released.event_id == held.event_id
    assert meeting_wait.with_link_of(held, record(location="integrations:zoom", meetingUrl=None)) == held


def test_the_follow_up_releases_the_held_change_under_its_own_event_id():
    follow_up = BookingEvent.model_validate({
        "detail-type": MEETING_CREATED,
        "detail": {"eventId": "evt-follow", "occurredAt": "2027-01-10T08:00:05.000Z",
                   "booking": booking_doc(location="https://zoom.example/j/9", meetingUrl="https://zoom.example/j/9"),
                   "previousBooking": booking_doc(uid="old"),
                   "context": {"triggeredBy": "booker", "causeEventId": "evt-1",
                               "causeDetailType": "bookingRescheduled"}}})
    held = meeting_wait.cause_of(follow_up)
    assert held is not None and (held.detail_type, held.event_id) == ("bookingRescheduled", "evt-1")
    assert held.detail.booking.meeting_url == "https://zoom.example/j/9"
    assert held.detail.previous_booking.uid == "old" and held.detail.context.cause_event_id is None
    assert meeting_wait.cause_of(event("bookingCreated")) is None
    odd = follow_up.model_copy(update={"detail": follow_up.detail.model_copy(update={
        "context": follow_up.detail.context.model_copy(update={"cause_detail_type": "bookingCancelled"})})})
    assert meeting_wait.cause_of(odd) is None  # only what is held is released


def test_people_read_the_app_name_while_the_link_is_made():
    assert describe_location("integrations:office365_video") == "Microsoft Teams (the link follows)"
    assert describe_location("Room 4") == "Room 4" and app_of_placeholder("integrations:unknown") is None


@pytest.mark.parametrize("url", [
    "https://us05web.zoom.us/j/851?pwd=x", "https://teams.microsoft.com/l/meetup-join/19%3ameeting/0",
    "https://meet.google.com/abc-defg-hij", "https://never-resolved.invalid/x"])
def test_provider_links_people_may_open(url):
    assert check_link(url) == url


@pytest.mark.parametrize("url", [
    "http://zoom.us/j/1", "javascript:alert(1)", "https://user:pw@zoom.us/j/1", "https://169.254.169.254/latest",
    "https://0xa9fea9fe/", "https://[::ffff:169.254.169.254]/", "https://10.0.0.7/j", "https://127.0.0.1/j",
    "https://zoom.us/j/1 onclick", "https://" + "a" * 2100 + ".example/", ""])
def test_provider_links_that_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_link(url)


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds("7") == 7.0
    at = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 <= retry_after_seconds(email.utils.format_datetime(at, usegmt=True)) <= 91
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_busy_windows_longer_than_a_provider_answers_are_split():
    day = 24 * 60
    assert _pieces(None, 0, 92 * day) == [(0, 92 * day)]
    assert _pieces(41, 0, 92 * day) == [(0, 41 * day), (41 * day, 82 * day), (82 * day, 92 * day)]


def test_held_emails_go_with_the_stored_link_and_not_after_a_cancellation(monkeypatch):
    from booking_core.services.notifications import NotificationService
    from tests.unit.fakes import InMemoryStore

    store = InMemoryStore()
    service = NotificationService(store, mailer=object(), scheduler=object())
    released: list[BookingEvent] = []
    monkeypatch.setattr(service, "release", released.append)
    held = waiting_event(datetime(2027, 1, 10, 8, tzinfo=UTC))
    job, _ = meeting_wait.hold(held, datetime(2027, 1, 10, 8, tzinfo=UTC))
    uid = held.detail.booking.uid

    store.bookings[uid] = record(uid=uid, status="cancelled", location="integrations:zoom", meetingUrl=None)
    service.link_due(job)
    assert released == []  # its cancellation email went out already: no confirmation after it

    store.bookings[uid] = record(uid=uid, location="https://zoom.example/j/5", meetingUrl="https://zoom.example/j/5")
    service.link_due(job)
    [sent] = released
    assert sent.event_id == held.event_id and sent.detail.booking.meeting_url == "https://zoom.example/j/5"
