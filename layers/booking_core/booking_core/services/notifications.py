"""Notifications: booking emails through SES v2 and reminder schedules (EventBridge Scheduler)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking_core import clock, jobs, meeting_wait
from booking_core.config import settings
from booking_core.domain.bookings import Booking, BookingRecord
from booking_core.emails import Recipient, recipients_for, render, to_mime
from booking_core.emails.render import Kind
from booking_core.events.contracts import BookingEvent, ScheduledEvent
from booking_core.observability import count, logger, mask_email, mask_uid
from booking_core.ports import BookingStore
from booking_core.scheduling import MomentScheduler, moment_detail, schedule_name


class Mailer:
    """SES v2 SendEmail with a raw MIME message (text, HTML, .ics)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from booking_core.aws import client

            self._client = client("sesv2")
        return self._client

    def send(self, raw: bytes, to: list[str]) -> None:
        self.client.send_email(
            FromEmailAddress=settings().notifications_from,
            Destination={"ToAddresses": to},
            Content={"Raw": {"Data": raw}},
        )


class NotificationService:
    def __init__(self, store: BookingStore, mailer: Mailer | None = None,
                 scheduler: MomentScheduler | None = None) -> None:
        self.store = store
        self.mailer = mailer or Mailer()
        self.scheduler = scheduler or MomentScheduler()

    @staticmethod
    def sender() -> str:
        return settings().notifications_from

    def email(self, kind: Kind, booking: Booking, previous: Booking | None = None, reason: str | None = None,
              attendees_only: bool = False) -> int:
        people = [r for r in recipients_for(booking, kind) if not attendees_only or r.role == "attendee"]
        return self.send(kind, booking, people, previous=previous, reason=reason)

    def send(self, kind: Kind, booking: Booking, people: list[Recipient], previous: Booking | None = None,
             reason: str | None = None) -> int:
        for recipient in people:
            message = render(kind, booking, recipient, previous=previous, reason=reason)
            self.mailer.send(to_mime(message, self.sender()), message.to)
        count("EmailsSent", len(people), kind=kind)
        logger.info("emails sent", extra={"kind": kind, "booking_uid": mask_uid(booking.uid), "count": len(people),
                                          "to": [mask_email(r.email) for r in people]})
        return len(people)

    def updated(self, booking: Booking, previous: Booking | None) -> int:
        """Guests or location changed: guests new on the booking get the invitation, everyone else the update."""
        before = {guest.lower() for guest in previous.guests} if isinstance(previous, Booking) else set()
        new = {guest.lower() for guest in booking.guests} - before if previous is not None else set()
        everyone = recipients_for(booking, "updated")
        invited = [r for r in everyone if r.email.lower() in new]
        return (self.send("invited", booking, invited)
                + self.send("updated", booking, [r for r in everyone if r.email.lower() not in new]))

    def reassigned(self, booking: Booking, previous: Booking | None) -> int:
        """Another host: the new host gets "new booking", the host who left "reassigned" (the event leaves their
        calendar), the attendees and the hosts who stay the update."""
        before = {host.id: host for host in previous.hosts} if isinstance(previous, Booking) else {}
        now = {host.id for host in booking.hosts}
        joined = {host.email.lower() for host in booking.hosts if host.id not in before}
        everyone = recipients_for(booking, "updated")
        left = [Recipient(host.email, host.name, host.time_zone, "organizer") for host_id, host in before.items()
                if host_id not in now]
        return (self.send("confirmed", booking, [r for r in everyone if r.email.lower() in joined])
                + self.send("reassigned", booking, left)
                + self.send("updated", booking, [r for r in everyone if r.email.lower() not in joined]))

    # -- the email about an accepted or moved booking, held for its meeting link ---------------------------------------
    def announce(self, event: BookingEvent) -> bool:
        """The confirmation (created, confirmed) or rescheduled emails: now, or, while the booking's meeting link is
        being made, when it comes or the bounded wait ends (`meeting_wait`). True when sent now."""
        if meeting_wait.awaits_link(event.detail.booking):
            job, delay = meeting_wait.hold(event, clock.now())
            jobs.send(settings().notifications_queue_url, job, delay)
            logger.info("emails held for the meeting link", extra={"booking_uid": event.detail.booking.uid,
                                                                    "seconds": delay})
            return False
        self._announce_now(event)
        return True

    def release(self, event: BookingEvent) -> None:
        """Send held emails once (keyed on the held change's eventId: the link's arrival and the end of the wait
        may both come)."""
        from booking_core.subscribers import run_once

        run_once("notifications.meetingLink", event.event_id, lambda: self._announce_now(event))

    def link_due(self, job: dict[str, Any]) -> None:
        """The wait is over: send with the link if the booking has it by now, else without; nothing when the
        booking was cancelled meanwhile (its cancellation email went out: a confirmation after it would mislead)."""
        event = meeting_wait.event_of(job)
        record = self.store.get_booking(event.detail.booking.uid)
        if record is not None and record.status in ("cancelled", "rejected"):
            logger.info("held emails dropped: the booking is no longer on", extra={"booking_uid": record.uid})
            return
        self.release(meeting_wait.with_link_of(event, record))

    def _announce_now(self, event: BookingEvent) -> None:
        detail = event.detail
        previous = detail.previous_booking if isinstance(detail.previous_booking, Booking) else None
        if event.detail_type == "bookingRescheduled":
            self.email("rescheduled", detail.booking, previous=detail.previous_booking,
                       reason=detail.booking.rescheduling_reason)
        elif event.detail_type == "bookingUpdated":
            self.updated(detail.booking, previous)
        elif event.detail_type == "bookingReassigned":
            self.reassigned(detail.booking, previous)
        else:
            self.email("confirmed", detail.booking)

    # -- reminders ------------------------------------------------------------------------------------------------
    def schedule_reminders(self, record: BookingRecord, now: datetime) -> None:
        for minutes in record.reminder_minutes:
            name = schedule_name("reminderDue", record.uid, minutes)
            at = record.start - timedelta(minutes=minutes)
            self.scheduler.put(name, at, "reminderDue", moment_detail(name, record.uid, at, minutes), now)

    def delete_reminders(self, record: BookingRecord) -> None:
        for minutes in record.reminder_minutes:
            self.scheduler.delete(schedule_name("reminderDue", record.uid, minutes))

    def reminder_due(self, event: ScheduledEvent) -> int:
        """A reminder fired: send it only if the booking is still accepted, to whoever holds it now."""
        record = self.store.get_booking(event.detail.booking_uid)
        if record is None or record.status != "accepted":
            logger.info("reminder skipped", extra={"booking_uid": mask_uid(event.detail.booking_uid)})
            return 0
        if record.is_seated:
            record.attendees = [seat.attendee for seat in self.store.seats(record.uid)]
        return self.email("reminder", record, attendees_only=True)

    def record_of(self, event: BookingEvent) -> BookingRecord | None:
        return self.store.get_booking(event.detail.booking.uid)
