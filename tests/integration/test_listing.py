"""Listing bookings (GET /v2/bookings, GET /v2/me/bookings) through the real handler on both stages: every filter,
sorting, cursor pagination, opaque cursors, and what a signed-in booker sees."""

from __future__ import annotations

import itertools
import os
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from tests.support import weekday_ahead

NAMES = itertools.count(1)


def at(day, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def token(email: str) -> str:
    return jwt.encode({"email": email, "exp": int(time.time()) + 600}, os.environ["BOOKER_JWT_SECRET"],
                      algorithm="HS256")


def listed(api, query: str, *, admin: bool = True, headers: dict | None = None) -> list[dict]:
    """Every booking a query lists, page after page (asserting each page's envelope)."""
    out, cursor = [], None
    path = "/v2/me/bookings" if headers else "/v2/bookings"
    for _ in range(50):
        page = api.call("GET", f"{path}?{query}" + (f"&cursor={cursor}" if cursor else ""),
                        admin=admin and not headers, headers=headers)
        assert page.status == 200, page.body
        pagination = page.body["pagination"]
        assert pagination["returnedItems"] == len(page.data)
        out += page.data
        if not pagination["hasNextPage"]:
            assert pagination["nextCursor"] is None
            return out
        cursor = pagination["nextCursor"]
    raise AssertionError("no last page")


def uids(bookings: list[dict]) -> list[str]:
    return [b["uid"] for b in bookings]


@pytest.fixture(scope="module")
def world(api):
    """Two hosts, a collective type of both, a seated type; bookings over three weekdays of a week of their own."""
    n = next(NAMES)
    day = weekday_ahead(120) + timedelta(weeks=n)  # a week of this module's own, per stage
    alice = api.host(f"List Alice {n}", email=f"list.alice{n}@hosts.test")
    bob = api.host(f"List Bob {n}", email=f"list.bob{n}@hosts.test")
    single = api.event_type(slug=f"list-single-{n}", ownerId=alice["id"])
    pending = api.event_type(slug=f"list-pending-{n}", ownerId=bob["id"], confirmationPolicy={"type": "always"})
    team = api.event_type(slug=f"list-team-{n}", schedulingType="collective",
                          hosts=[{"userId": alice["id"]}, {"userId": bob["id"]}])
    seated = api.event_type(slug=f"list-seated-{n}", ownerId=bob["id"], seats={"seatsPerTimeSlot": 5})
    weekly = api.event_type(slug=f"list-weekly-{n}", ownerId=bob["id"],
                            recurrence={"frequency": "weekly", "interval": 1, "occurrences": 2})
    made: dict[str, dict] = {}

    def book(name, type_id, start, email, **extra):
        reply = api.book(type_id, start, email=email, **extra)
        assert reply.status == 201, reply.body
        made[name] = reply.data
        return reply.data

    for hour in (9, 10, 11, 12):
        book(f"single{hour}", single["id"], at(day, hour), f"jane{n}@example.org" if hour < 11 else
             f"other{n}.{hour}@example.org")
    book("pending", pending["id"], at(day, 13), f"jane{n}@example.org")
    book("team", team["id"], at(day + timedelta(days=1), 9), f"team{n}@example.org")
    book("seat1", seated["id"], at(day + timedelta(days=1), 14), f"Jane{n}@Example.org")
    book("seat2", seated["id"], at(day + timedelta(days=1), 14), f"seatmate{n}@example.org")
    series = api.book(weekly["id"], at(day + timedelta(days=2), 9), email=f"weekly{n}@example.org")
    assert series.status == 201
    made["series"] = series.data[0]
    made["series2"] = series.data[1]
    cancelled = api.call("POST", f"/v2/bookings/{made['single12']['uid']}/cancel", {"cancellationReason": "no"})
    assert cancelled.status == 200
    return {"day": day, "alice": alice, "bob": bob, "single": single, "team": team, "seated": seated,
            "pending": pending, "made": made, "jane": f"jane{n}@example.org", "n": n}


def window(world, days: int = 3) -> str:
    day = world["day"]
    return f"afterStart={day.isoformat()}T00:00:00Z&beforeEnd={(day + timedelta(days=days)).isoformat()}T00:00:00Z"


def test_a_host_lists_the_bookings_they_host_by_start(api, world):
    made = world["made"]
    alice = listed(api, f"userId={world['alice']['id']}")
    assert uids(alice) == uids([made["single9"], made["single10"], made["single11"], made["single12"], made["team"]])
    bob = uids(listed(api, f"userId={world['bob']['id']}"))
    assert made["team"]["uid"] in bob  # a co-host of a collective booking lists it too
    assert made["single9"]["uid"] not in bob
    desc = listed(api, f"userId={world['alice']['id']}&sortStart=desc")
    assert uids(desc) == list(reversed(uids(alice)))


def test_filters_combine_with_and(api, world):
    made, alice = world["made"], world["alice"]["id"]
    assert uids(listed(api, f"userId={alice}&eventTypeId={world['single']['id']}&status=upcoming")) == uids(
        [made["single9"], made["single10"], made["single11"]])
    assert uids(listed(api, f"userId={alice}&status=cancelled")) == [made["single12"]["uid"]]
    assert uids(listed(api, f"eventTypeId={world['single']['id']}&attendeeEmail={world['jane'].upper()}")) == uids(
        [made["single9"], made["single10"]])  # the address in any case
    assert listed(api, f"userId={alice}&eventTypeId={world['pending']['id']}") == []
    day = world["day"]
    assert uids(listed(api, f"userId={alice}&afterStart={day.isoformat()}T10:00:00Z"
                            f"&beforeEnd={day.isoformat()}T11:30:00Z")) == uids([made["single10"], made["single11"]])


def test_status_categories(api, world, monkeypatch):
    made = world["made"]
    assert uids(listed(api, f"attendeeEmail={world['jane']}&status=unconfirmed")) == [made["pending"]["uid"]]
    jane_upcoming = uids(listed(api, f"attendeeEmail={world['jane']}&status=upcoming"))
    assert jane_upcoming == uids([made["single9"], made["single10"], made["pending"], made["seat1"]])
    assert uids(listed(api, f"userId={world['bob']['id']}&status=recurring")) == uids([made["series"],
                                                                                      made["series2"]])
    both = uids(listed(api, f"userId={world['alice']['id']}&status=cancelled,unconfirmed"))
    assert both == [made["single12"]["uid"]]  # the pending booking is Bob's
    from booking_core import clock

    later = datetime.fromisoformat(at(world["day"], 10, 45).replace("Z", "+00:00"))
    monkeypatch.setattr(clock, "now", lambda: later)  # 10:45: the 9:00 and 10:00 bookings have ended
    assert uids(listed(api, f"userId={world['alice']['id']}&status=past")) == uids([made["single9"],
                                                                                    made["single10"]])
    upcoming = uids(listed(api, f"userId={world['alice']['id']}&status=upcoming&{window(world)}"))
    assert upcoming == uids([made["single11"], made["team"]])


def test_every_booking_by_start_across_the_shards(api, world):
    everything = listed(api, f"{window(world, days=10)}&take=3")
    made = world["made"]
    assert set(uids(everything)) >= {b["uid"] for b in made.values()}
    starts = [(b["start"], b["uid"]) for b in everything]
    assert starts == sorted(starts)  # merged from every shard in start order, page after page


def test_pages_hold_at_most_take_and_the_cursor_walks_them_all(api, world):
    query = f"userId={world['alice']['id']}"
    first = api.call("GET", f"/v2/bookings?{query}&take=2", admin=True)
    assert first.status == 200 and len(first.data) == 2 and first.body["pagination"]["hasNextPage"] is True
    cursor = first.body["pagination"]["nextCursor"]
    assert world["made"]["single10"]["uid"] not in cursor and "#" not in cursor  # no key shows through
    walked = []
    for take in (1, 2, 3):
        pages = listed(api, f"{query}&take={take}")
        walked.append(uids(pages))
    assert walked[0] == walked[1] == walked[2] == uids(listed(api, query))


def test_cursors_are_opaque_and_bound_to_their_query(api, world):
    query = f"userId={world['alice']['id']}&take=1"
    cursor = api.call("GET", f"/v2/bookings?{query}", admin=True).body["pagination"]["nextCursor"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (tampered, "not-a-cursor", cursor + "x"):
        reply = api.call("GET", f"/v2/bookings?{query}&cursor={bad}", admin=True)
        assert reply.status == 400 and reply.body["error"]["details"]["errors"][0]["field"] == "cursor"
    other = api.call("GET", f"/v2/bookings?userId={world['bob']['id']}&take=1&cursor={cursor}", admin=True)
    assert other.status == 400 and "other filters" in other.body["error"]["message"]


@pytest.mark.parametrize("query", ["take=0", "take=251", "status=soon", "afterStart=yesterday", "userId=0",
                                   "sortStart=up", "attendeeEmail=not-an-email", "beforeEnd=2026-01-01T10:00:00"])
def test_bad_queries_are_400(api, query):
    reply = api.call("GET", f"/v2/bookings?{query}", admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error", reply.body


def test_listing_needs_the_admin_key(api):
    assert api.call("GET", "/v2/bookings").status == 401
    assert api.call("GET", "/v2/bookings", headers={"authorization": f"Bearer {token('x@example.org')}"}).status == 401


def test_a_signed_in_booker_lists_their_own_bookings_and_seats(api, world):
    made = world["made"]
    mine = listed(api, "status=upcoming", headers={"authorization": f"Bearer {token(world['jane'].upper())}"})
    assert uids(mine) == uids([made["single9"], made["single10"], made["pending"], made["seat1"]])
    seat = next(b for b in mine if b["uid"] == made["seat1"]["uid"])
    assert seat["seatUid"] == made["seat1"]["seatUid"] and seat["seatsRemaining"] == 3
    assert [a["email"].lower() for a in seat["attendees"]] == [world["jane"]]  # never the other seat holder
    filtered = listed(api, f"eventTypeId={world['single']['id']}",
                      headers={"authorization": f"Bearer {token(world['jane'])}"})
    assert uids(filtered) == uids([made["single9"], made["single10"]])
    assert api.call("GET", "/v2/me/bookings").status == 401
    stranger = listed(api, "", headers={"authorization": f"Bearer {token('nobody@example.org')}"})
    assert stranger == []


def test_a_seated_booking_shows_the_seat_the_listing_matched(api, world):
    made = world["made"]
    by_attendee = listed(api, f"attendeeEmail=seatmate{world['n']}@example.org", admin=True)
    assert uids(by_attendee) == [made["seat2"]["uid"]]
    assert by_attendee[0]["seatUid"] == made["seat2"]["seatUid"]
    by_type = listed(api, f"eventTypeId={world['seated']['id']}")
    assert uids(by_type) == [made["seat1"]["uid"]] and by_type[0]["attendees"] == []
    assert by_type[0]["seatsRemaining"] == 3 and "seatUid" not in by_type[0]


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api


def test_pages_stay_under_the_response_limit(api, world, monkeypatch):
    """A page of large bookings stops early (hasNextPage stays true) instead of answering over Lambda's limit."""
    from booking_core.services import listing

    one = len(str(world["made"]["single9"]))
    monkeypatch.setattr(listing, "MAX_PAGE_BYTES", one * 2)
    page = api.call("GET", f"/v2/bookings?userId={world['alice']['id']}&take=5", admin=True)
    assert page.status == 200 and 1 <= len(page.data) < 5 and page.body["pagination"]["hasNextPage"] is True
    rest = listed(api, f"userId={world['alice']['id']}")
    assert uids(page.data) == uids(rest)[:len(page.data)]


def test_times_come_back_in_utc(api, world):
    page = listed(api, f"userId={world['alice']['id']}")
    assert all(b["start"].endswith("Z") and datetime.fromisoformat(b["start"].replace("Z", "+00:00")).tzinfo
               == timezone.utc for b in page)
