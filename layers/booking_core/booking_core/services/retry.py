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
from typing import TypeVar

from booking_core.errors import DomainError

ATTEMPTS = 3

Written = TypeVar("Written")


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
