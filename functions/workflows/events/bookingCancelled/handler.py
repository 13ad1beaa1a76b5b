"""bookingCancelled -> the eventCancelled steps, sent now; the booking's timed steps are deleted once it is gone (a
seat leaving a seated booking leaves them for the others)."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.workflows import WorkflowRunner


def handle(event: BookingEvent, workflows: WorkflowRunner) -> None:
    workflows.booking_changed(event, clock.now())
