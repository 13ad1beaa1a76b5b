"""Host operations through the real handler on both stages: no-shows, reassign (locks and fairness counters move in
one transaction), request-reschedule and the booker's reschedule of it, guests, location, recurring series, and
booking fields on event types."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import boto3
import pytest

from tests.support import weekday_ahead

RUN = itertools.count(1)


def at(day, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api


@pytest.fixture(scope="module")
def day(api):
    return weekday_ahead(160) + timedelta(weeks=next(RUN))  # this module's own week, per stage


@pytest.fixture
def n():
    return next(RUN)


def host(api, name: str, n: int) -> dict:
    return api.host(f"{name} {n}", email=f"{name.lower().replace(' ', '.')}{n}@hosts.test")


def rr_count(event_type_id: int, period: str, host_id: int) -> int:
    from booking_core.repositories.bookings import round_robin_key
    from booking_core.repositories.tables import Item

    item = boto3.client("dynamodb").get_item(TableName=Item.Meta.table_name, Key={
        "pk": {"S": round_robin_key(event_type_id, period, host_id)[0]},
        "sk": {"S": round_robin_key(event_type_id, period, host_id)[1]}}).get("Item")
    return int(item["count"]["N"]) if item else 0


def locks_of(booking_uid: str, host_id: int) -> int:
    from booking_core.repositories.tables import Item

    items = boto3.client("dynamodb").query(
        TableName=Item.Meta.table_name, KeyConditionExpression="pk = :pk AND begins_with(sk, :lock)",
        ExpressionAttributeValues={":pk": {"S": f"USER#{host_id}"}, ":lock": {"S": "LOCK#"}})["Items"]
    return sum(1 for item in items if item["booking_uid"]["S"] == booking_uid)


# -- no-shows -------------------------------------------------------------------------------------------------------
def test_mark_absent_only_once_an_accepted_booking_has_started(api, day, n, monkeypatch):
    from booking_core import clock

    owner = host(api, "Absent Owner", n)
    event_type = api.event_type(slug=f"absent-{n}", ownerId=owner["id"])
    booking = api.book(event_type["id"], at(day, 9), email=f"late{n}@example.org").data
    uid, email = booking["uid"], f"late{n}@example.org"
    early = api.call("POST", f"/v2/bookings/{uid}/mark-absent", {"attendees": [{"email": email, "absent": True}]},
                     admin=True)
    assert early.status == 400 and early.code == "booking_not_started"
    monkeypatch.setattr(clock, "now", lambda: moment(at(day, 9, 10)))
    stranger = api.call("POST", f"/v2/bookings/{uid}/mark-absent",
                        {"attendees": [{"email": email, "absent": True}, {"email": "x@example.org", "absent": True}]},
                        admin=True)
    assert stranger.status == 400
    assert stranger.body["error"]["details"]["errors"] == [
        {"field": "attendees.1.email", "message": "not an attendee of this booking"}]
    marked = api.call("POST", f"/v2/bookings/{uid}/mark-absent",
                      {"host": True, "attendees": [{"email": email.upper(), "absent": True}]}, admin=True)
    assert marked.status == 200 and marked.data["absentHost"] is True
    assert marked.data["attendees"][0]["absent"] is True
    stored = api.call("GET", f"/v2/bookings/{uid}").data
    assert stored["absentHost"] is True and stored["attendees"][0]["absent"] is True
    assert api.call("POST", f"/v2/bookings/{uid}/mark-absent", {}, admin=True).status == 400  # says nothing
    assert api.call("POST", f"/v2/bookings/{uid}/mark-absent", {"host": False}).status == 401
    monkeypatch.undo()
    other = api.book(event_type["id"], at(day, 11), email=f"gone{n}@example.org").data
    api.call("POST", f"/v2/bookings/{other['uid']}/cancel", {})
    monkeypatch.setattr(clock, "now", lambda: moment(at(day, 12)))
    refused = api.call("POST", f"/v2/bookings/{other['uid']}/mark-absent", {"host": True}, admin=True)
    assert refused.status == 400 and refused.code == "booking_not_started"


def test_seat_holders_are_marked_absent_seat_by_seat(api, day, n, monkeypatch):
    from booking_core import clock

    owner = host(api, "Seat Absent", n)
    event_type = api.event_type(slug=f"seat-absent-{n}", ownerId=owner["id"], seats={"seatsPerTimeSlot": 3})
    first = api.book(event_type["id"], at(day, 10), email=f"s1.{n}@example.org").data
    api.book(event_type["id"], at(day, 10), email=f"s2.{n}@example.org")
    monkeypatch.setattr(clock, "now", lambda: moment(at(day, 10, 5)))
    marked = api.call("POST", f"/v2/bookings/{first['uid']}/mark-absent",
                      {"attendees": [{"email": f"s2.{n}@example.org", "absent": True}]}, admin=True)
    assert marked.status == 200
    assert {a["email"]: a["absent"] for a in marked.data["attendees"]} == {f"s1.{n}@example.org": False,
                                                                          f"s2.{n}@example.org": True}
    own = api.call("GET", f"/v2/bookings/{first['uid']}?seatUid={first['seatUid']}").data
    assert own["attendees"] == [{**own["attendees"][0], "absent": False}]  # each seat keeps its own flag


# -- reassign -------------------------------------------------------------------------------------------------------
@pytest.fixture
def team(api, n):
    hosts = [host(api, f"Pool {name}", n) for name in ("A", "B", "C")]
    event_type = api.event_type(slug=f"pool-{n}", schedulingType="roundRobin",
                                hosts=[{"userId": h["id"]} for h in hosts])
    return hosts, event_type


def test_reassign_moves_locks_and_counters_to_the_next_free_host(api, day, team):
    (a, b, c), event_type = team
    booking = api.book(event_type["id"], at(day, 9), email="pool@example.org").data
    assert [h["id"] for h in booking["hosts"]] == [a["id"]]
    period = day.strftime("%Y-%m")
    assert rr_count(event_type["id"], period, a["id"]) == 1 and locks_of(booking["uid"], a["id"]) > 0
    locks = locks_of(booking["uid"], a["id"])
    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"reason": "A is ill"}, admin=True)
    assert moved.status == 200, moved.body
    assert [h["id"] for h in moved.data["hosts"]] == [b["id"]]  # the next by the ranking, never the current one
    assert moved.data["iCalSequence"] == booking["iCalSequence"] + 1 and "Pool B" in moved.data["title"]
    assert (locks_of(booking["uid"], a["id"]), locks_of(booking["uid"], b["id"])) == (0, locks)
    assert (rr_count(event_type["id"], period, a["id"]), rr_count(event_type["id"], period, b["id"])) == (0, 1)
    assert api.call("GET", f"/v2/bookings/{booking['uid']}").data["hosts"][0]["id"] == b["id"]
    solo_a = api.event_type(slug=f"solo-a-{a['id']}", ownerId=a["id"])
    assert api.book(solo_a["id"], at(day, 9), email="a-free@example.org").status == 201  # A's time is free again
    solo_b = api.event_type(slug=f"solo-b-{b['id']}", ownerId=b["id"])
    assert api.book(solo_b["id"], at(day, 9), email="b-busy@example.org").code == "no_available_users_found_error"

    chosen = api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"userId": c["id"]}, admin=True)
    assert chosen.status == 200 and [h["id"] for h in chosen.data["hosts"]] == [c["id"]]
    assert rr_count(event_type["id"], period, b["id"]) == 0 and rr_count(event_type["id"], period, c["id"]) == 1
    # A is busy at 9:00 now (their own booking): neither the ranking nor the caller can give it to A
    busy = api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"userId": a["id"]}, admin=True)
    assert busy.status == 409 and busy.code == "round_robin_host_unavailable_for_booking"
    again = api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {}, admin=True)
    assert again.status == 200 and [h["id"] for h in again.data["hosts"]] == [b["id"]]  # A is busy, C holds it


def test_reassign_refuses_what_it_cannot_do(api, day, team, n):
    (a, _, c), event_type = team
    booking = api.book(event_type["id"], at(day, 11), email="refuse@example.org").data
    current = booking["hosts"][0]["id"]
    outsider = host(api, "Outsider", n)
    for user_id in (outsider["id"], current):
        reply = api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"userId": user_id}, admin=True)
        assert reply.status == 409 and reply.code == "round_robin_host_unavailable_for_booking"
    single = api.event_type(slug=f"single-{n}", ownerId=outsider["id"])
    one = api.book(single["id"], at(day, 11), email="single@example.org").data
    reply = api.call("POST", f"/v2/bookings/{one['uid']}/reassign", {}, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    assert api.call("POST", "/v2/bookings/nope/reassign", {}, admin=True).code == "booking_not_found_error"
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"userId": 0}, admin=True).status == 400
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"other": 1}, admin=True).status == 400


# -- request-reschedule ----------------------------------------------------------------------------------------------
def test_request_reschedule_frees_the_slot_and_lets_the_booker_move_it_once(api, day, n):
    owner = host(api, "Asker", n)
    event_type = api.event_type(slug=f"ask-{n}", ownerId=owner["id"], bookingLimitsCount={"day": 1})
    booking = api.book(event_type["id"], at(day, 14), email=f"asked{n}@example.org").data
    asked = api.call("POST", f"/v2/bookings/{booking['uid']}/request-reschedule", {"reason": "I am travelling"},
                     admin=True)
    assert asked.status == 200
    assert (asked.data["status"], asked.data["rescheduleRequested"], asked.data["cancellationReason"]) == (
        "cancelled", True, "I am travelling")
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/request-reschedule", {}, admin=True).data == asked.data
    other = api.book(event_type["id"], at(day, 14), email=f"taker{n}@example.org")  # the slot and the day's limit
    assert other.status == 201
    api.call("POST", f"/v2/bookings/{other.data['uid']}/cancel", {})
    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(day, 15)})
    assert moved.status == 201, moved.body
    assert moved.data["rescheduledFromUid"] == booking["uid"] and moved.data["status"] == "accepted"
    original = api.call("GET", f"/v2/bookings/{booking['uid']}").data
    assert original["rescheduledToUid"] == moved.data["uid"] and original["status"] == "cancelled"
    twice = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(day, 16)})
    assert twice.code == "cancelled_bookings_cannot_be_rescheduled"
    # the day's limit of one counts the moved booking once (the sent-back one gave its place back)
    third = api.book(event_type["id"], at(day, 12), email=f"third{n}@example.org")
    assert third.status == 409 and third.code == "booking_limit_reached", third.body


def test_request_reschedule_refusals(api, day, n):
    owner = host(api, "Refuser", n)
    event_type = api.event_type(slug=f"refuse-ask-{n}", ownerId=owner["id"])
    booking = api.book(event_type["id"], at(day, 13), email=f"c{n}@example.org").data
    api.call("POST", f"/v2/bookings/{booking['uid']}/cancel", {})
    again = api.call("POST", f"/v2/bookings/{booking['uid']}/request-reschedule", {}, admin=True)
    assert again.code == "conflict_error"
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(day, 15)}).code == (
        "cancelled_bookings_cannot_be_rescheduled")  # a booker's own cancellation is final
    seated = api.event_type(slug=f"seated-ask-{n}", ownerId=owner["id"], seats={"seatsPerTimeSlot": 2})
    seat = api.book(seated["id"], at(day, 10), email=f"seat{n}@example.org").data
    reply = api.call("POST", f"/v2/bookings/{seat['uid']}/request-reschedule", {}, admin=True)
    assert reply.status == 400
    assert api.call("POST", f"/v2/bookings/{seat['uid']}/request-reschedule", {}).status == 401


# -- guests and location --------------------------------------------------------------------------------------------
def test_guests_are_added_up_to_thirty_in_all(api, day, n):
    owner = host(api, "Guester", n)
    event_type = api.event_type(slug=f"guests-{n}", ownerId=owner["id"], disableGuests=True)
    booking = api.book(event_type["id"], at(day, 9), email=f"g{n}@example.org").data
    api.call("POST", "/v2/blocklist", {"type": "email", "value": f"spam{n}@blocked.test", "action": "block"},
             admin=True)
    added = api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": [
        {"email": f"new{n}@example.org", "name": "New"}, {"email": owner["email"]}, {"email": f"g{n}@example.org"},
        {"email": f"spam{n}@blocked.test"}, {"email": f"NEW{n}@example.org"}]}, admin=True)
    assert added.status == 200 and added.data["guests"] == [f"new{n}@example.org"]
    assert added.data["iCalSequence"] == booking["iCalSequence"] + 1
    unchanged = api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": [{"email": owner["email"]}]},
                         admin=True)
    assert unchanged.data["iCalSequence"] == added.data["iCalSequence"]  # nothing new: no change
    many = [{"email": f"x{i}.{n}@example.org"} for i in range(30)]
    over = api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": many}, admin=True)
    assert over.status == 400 and over.body["error"]["details"]["errors"][0]["field"] == "guests"
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": many[:29]}, admin=True).status == 200
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": []}, admin=True).status == 400
    assert api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": many[:1]}).status == 401


def test_location_changes_and_meeting_apps_must_be_offered(api, day, n):
    owner = host(api, "Mover", n)
    event_type = api.event_type(slug=f"moved-{n}", ownerId=owner["id"],
                                locations=[{"type": "integration", "integration": "jitsi"},
                                           {"type": "integration", "integration": "zoom"}])
    booking = api.book(event_type["id"], at(day, 12), email=f"m{n}@example.org").data
    assert booking["meetingUrl"].startswith("https://meet.jit.si/")
    moved = api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": "Room 4, Main Street 1"},
                     admin=True)
    assert moved.status == 200
    assert (moved.data["location"], moved.data["meetingUrl"]) == ("Room 4, Main Street 1", None)
    assert moved.data["iCalSequence"] == booking["iCalSequence"] + 1 and "references" not in moved.data
    zoom = api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": "integrations:zoom"}, admin=True)
    assert zoom.status == 200 and zoom.data["location"] == "integrations:zoom"
    meet = api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": "integrations:google:meet"},
                    admin=True)
    assert meet.status == 400 and meet.body["error"]["details"]["errors"][0]["field"] == "location"
    assert api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": ""}, admin=True).status == 400
    api.call("POST", f"/v2/bookings/{booking['uid']}/cancel", {})
    gone = api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": "Elsewhere"}, admin=True)
    assert gone.status == 409


# -- recurring series -----------------------------------------------------------------------------------------------
def test_a_series_is_read_by_its_uid_and_cancelled_from_one_occurrence_on(api, day, n):
    owner = host(api, "Series", n)
    event_type = api.event_type(slug=f"series-{n}", ownerId=owner["id"],
                                recurrence={"frequency": "weekly", "interval": 1, "occurrences": 4})
    series = api.book(event_type["id"], at(day, 14), email=f"weekly{n}@example.org").data
    assert len(series) == 4
    series_uid = series[0]["recurringBookingUid"]
    read = api.call("GET", f"/v2/bookings/{series_uid}")
    assert read.status == 200 and [b["uid"] for b in read.data] == [b["uid"] for b in series]
    cancelled = api.call("POST", f"/v2/bookings/{series[1]['uid']}/cancel",
                         {"cancelSubsequentBookings": True, "cancellationReason": "the course ends"})
    assert cancelled.status == 200
    assert [(b["uid"], b["status"]) for b in cancelled.data] == [(b["uid"], "cancelled") for b in series[1:]]
    after = api.call("GET", f"/v2/bookings/{series_uid}").data
    assert [b["status"] for b in after] == ["accepted", "cancelled", "cancelled", "cancelled"]
    third = day + timedelta(weeks=2)
    assert api.book(event_type["id"], at(third, 14), email=f"another{n}@example.org").status == 201  # freed
    again = api.call("POST", f"/v2/bookings/{series[2]['uid']}/cancel", {"cancelSubsequentBookings": True})
    assert again.status == 200 and [b["uid"] for b in again.data] == [series[2]["uid"]]  # nothing left to cancel
    assert api.call("GET", "/v2/bookings/00000000-0000-4000-8000-000000000000").code == "booking_not_found_error"


# -- booking fields -------------------------------------------------------------------------------------------------
FIELDS = [
    {"slug": "company", "label": "Company", "type": "text", "required": True, "maxLength": 20},
    {"slug": "size", "label": "Team size", "type": "number", "min": 1, "max": 500},
    {"slug": "plan", "label": "Plan", "type": "select", "options": ["free", "pro"], "required": True},
    {"slug": "topics", "label": "Topics", "type": "multiselect", "options": ["sales", "support", "billing"]},
    {"slug": "mobile", "label": "Mobile", "type": "phone"},
    {"slug": "site", "label": "Website", "type": "url"},
    {"slug": "terms", "label": "I accept the terms", "type": "checkbox", "required": True},
    {"slug": "cc", "label": "Copy to", "type": "multiemail"},
    {"slug": "source", "label": "Source", "type": "text", "hidden": True},
]


def test_booking_fields_are_checked_every_problem_at_once_and_normalised(api, day, n):
    owner = host(api, "Fields", n)
    event_type = api.event_type(slug=f"fields-{n}", ownerId=owner["id"], bookingFields=FIELDS)
    assert [f["slug"] for f in event_type["bookingFields"]] == [f["slug"] for f in FIELDS]
    bad = api.book(event_type["id"], at(day, 9), email=f"f{n}@example.org", bookingFieldsResponses={
        "company": "", "size": 900, "plan": "gold", "topics": ["sales", "golf"], "mobile": "12345",
        "site": "ftp://x", "terms": False, "cc": ["ok@example.org", "nope"], "extra": 1})
    assert bad.status == 400 and bad.code == "request_body_invalid_error"
    problems = {e["field"]: e["message"] for e in bad.body["error"]["details"]["errors"]}
    assert set(problems) == {f"bookingFieldsResponses.{slug}" for slug in
                             ("company", "size", "plan", "topics", "mobile", "site", "terms", "cc", "extra")}
    assert problems["bookingFieldsResponses.company"] == "is required"
    good = api.book(event_type["id"], at(day, 9), email=f"f{n}@example.org", bookingFieldsResponses={
        "company": "Acme", "size": 12.0, "plan": "pro", "topics": ["sales", "sales", "billing"],
        "mobile": "+44 20 7183 8750", "site": "https://acme.example", "terms": True, "cc": ["A@Example.ORG"]})
    assert good.status == 201, good.body
    assert good.data["bookingFieldsResponses"] == {
        "company": "Acme", "size": 12, "plan": "pro", "topics": ["sales", "billing"], "mobile": "+442071838750",
        "site": "https://acme.example", "terms": True, "cc": ["A@example.org"]}
    free = api.event_type(slug=f"no-fields-{n}", ownerId=owner["id"])
    anything = api.book(free["id"], at(day, 10), email=f"f{n}@example.org", bookingFieldsResponses={"any": [1]})
    assert anything.status == 201 and anything.data["bookingFieldsResponses"] == {"any": [1]}


@pytest.mark.parametrize("fields", [
    [{"slug": "a", "label": "A", "type": "text"}, {"slug": "a", "label": "Again", "type": "text"}],
    [{"slug": "Bad Slug", "label": "A", "type": "text"}],
    [{"slug": "email", "label": "Email", "type": "email"}],
    [{"slug": "pick", "label": "Pick", "type": "select"}],
    [{"slug": "n", "label": "N", "type": "number", "min": 5, "max": 1}],
    [{"slug": "t", "label": "T", "type": "text", "options": ["x"]}],
    [{"slug": f"f{i}", "label": "F", "type": "text"} for i in range(31)],
    [{"slug": "t", "label": "T", "type": "colour"}],
])
def test_event_types_refuse_unusable_booking_fields(api, fields, n):
    owner = host(api, "Field Types", n)
    reply = api.call("POST", "/v2/event-types", {"title": "T", "slug": f"ft-{n}", "lengthInMinutes": 30,
                                                 "ownerId": owner["id"], "bookingFields": fields}, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error", reply.body
