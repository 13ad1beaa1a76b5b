"""workflowStepDue (EventBridge Scheduler) -> a timed step of one workflow for one booking, sent only if it still
applies to the booking as it is now."""

from booking_core import clock
from booking_core.events.contracts import ScheduledEvent
from booking_core.services.workflows import WorkflowRunner


def handle(event: ScheduledEvent, workflows: WorkflowRunner) -> None:
    workflows.step_due(event, clock.now())
