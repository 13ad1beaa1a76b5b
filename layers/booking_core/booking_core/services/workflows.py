"""Workflows: the management API (`/v2/workflows`) and what the workflows subscriber does with booking changes.

Runtime, per booking change (`booking_changed`):
- timed steps (beforeEvent / afterEvent) are one-time EventBridge Scheduler schedules, one per (workflow, step,
  booking), named `wf-<workflowId>-<step>-<bookingUid>`: created for an accepted booking, re-put (moved) when it is
  seen again, deleted once the booking is cancelled or rescheduled away. The name is the only key: moving or deleting
  needs no lookup, and one booking has at most one schedule per step. Each puts `workflowStepDue` on the bus.
- immediate steps (newEvent, eventCancelled, rescheduleEvent) are sent from the event itself.
- `workflowStepDue` (`step_due`) re-reads the workflow and the booking and sends only if the step still applies:
  the booking is accepted, the workflow still has that step, is still active on its type and still due then (a
  workflow whose offset changed meanwhile is re-scheduled to its new time instead).
Exactly once: the subscriber runtime is idempotent on the event's eventId (a booking event or the fired schedule),
and every message is sent at most once per (eventId, workflow, step, recipient) (`run_once`), so a retry after a
partial failure resends nothing. A step that fails is retried with its message, then dead-lettered; the other
steps of the same change are attempted first (the failure is raised at the end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking_core.conferencing import describe_location
from booking_core.config import settings
from booking_core.domain.bookings import Attendee, Booking, BookingRecord, is_active
from booking_core.domain.common import merged
from booking_core.domain.seats import host_view
from booking_core.domain.workflows import (
    MAX_WORKFLOWS,
    SMS_ACTIONS,
    Recipient,
    Step,
    Workflow,
    WorkflowInput,
    WorkflowPatch,
    fit_sms,
    phone_in,
    render,
)
from booking_core.errors import DomainError, invalid, not_found
from booking_core.events.contracts import BookingEvent, ScheduledEvent
from booking_core.observability import count, logger, mask_email, mask_uid
from booking_core.services.retry import until_written
from booking_core.timeutil import UTC, zone

STEP_DUE = "workflowStepDue"
TRIGGER_OF = {"bookingCreated": "newEvent", "bookingConfirmed": "newEvent", "bookingRescheduled": "rescheduleEvent",
              "bookingCancelled": "eventCancelled"}


# -- management -----------------------------------------------------------------------------------------------------
class WorkflowService:
    def __init__(self) -> None:
        from booking_core.repositories.entities import EventTypeRepository
        from booking_core.repositories.workflows import WorkflowRepository

        self.repository = WorkflowRepository()
        self.event_types = EventTypeRepository()

    def _check_event_types(self, workflow: WorkflowInput) -> None:
        wanted = workflow.active_on.event_type_ids or []
        missing = sorted(set(wanted) - self.event_types.existing(wanted)) if wanted else []
        if missing:
            raise invalid("activeOn.eventTypeIds", f"no such event type: {', '.join(map(str, missing))}")

    def create(self, data: WorkflowInput, now: datetime) -> dict[str, Any]:
        self._check_event_types(data)
        if self.repository.count() >= MAX_WORKFLOWS:
            raise invalid("name", f"at most {MAX_WORKFLOWS} workflows: delete one first")
        workflow = Workflow(**data.model_dump(), id=self.repository.next_id(), created_at=now, updated_at=now)
        self.repository.create(workflow)
        logger.info("workflow created", extra={"workflow_id": workflow.id, "trigger": workflow.trigger})
        return workflow.dump()

    def _get(self, workflow_id: int) -> tuple[Workflow, int]:
        found = self.repository.get(workflow_id)
        if found is None:
            raise not_found("not_found_error", f"workflow {workflow_id}")
        return found

    def get(self, workflow_id: int) -> dict[str, Any]:
        return self._get(workflow_id)[0].dump()

    def list(self) -> list[dict[str, Any]]:
        return [workflow.dump() for workflow in self.repository.list()]

    def patch(self, workflow_id: int, patch: WorkflowPatch, now: datetime) -> dict[str, Any]:
        from booking_core.repositories.entities import ConcurrentUpdate

        def write() -> Workflow:
            current, version = self._get(workflow_id)
            updated = merged(Workflow, current, patch)
            updated.updated_at = now
            self._check_event_types(updated)
            self.repository.save(updated, current, version)
            return updated

        return until_written(write, "the workflow", ConcurrentUpdate).dump()

    def delete(self, workflow_id: int) -> None:
        from booking_core.repositories.entities import ConcurrentUpdate

        current, version = self._get(workflow_id)
        try:
            self.repository.delete(current, version)
        except ConcurrentUpdate as exc:
            raise DomainError("conflict_error", "the workflow changed concurrently; try again") from exc


# -- runtime ------------------------------------------------------------------------------------------------------
def step_schedule_name(workflow_id: int, step: int, booking_uid: str) -> str:
    """<= 64 characters of [0-9A-Za-z-_.]: wf-<workflowId>-<step>-<bookingUid>."""
    return f"wf-{workflow_id}-{step}-{booking_uid}"


@dataclass(frozen=True, slots=True)
class Person:
    """An attendee and their own booking-field answers (a seat's, in a seated booking)."""

    attendee: Attendee
    responses: dict[str, Any]


class StepsFailed(Exception):
    """Some steps of a change could not be sent (the others were): the message is retried, then dead-lettered."""


class WorkflowRunner:
    def __init__(self, store: Any, repository: Any, mailer: Any, texter: Any, scheduler: Any) -> None:
        self.store, self.repository = store, repository
        self.mailer, self.texter, self.scheduler = mailer, texter, scheduler

    # -- a booking change ----------------------------------------------------------------------------------------
    def booking_changed(self, event: BookingEvent, now: datetime) -> None:
        booking = event.detail.booking
        workflows = self.repository.active_on(booking.event_type_id)
        failures: list[str] = []
        if any(workflow.is_timed for workflow in workflows):
            self._attempt(failures, "timed steps", lambda: self._place_timed_steps(event, workflows, now))
        trigger = TRIGGER_OF[event.detail_type]
        if trigger == "newEvent" and booking.status != "accepted":
            return
        people = self._people_of_change(event)
        for workflow in workflows:
            if workflow.trigger != trigger:
                continue
            for index in range(len(workflow.steps)):
                self._attempt(failures, f"workflow {workflow.id} step {index}",
                              lambda w=workflow, i=index: self.run_step(w, i, booking, people, event.event_id))
        if failures:
            raise StepsFailed("; ".join(failures))

    @staticmethod
    def _attempt(failures: list[str], what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the other steps go on; the message is retried for this one
            logger.exception("workflow step failed", extra={"step": what})
            failures.append(f"{what}: {type(exc).__name__}")

    @staticmethod
    def _people_of_change(event: BookingEvent) -> list[Person]:
        """The attendees a change concerns: for a seat's own change only that seat (shown first in its view)."""
        booking = event.detail.booking
        attendees = booking.attendees[:1] if event.detail.context.seat_uid else booking.attendees
        return [Person(attendee, booking.booking_fields_responses) for attendee in attendees]

    def _place_timed_steps(self, event: BookingEvent, workflows: list[Workflow], now: datetime) -> None:
        """Schedules follow the booking as stored now: an accepted booking has them; one that is gone has none."""
        timed = [workflow for workflow in workflows if workflow.is_timed]
        previous = event.detail.previous_booking
        if event.detail_type == "bookingRescheduled" and previous is not None:
            old = self.store.get_booking(previous.uid)
            if old is None or not is_active(old.status):
                self._clear(timed, previous.uid)
        record = self.store.get_booking(event.detail.booking.uid)
        if record is not None and record.status == "accepted":
            for workflow in timed:
                self._schedule(workflow, record, now)
        elif record is None or not is_active(record.status):
            self._clear(timed, event.detail.booking.uid)

    def _schedule(self, workflow: Workflow, record: BookingRecord, now: datetime) -> None:
        from booking_core.scheduling import moment_detail

        at = workflow.due(record.start, record.end)
        if at is None:
            return
        for index in range(len(workflow.steps)):
            name = step_schedule_name(workflow.id, index, record.uid)
            detail = {**moment_detail(name, record.uid, at), "workflowId": workflow.id, "step": index}
            self.scheduler.put(name, at, STEP_DUE, detail, now)

    def _clear(self, workflows: list[Workflow], booking_uid: str) -> None:
        for workflow in workflows:
            for index in range(len(workflow.steps)):
                self.scheduler.delete(step_schedule_name(workflow.id, index, booking_uid))

    # -- a timed step comes due -------------------------------------------------------------------------------------
    def step_due(self, event: ScheduledEvent, now: datetime) -> bool:
        """Send the step if it still applies to the booking as it is now. True when it was run."""
        detail = event.detail
        if detail.workflow_id is None or detail.step is None:
            raise ValueError("workflowStepDue without workflowId and step")
        found = self.repository.get(detail.workflow_id)
        workflow = found[0] if found else None
        record = self.store.get_booking(detail.booking_uid)
        skip = None
        if workflow is None or not workflow.is_timed or detail.step >= len(workflow.steps):
            skip = "the workflow or its step is gone"
        elif record is None or record.status != "accepted":
            skip = "the booking is no longer accepted"
        elif not workflow.is_active_on(record.event_type_id):
            skip = "the workflow is no longer active on the booking's type"
        if skip or workflow is None or record is None:
            logger.info("workflow step skipped", extra={"reason": skip, "booking_uid": mask_uid(detail.booking_uid)})
            return False
        due = workflow.due(record.start, record.end)
        if due is not None and abs(due - detail.scheduled_for) > timedelta(minutes=1):
            if due > now:  # the workflow's timing changed since this was scheduled: the step moves with it
                self._schedule(workflow, record, now)
            logger.info("workflow step not due at this time", extra={"workflow_id": workflow.id})
            return False
        people = [Person(attendee, record.booking_fields_responses) for attendee in record.attendees]
        booking: Booking = record
        if record.is_seated:
            seats = self.store.seats(record.uid)
            booking = host_view(record, seats)
            people = [Person(seat.attendee, seat.booking_fields_responses) for seat in seats]
        self.run_step(workflow, detail.step, booking, people, event.event_id)
        return True

    # -- one step ---------------------------------------------------------------------------------------------------
    def run_step(self, workflow: Workflow, index: int, booking: Booking, people: list[Person], cause: str) -> int:
        """Send step `index` to each of its recipients once per cause (the event or the fired schedule)."""
        from booking_core.subscribers import run_once

        step = workflow.steps[index]
        sent = 0
        for recipient, responses in self.recipients(step, booking, people):
            key = f"{cause}:{workflow.id}:{index}:{recipient.address.lower()}"
            run_once("workflows.sent", key,
                     lambda r=recipient, a=responses: self._send(step, booking, r, a))
            sent += 1
        count("WorkflowStepsRun", action=step.action)
        return sent

    @staticmethod
    def recipients(step: Step, booking: Booking, people: list[Person]) -> list[tuple[Recipient, dict[str, Any]]]:
        """Who the step goes to, each once, with the time zone and answers its text speaks of."""
        organizer = booking.hosts[0]
        shared = booking.booking_fields_responses
        found: list[tuple[Recipient, dict[str, Any]]] = []
        if step.action == "emailAttendee":
            booker_zone = people[0].attendee.time_zone if people else organizer.time_zone
            found += [(Recipient(p.attendee.email, p.attendee.time_zone, p.attendee.name), p.responses)
                      for p in people]
            found += [(Recipient(guest, booker_zone), shared) for guest in booking.guests]
        elif step.action == "emailHost":
            found += [(Recipient(host.email, host.time_zone), shared) for host in booking.hosts]
        elif step.action == "smsAttendee":
            for person in people:
                number = person.attendee.phone_number or phone_in(person.responses)
                if number:
                    found.append((Recipient(number, person.attendee.time_zone, person.attendee.name),
                                  person.responses))
                else:
                    logger.info("no number to text", extra={"attendee": mask_email(person.attendee.email)})
        elif step.to:  # emailAddress, smsNumber
            found.append((Recipient(step.to, organizer.time_zone), shared))
        unique: dict[str, tuple[Recipient, dict[str, Any]]] = {}
        for recipient, responses in found:
            unique.setdefault(recipient.address.lower(), (recipient, responses))
        return list(unique.values())

    def _send(self, step: Step, booking: Booking, recipient: Recipient, responses: dict[str, Any]) -> None:
        values = template_values(booking, recipient)
        if step.action in SMS_ACTIONS:
            self.texter.send(recipient.address, fit_sms(render(step.body, values, responses)))
            return
        from booking_core.emails import to_mime
        from booking_core.emails.render import free_form

        email = free_form(recipient.address, render(step.subject or "{EVENT_NAME}", values, responses),
                          render(step.body, values, responses))
        self.mailer.send(to_mime(email, settings().notifications_from), email.to)
        logger.info("workflow email sent", extra={"to": mask_email(recipient.address),
                                                  "booking_uid": mask_uid(booking.uid)})


def template_values(booking: Booking, recipient: Recipient) -> dict[str, str]:
    """What each variable says for this booking and recipient (dates and times in the recipient's zone)."""
    try:
        tz, zone_name = zone(recipient.time_zone), recipient.time_zone
    except ValueError:
        tz, zone_name = UTC, "UTC"
    local = booking.start.astimezone(tz)
    first = booking.attendees[0].name if booking.attendees else ""
    return {
        "EVENT_NAME": booking.title,
        "ORGANIZER_NAME": booking.hosts[0].name,
        "ATTENDEE_NAME": recipient.attendee_name or first,
        "EVENT_DATE": f"{local:%A %d %B %Y}",
        "EVENT_TIME": f"{local:%H:%M}",
        "TIMEZONE": zone_name,
        "LOCATION": describe_location(booking.location) or "",
        "MEETING_URL": booking.meeting_url or "",
        "CANCELLATION_REASON": booking.cancellation_reason or "",
    }


def runner() -> WorkflowRunner:
    """The subscriber's runner, with the AWS clients it uses (SES, SNS, EventBridge Scheduler)."""
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.repositories.workflows import WorkflowRepository
    from booking_core.scheduling import MomentScheduler
    from booking_core.services.notifications import Mailer
    from booking_core.sms import Texter

    return WorkflowRunner(DynamoBookingStore(), WorkflowRepository(), Mailer(), Texter(), MomentScheduler())
