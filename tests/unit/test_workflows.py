"""Workflows without AWS: what a workflow may say (templates checked when it is saved), when its timed steps are
due, who each step goes to, and what the texts become."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from booking_core.domain.bookings import Attendee, Booking, EventTypeRef, HostRef
from booking_core.domain.workflows import (
    SMS_MAX_CHARS,
    Recipient,
    Step,
    Workflow,
    WorkflowInput,
    fit_sms,
    phone_in,
    render,
    unknown_variables,
)
from booking_core.services.workflows import Person, WorkflowRunner, step_schedule_name, template_values

NOW = datetime(2027, 1, 10, 8, 0, tzinfo=timezone.utc)


def workflow(**fields) -> dict:
    return {"name": "Remind", "activeOn": {"all": True}, "trigger": "newEvent",
            "steps": [{"action": "emailAttendee", "body": "Hi {ATTENDEE_NAME}"}], **fields}


def errors(body: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        WorkflowInput.model_validate(body)
    return [(".".join(str(part) for part in error["loc"]), error["msg"]) for error in caught.value.errors()]


def booking(**fields) -> Booking:
    host = HostRef(id=1, name="Alice Host", email="alice@example.com", time_zone="Europe/London")
    data = dict(id=7, uid="uid-7", title="Intro between Alice Host and Jane", status="accepted",
                start=datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc),
                end=datetime(2027, 1, 13, 10, 30, tzinfo=timezone.utc), duration=30, event_type_id=1,
                event_type=EventTypeRef(id=1, slug="intro"), hosts=[host],
                attendees=[Attendee(name="Jane", email="jane@example.org", time_zone="America/New_York",
                                    phone_number="+14155552671")],
                guests=["friend@example.org"], location="https://meet.example/abc",
                meeting_url="https://meet.example/abc", created_at=NOW, updated_at=NOW)
    data.update(fields)
    return Booking(**data)


# -- templates ----------------------------------------------------------------------------------------------------
def test_every_documented_variable_is_accepted_and_others_are_not():
    text = ("{EVENT_NAME} {ORGANIZER_NAME} {ATTENDEE_NAME} {EVENT_DATE} {EVENT_TIME} {TIMEZONE} {LOCATION} "
            "{MEETING_URL} {CANCELLATION_REASON} {RESPONSES.company-size} {RESPONSES.notes}")
    assert unknown_variables(text) == []
    assert unknown_variables("Hi {ATENDEE_NAME}, {event_name} {RESPONSES.} {RESPONSES.a.b}") == [
        "ATENDEE_NAME", "event_name", "RESPONSES.", "RESPONSES.a.b"]
    assert unknown_variables("JSON-ish {not a variable} and { spaced }") == []


def test_an_unknown_variable_is_refused_naming_the_step_field():
    found = errors(workflow(steps=[{"action": "emailAttendee", "subject": "{EVENT}", "body": "ok"},
                                   {"action": "smsNumber", "to": "+44 20 7183 8750", "body": "at {TIME}"}]))
    fields = [field for field, _ in found]
    assert fields == ["steps.0.subject", "steps.1.body"]
    assert "unknown variable {EVENT}" in found[0][1] and "{EVENT_NAME}" in found[0][1]


@pytest.mark.parametrize("step, field", [
    ({"action": "emailAddress", "body": "x"}, "steps.0.to"),
    ({"action": "emailAddress", "to": "not-an-email", "body": "x"}, "steps.0.to"),
    ({"action": "smsNumber", "to": "0207 183 8750", "body": "x"}, "steps.0.to"),
    ({"action": "emailAttendee", "to": "a@example.org", "body": "x"}, "steps.0.to"),
    ({"action": "smsAttendee", "subject": "no", "body": "x"}, "steps.0.subject"),
    ({"action": "emailHost", "body": ""}, "steps.0.body"),
    ({"action": "fax", "body": "x"}, "steps.0.action"),
])
def test_steps_are_checked(step, field):
    assert field in [f for f, _ in errors(workflow(steps=[step]))]


def test_numbers_and_addresses_are_normalised():
    parsed = WorkflowInput.model_validate(workflow(steps=[
        {"action": "smsNumber", "to": "+44 20 7183 8750", "body": "x"},
        {"action": "emailAddress", "to": "Team@Example.COM", "body": "x"}]))
    assert [s.to for s in parsed.steps] == ["+442071838750", "Team@example.com"]


@pytest.mark.parametrize("fields, field", [
    ({"trigger": "beforeEvent"}, "offset"),
    ({"trigger": "newEvent", "offset": {"value": 1, "unit": "hours"}}, "offset"),
    ({"trigger": "afterEvent", "offset": {"value": 400, "unit": "days"}}, "offset"),
    ({"activeOn": {}}, "activeOn"),
    ({"activeOn": {"all": True, "eventTypeIds": [1]}}, "activeOn"),
    ({"activeOn": {"all": False}}, "activeOn.all"),
    ({"activeOn": {"eventTypeIds": list(range(1, 42))}}, "activeOn.eventTypeIds"),
    ({"steps": []}, "steps"),
    ({"steps": [{"action": "emailHost", "body": "x"}] * 11}, "steps"),
    ({"trigger": "whenever"}, "trigger"),
])
def test_workflow_shape(fields, field):
    assert any(f.startswith(field) for f, _ in errors(workflow(**fields))), errors(workflow(**fields))


def test_timed_steps_are_due_before_the_start_or_after_the_end():
    start, end = datetime(2027, 1, 13, 10, tzinfo=timezone.utc), datetime(2027, 1, 13, 11, tzinfo=timezone.utc)
    before = Workflow(**WorkflowInput.model_validate(workflow(trigger="beforeEvent",
                                                              offset={"value": 1, "unit": "days"})).model_dump(),
                      id=1, created_at=NOW, updated_at=NOW)
    after = before.model_copy(update={"trigger": "afterEvent"})
    assert before.due(start, end) == datetime(2027, 1, 12, 10, tzinfo=timezone.utc)
    assert after.due(start, end) == datetime(2027, 1, 14, 11, tzinfo=timezone.utc)
    instant = before.model_copy(update={"trigger": "newEvent", "offset": None})
    assert instant.due(start, end) is None


def test_schedule_names_are_deterministic_and_fit_the_scheduler():
    name = step_schedule_name(2**53 - 1, 9, "A" * 22)
    assert name == f"wf-{2**53 - 1}-9-{'A' * 22}" and len(name) <= 64


# -- rendering ----------------------------------------------------------------------------------------------------
def test_values_speak_the_recipients_zone():
    attendee = template_values(booking(cancellation_reason="flu"), Recipient("jane@example.org", "America/New_York",
                                                                           "Jane"))
    assert attendee == {"EVENT_NAME": "Intro between Alice Host and Jane", "ORGANIZER_NAME": "Alice Host",
                        "ATTENDEE_NAME": "Jane", "EVENT_DATE": "Wednesday 13 January 2027", "EVENT_TIME": "05:00",
                        "TIMEZONE": "America/New_York", "LOCATION": "https://meet.example/abc",
                        "MEETING_URL": "https://meet.example/abc", "CANCELLATION_REASON": "flu"}
    host = template_values(booking(), Recipient("alice@example.com", "Asia/Kolkata"))
    assert (host["EVENT_TIME"], host["TIMEZONE"], host["ATTENDEE_NAME"]) == ("15:30", "Asia/Kolkata", "Jane")
    assert template_values(booking(), Recipient("x@example.org", "Not/AZone"))["TIMEZONE"] == "UTC"


def test_render_fills_variables_and_answers():
    values = {"ATTENDEE_NAME": "Jane"}
    responses = {"size": ["10-50", "50+"], "agree": True, "notes": None}
    text = render("{ATTENDEE_NAME}: {RESPONSES.size} / {RESPONSES.agree} / [{RESPONSES.notes}] / "
                  "[{RESPONSES.missing}] {kept as is}", values, responses)
    assert text == "Jane: 10-50, 50+ / yes / [] / [] {kept as is}"


def test_texts_are_cut_to_480_characters_with_an_ellipsis():
    assert fit_sms("short") == "short"
    exact = "x" * SMS_MAX_CHARS
    assert fit_sms(exact) == exact
    cut = fit_sms("word " * 200)
    assert len(cut) <= SMS_MAX_CHARS and cut.endswith("...")


def test_a_phone_answer_is_an_e164_number():
    assert phone_in({"company": "ACME", "mobile": "+447700900123"}) == "+447700900123"
    assert phone_in({"count": "+12", "notes": "call +44 7700 900123"}) is None


# -- recipients ---------------------------------------------------------------------------------------------------
def recipients(action: str, the_booking: Booking, people=None, to=None) -> list[tuple[str, str]]:
    step = Step.model_validate({"action": action, "body": "x", **({"to": to} if to else {})})
    people = people if people is not None else [Person(a, the_booking.booking_fields_responses)
                                                for a in the_booking.attendees]
    return [(r.address, r.time_zone) for r, _ in WorkflowRunner.recipients(step, the_booking, people)]


def test_each_action_has_its_recipients_once():
    b = booking(guests=["friend@example.org", "JANE@example.org"])
    assert recipients("emailAttendee", b) == [("jane@example.org", "America/New_York"),
                                              ("friend@example.org", "America/New_York")]
    cohost = HostRef(id=2, name="Bob", email="bob@example.com", time_zone="Europe/Paris")
    assert recipients("emailHost", booking(hosts=[booking().hosts[0], cohost])) == [
        ("alice@example.com", "Europe/London"), ("bob@example.com", "Europe/Paris")]
    assert recipients("emailAddress", b, to="team@example.com") == [("team@example.com", "Europe/London")]
    assert recipients("smsNumber", b, to="+44 20 7183 8750") == [("+442071838750", "Europe/London")]
    assert recipients("smsAttendee", b) == [("+14155552671", "America/New_York")]


def test_an_attendee_without_a_number_is_texted_at_their_phone_answer_or_not_at_all():
    no_phone = Attendee(name="Sam", email="sam@example.org", time_zone="UTC")
    b = booking(attendees=[no_phone])
    assert recipients("smsAttendee", b, [Person(no_phone, {"mobile": "+447700900123"})]) == [("+447700900123", "UTC")]
    assert recipients("smsAttendee", b, [Person(no_phone, {"mobile": "not a number"})]) == []
