"""bookingConfirmed -> the newEvent steps of the workflows active on the booking's type, sent now; their timed steps
(beforeEvent / afterEvent) scheduled for the accepted booking."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.workflows import WorkflowRunner


def handle(event: BookingEvent, workflows: WorkflowRunner) -> None:
    workflows.booking_changed(event, clock.now())
