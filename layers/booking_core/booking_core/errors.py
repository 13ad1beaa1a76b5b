"""Domain errors. Each maps to one row of the error table (docs/api.md, "Errors")."""

from __future__ import annotations

from typing import Any

# code -> HTTP status: the single source of truth for the contract's error table.
ERROR_STATUS: dict[str, int] = {
    "request_body_invalid_error": 400,
    "booking_in_past": 400,
    "booking_time_out_of_bounds_error": 400,
    "invalid_event_length": 400,
    "recurring_event_seats_error": 400,
    "cancelled_bookings_cannot_be_rescheduled": 400,
    "booking_not_started": 400,
    "unauthorized_error": 401,
    "booker_email_blocked": 403,
    "booker_email_requires_login": 403,
    "private_link_expired": 403,
    "reschedule_notice_too_short": 403,
    "forbidden_error": 403,
    "event_type_not_found": 404,
    "booking_not_found_error": 404,
    "routing_form_response_not_found": 404,
    "not_found_error": 404,
    "no_available_users_found_error": 409,
    "fixed_hosts_unavailable_for_booking": 409,
    "round_robin_host_unavailable_for_booking": 409,
    "booking_seats_full_error": 409,
    "already_signed_up_for_this_booking_error": 409,
    "booker_limit_exceeded_error": 409,
    "booker_limit_exceeded_error_reschedule": 409,
    "booking_limit_reached": 409,
    "duration_limit_reached": 409,
    "conflict_error": 409,
    "idempotency_key_in_progress": 409,
    "host_out_of_office": 409,
    "slot_reserved": 409,
    "payload_too_large": 413,
    "event_type_no_hosts": 422,
    "idempotency_key_reused": 422,
    "too_many_requests": 429,
    "internal_server_error": 500,
}


class DomainError(Exception):
    """A failure a user can act on. `code` is a stable snake_case string from ERROR_STATUS."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown error code {code}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}  # HTTP headers the answer carries (Retry-After on 429)

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"status": "error", "error": error}


def invalid(field: str, message: str) -> DomainError:
    """A 400 request_body_invalid_error for one field."""
    return DomainError(
        "request_body_invalid_error",
        f"{field}: {message}",
        {"errors": [{"field": field, "message": message}]},
    )


def not_found(code: str, what: str) -> DomainError:
    return DomainError(code, f"{what} not found")
