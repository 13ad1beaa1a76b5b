"""bookingRescheduled -> the rescheduleEvent steps, sent now; timed steps move from the old booking to the new one."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.workflows import WorkflowRunner


def handle(event: BookingEvent, workflows: WorkflowRunner) -> None:
    workflows.booking_changed(event, clock.now())
