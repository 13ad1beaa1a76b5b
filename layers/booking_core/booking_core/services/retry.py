"""Read, copy, write, and again when someone else wrote first.

A change to a stored document (a user, a schedule, an event type, a workflow, a booking's calendar event, meeting or
assignment reason) reads it, makes its copy and writes the copy on the condition that the document is still the
version read. When another writer got there first the condition is refused: `until_written` runs the whole step
again, from a fresh read. Running out of attempts is an error, never a silent give-up: in the API it is a 409
`conflict_error`; in a subscriber the message fails, is retried by its queue and, after its retries, lands in the
feature's DLQ, whose alarm someone watches.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from booking_core.errors import DomainError
from booking_core.ports import StaleBooking

ATTEMPTS = 3

Written = TypeVar("Written")
P = ParamSpec("P")


class OutOfAttempts(DomainError):
    """A document kept changing under a read-copy-write: 409 conflict_error (`what` changed concurrently)."""

    def __init__(self, what: str, attempts: int) -> None:
        super().__init__("conflict_error", f"{what} changed concurrently; try again")
        self.what = what
        self.attempts = attempts


def until_written(step: Callable[[], Written], what: str, refused: type[Exception] | tuple[type[Exception], ...],
                  attempts: int = ATTEMPTS) -> Written:
    """`step()` (read, copy, conditional write) until its write is not `refused`; its result. OutOfAttempts after
    `attempts` refusals, with the last refusal as its cause."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return step()
        except refused as exc:
            last = exc
    raise OutOfAttempts(what, attempts) from last


def at_most_once(check: Callable[[], None] | None) -> Callable[[], None] | None:
    """`check` (a request's per-IP abuse check, say) made to run at most once however often the step it rides in is
    run again."""
    if check is None:
        return None
    pending = [check]

    def run() -> None:
        if pending:
            pending.pop()()

    return run


def decided_again(refused: type[Exception] | tuple[type[Exception], ...],
                  what: str) -> Callable[[Callable[P, Written]], Callable[P, Written]]:
    """A change (read, decide, conditional write) run whole again from a fresh read when its write is `refused`:
    `until_written` over the change. The booking changes of the API use it: calendar sync and meeting apps write a
    booking right after every booking and reschedule, and a cancel made in that moment is not in conflict with
    anything the booker asked for; a second cancel, read again, finds the booking cancelled."""
    def decorate(change: Callable[P, Written]) -> Callable[P, Written]:
        @wraps(change)
        def run(*args: P.args, **kwargs: P.kwargs) -> Written:
            return until_written(lambda: change(*args, **kwargs), what, refused)

        return run

    return decorate


# The API's changes of a booking (cancel, reschedule, confirm, host operations...): decided again when the booking
# was written since it was read.
booking_change = decided_again(StaleBooking, "the booking")
