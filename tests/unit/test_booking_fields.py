"""Booking fields: the event type's questions, and the check of a booking's answers in the validation step (every
problem listed, answers normalised), at the domain level and through the phases with the in-memory store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from booking_core.domain.booking_fields import BookingField, check_responses
from booking_core.domain.bookings import CreateBookingInput, RescheduleInput
from booking_core.emails.render import Recipient, render
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking, reschedule_booking
from booking_core.webhooks.payload import booking_payload

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def field(**spec) -> BookingField:
    return BookingField.model_validate({"label": spec.get("slug", "f").title(), **spec})


@pytest.mark.parametrize(("spec", "answer", "normal"), [
    ({"slug": "t", "type": "text"}, "hello", "hello"),
    ({"slug": "n", "type": "number", "min": 0, "max": 10}, 4.0, 4),
    ({"slug": "n", "type": "number"}, 2.5, 2.5),
    ({"slug": "b", "type": "boolean"}, False, False),
    ({"slug": "c", "type": "checkbox", "required": True}, True, True),
    ({"slug": "s", "type": "select", "options": ["x", "y"]}, "y", "y"),
    ({"slug": "r", "type": "radio", "options": ["x", "y"]}, "x", "x"),
    ({"slug": "m", "type": "multiselect", "options": ["x", "y"]}, ["y", "x", "y"], ["y", "x"]),
    ({"slug": "e", "type": "email"}, " Jane@Example.ORG ", "Jane@example.org"),
    ({"slug": "p", "type": "phone"}, "+1 (202) 555-0143", "+12025550143"),
    ({"slug": "u", "type": "url"}, "https://example.org/a?b=c", "https://example.org/a?b=c"),
    ({"slug": "me", "type": "multiemail"}, ["a@X.org", "a@x.ORG"], ["a@x.org"]),
])
def test_answers_are_normalised(spec, answer, normal):
    slug = spec["slug"]
    answers, problems = check_responses([field(**spec)], {slug: answer})
    assert problems == [] and answers == {slug: normal}


@pytest.mark.parametrize(("spec", "answer", "message"), [
    ({"slug": "t", "type": "text", "maxLength": 3}, "long", "at most 3 characters"),
    ({"slug": "t", "type": "text", "minLength": 3}, " a ", "at least 3 characters"),
    ({"slug": "t", "type": "text"}, 5, "must be text"),
    ({"slug": "n", "type": "number", "min": 1}, 0, "must be at least 1"),
    ({"slug": "n", "type": "number"}, True, "must be a number"),
    ({"slug": "n", "type": "number"}, float("nan"), "must be a number"),
    ({"slug": "b", "type": "boolean"}, "yes", "must be true or false"),
    ({"slug": "c", "type": "checkbox", "required": True}, False, "must be checked"),
    ({"slug": "s", "type": "select", "options": ["x"]}, "z", "must be one of the options"),
    ({"slug": "m", "type": "multiselect", "options": ["x"]}, "x", "must be a list"),
    ({"slug": "m", "type": "multiselect", "options": ["x"]}, ["x", 1], "every value must be one of the options"),
    ({"slug": "e", "type": "email"}, "no-at-sign", "must be a valid email address"),
    ({"slug": "p", "type": "phone"}, "020 7183 8750",
     "phone number must start with + and the country code, e.g. +44 20 7183 8750"),
    ({"slug": "u", "type": "url"}, "javascript:alert(1)", "must be an http or https URL"),
    ({"slug": "me", "type": "multiemail"}, ["a@x.org"] * 31, "at most 30 values"),
])
def test_wrong_answers_are_named(spec, answer, message):
    answers, problems = check_responses([field(**spec)], {spec["slug"]: answer})
    assert answers == {}
    assert problems == [{"field": f"bookingFieldsResponses.{spec['slug']}", "message": message}]


def test_every_problem_at_once_and_optional_blanks_left_out():
    fields = [field(slug="a", type="text", required=True), field(slug="b", type="text"),
              field(slug="c", type="multiselect", options=["x"], required=True)]
    answers, problems = check_responses(fields, {"a": "  ", "b": "", "c": [], "zzz": 1})
    assert answers == {}
    assert problems == [
        {"field": "bookingFieldsResponses.zzz", "message": "not a booking field of this event type"},
        {"field": "bookingFieldsResponses.a", "message": "is required"},
        {"field": "bookingFieldsResponses.c", "message": "is required"},
    ]


@pytest.mark.parametrize("spec", [
    {"slug": "Upper", "type": "text"}, {"slug": "-dash", "type": "text"}, {"slug": "x" * 41, "type": "text"},
    {"slug": "guests", "type": "text"}, {"slug": "s", "type": "select"}, {"slug": "s", "type": "select",
                                                                          "options": ["a", "a"]},
    {"slug": "t", "type": "text", "options": ["a"]}, {"slug": "t", "type": "number", "maxLength": 3},
    {"slug": "t", "type": "text", "min": 1}, {"slug": "t", "type": "text", "minLength": 5, "maxLength": 2},
])
def test_unusable_fields_are_refused(spec):
    with pytest.raises(ValidationError):
        field(**spec)


# -- through the phases -------------------------------------------------------------------------------------------
def body(**responses):
    return CreateBookingInput.model_validate({
        "start": "2026-12-02T10:00:00Z", "eventTypeId": 1,
        "attendee": {"name": "Jane", "email": "jane@example.org", "timeZone": "Europe/Paris"},
        "bookingFieldsResponses": responses})


@pytest.fixture
def asking(store):
    store.add_event_type(1, owner_id=1, booking_fields=[
        {"slug": "phone", "label": "Your phone", "type": "phone", "required": True},
        {"slug": "notes", "label": "Anything else?", "type": "textarea"},
        {"slug": "ref", "label": "Referrer", "type": "text", "hidden": True}])
    return store


def test_the_validation_step_refuses_before_anything_is_written(asking):
    with pytest.raises(DomainError) as caught:
        create_booking(body(phone="12", extra="x"), asking, NOW)
    assert caught.value.code == "request_body_invalid_error"
    assert [e["field"] for e in caught.value.details["errors"]] == ["bookingFieldsResponses.extra",
                                                                    "bookingFieldsResponses.phone"]
    assert "write" not in asking.calls and "next_booking_ids" not in asking.calls


def test_answers_are_stored_normalised_with_their_labels(asking):
    made = create_booking(body(phone="+44 20 7183 8750", ref="ad"), asking, NOW).booking
    assert made.booking_fields_responses == {"phone": "+442071838750", "ref": "ad"}
    assert [(f.slug, f.label, f.hidden) for f in made.booking_fields] == [
        ("phone", "Your phone", False), ("notes", "Anything else?", False), ("ref", "Referrer", True)]
    payload = booking_payload(made)
    assert payload["userFieldsResponses"]["phone"] == {"label": "Your phone", "value": "+442071838750"}
    assert payload["userFieldsResponses"]["ref"] == {"label": "Referrer", "value": "ad", "isHidden": True}
    email = render("confirmed", made, Recipient("jane@example.org", "Jane", "Europe/Paris", "attendee"))
    assert "Your phone: +442071838750" in email.text and "Referrer" not in email.text


def test_a_reschedule_keeps_the_answers_it_was_booked_with(asking):
    made = create_booking(body(phone="+44 20 7183 8750"), asking, NOW).booking
    asking.add_event_type(1, owner_id=1, booking_fields=[{"slug": "new", "label": "New", "type": "text",
                                                          "required": True}])
    moved = reschedule_booking(made.uid, RescheduleInput.model_validate({"start": "2026-12-02T11:00:00Z"}), asking,
                               NOW).booking
    assert moved.booking_fields_responses == {"phone": "+442071838750"}
    assert [f.slug for f in moved.booking_fields] == ["phone", "notes", "ref"]


def test_each_seat_keeps_its_own_checked_answers(asking):
    asking.add_event_type(1, owner_id=1, seats={"seats_per_time_slot": 3}, booking_fields=[
        {"slug": "phone", "label": "Your phone", "type": "phone", "required": True}])
    first = create_booking(body(phone="+44 20 7183 8750"), asking, NOW)
    second = create_booking(CreateBookingInput.model_validate({
        "start": "2026-12-02T10:00:00Z", "eventTypeId": 1,
        "attendee": {"name": "Sam", "email": "sam@example.org", "timeZone": "UTC"},
        "bookingFieldsResponses": {"phone": "+1 202 555 0143"}}), asking, NOW)
    assert first.booking.uid == second.booking.uid
    seats = {seat.attendee.email: seat.booking_fields_responses for seat in asking.seats(first.booking.uid)}
    assert seats == {"jane@example.org": {"phone": "+442071838750"}, "sam@example.org": {"phone": "+12025550143"}}
    assert asking.bookings[first.booking.uid].booking_fields_responses == {}  # the booking keeps no seat's answers
