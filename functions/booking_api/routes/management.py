"""Management routes (docs/api.md "Management API"), all behind the admin key."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from booking_core import clock
from booking_core.domain.common import MAX_ID, MAX_UID
from booking_core.domain.access import BlocklistInput, PrivateLinkInput, RoutingFormResponseInput
from booking_core.domain.bookings import (
    AddGuestsInput,
    DeclineInput,
    LocationInput,
    MarkAbsentInput,
    ReassignInput,
    RequestRescheduleInput,
)
from booking_core.domain.calendars import ConferencingConnectInput, ConnectInput, ConnectionPatch
from booking_core.domain.event_types import EventTypeInput, EventTypePatch
from booking_core.domain.out_of_office import OutOfOfficeInput
from booking_core.domain.users import ScheduleInput, SchedulePatch, UserInput, UserPatch
from booking_core.domain.webhooks import WebhookInput, WebhookPatch
from booking_core.domain.workflows import WorkflowInput, WorkflowPatch
from routes.http import Lazy, Routes, ok


# Admin-only services are built on first use: booker cold starts do not import them.
def _management() -> Any:
    from booking_core.services.management import Management

    return Management()


def _access() -> Any:
    from booking_core.services.access import Access

    return Access()


def _webhooks() -> Any:
    from booking_core.services.webhooks import WebhookService

    return WebhookService()


def _calendars() -> Any:
    from booking_core.services.calendars import CalendarConnections

    return CalendarConnections()


def _conferencing() -> Any:
    from booking_core.services.conferencing import ConferencingConnections

    return ConferencingConnections()


def _out_of_office() -> Any:
    from booking_core.services.out_of_office import OutOfOfficeService

    return OutOfOfficeService()


def _workflows() -> Any:
    from booking_core.services.workflows import WorkflowService

    return WorkflowService()


def _changes() -> Any:
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.services import changes

    return changes, DynamoBookingStore()


def _host_operations() -> Any:
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.services import changes, host_operations

    return host_operations, changes, DynamoBookingStore()


def register(routes: Routes) -> None:
    service = Lazy(_management)

    @routes.admin("POST", "/v2/users", success=201, errors=(409,), tags=["users"], summary="Create a user (host)")
    def create_user(body: Annotated[UserInput, Body()]):
        return ok(service().create_user(body), 201)

    @routes.admin("GET", "/v2/users/<user_id>", tags=["users"], summary="Get a user")
    def get_user(user_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(service().get_user(user_id))

    @routes.admin("PATCH", "/v2/users/<user_id>", errors=(409,), tags=["users"], summary="Update a user (locked users are never booked)")
    def patch_user(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[UserPatch, Body()]):
        return ok(service().patch_user(user_id, body))

    @routes.admin("POST", "/v2/schedules", success=201, errors=(409,), tags=["schedules"], summary="Create a schedule")
    def create_schedule(body: Annotated[ScheduleInput, Body()]):
        return ok(service().create_schedule(body), 201)

    @routes.admin("GET", "/v2/schedules/<schedule_id>", tags=["schedules"], summary="Get a schedule")
    def get_schedule(schedule_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(service().get_schedule(schedule_id))

    @routes.admin("PATCH", "/v2/schedules/<schedule_id>", errors=(409,), tags=["schedules"], summary="Update a schedule")
    def patch_schedule(schedule_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[SchedulePatch, Body()]):
        return ok(service().patch_schedule(schedule_id, body))

    @routes.admin("POST", "/v2/event-types", success=201, tags=["event types"], summary="Create an event type")
    def create_event_type(body: Annotated[EventTypeInput, Body()]):
        return ok(service().create_event_type(body), 201)

    @routes.admin("GET", "/v2/event-types/<event_type_id>", tags=["event types"], summary="Get an event type")
    def get_event_type(event_type_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(service().get_event_type(event_type_id))

    @routes.admin("PATCH", "/v2/event-types/<event_type_id>", errors=(409,), tags=["event types"], summary="Update an event type")
    def patch_event_type(event_type_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[EventTypePatch, Body()]):
        return ok(service().patch_event_type(event_type_id, body))

    @routes.admin("DELETE", "/v2/event-types/<event_type_id>", tags=["event types"], summary="Delete an event type")
    def delete_event_type(event_type_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        service().delete_event_type(event_type_id)
        return ok(None)


def register_access(routes: Routes) -> None:
    """Blocklist, private links, routing form responses, and the host's decision on pending bookings."""
    access = Lazy(_access)
    changes = Lazy(_changes)

    @routes.admin("POST", "/v2/blocklist", success=201, errors=(409,), tags=["blocklist"], summary="Block an email or a domain",
                  description="`block` refuses the booker (403 booker_email_blocked), drops such guests and never "
                              "books such hosts; `requireLogin` needs a booker JWT for that address.")
    def add_block(body: Annotated[BlocklistInput, Body()]):
        return ok(access().add_block(body, clock.now()), 201)

    @routes.admin("GET", "/v2/blocklist", tags=["blocklist"], summary="List blocklist entries")
    def list_blocks():
        return ok(access().list_blocks())

    @routes.admin("DELETE", "/v2/blocklist/<entry_id>", tags=["blocklist"], summary="Remove a blocklist entry")
    def remove_block(entry_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        access().remove_block(entry_id)
        return ok(None)

    @routes.admin("POST", "/v2/event-types/<event_type_id>/private-links", success=201, tags=["event types"],
                  summary="Create a private link")
    def create_link(event_type_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[PrivateLinkInput, Body()]):
        return ok(access().create_link(event_type_id, body, clock.now()), 201)

    @routes.admin("GET", "/v2/event-types/<event_type_id>/private-links", tags=["event types"],
                  summary="List private links")
    def list_links(event_type_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(access().list_links(event_type_id, clock.now()))

    @routes.admin("POST", "/v2/routing-form-responses", success=201, tags=["routing forms"], summary="Record a routing response")
    def create_routing_response(body: Annotated[RoutingFormResponseInput, Body()]):
        return ok(access().create_routing_response(body, clock.now()), 201)

    @routes.admin("POST", "/v2/bookings/<uid>/confirm", errors=(409,), tags=["bookings"], summary="Confirm a pending booking")
    def confirm_booking(uid: Annotated[str, Path(max_length=MAX_UID)]):
        module, store = changes()
        return ok(module.confirm(store, uid, clock.now()))

    @routes.admin("POST", "/v2/bookings/<uid>/decline", errors=(409,), tags=["bookings"], summary="Decline a pending booking")
    def decline_booking(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[DeclineInput, Body()]):
        module, store = changes()
        return ok(module.decline(store, uid, body.reason, clock.now()))

    register_host_operations(routes)


def register_host_operations(routes: Routes) -> None:
    """What a host does with a booking after it exists (no-shows, reassign, request-reschedule, guests, location)."""
    operations = Lazy(_host_operations)

    @routes.admin("POST", "/v2/bookings/<uid>/mark-absent", errors=(409,), tags=["bookings"],
                  summary="Record no-shows (the host, attendees)",
                  description="`{host?: bool, attendees?: [{email, absent}]}` -> the booking with `absentHost` and "
                              "`attendees[].absent`. Only an accepted booking whose start has passed (else 400 "
                              "booking_not_started); an email that is not an attendee's (a booker or a seat holder) "
                              "-> 400. Emits bookingNoShowUpdated when a flag changes (BOOKING_NO_SHOW_UPDATED).")
    def mark_absent(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[MarkAbsentInput, Body()]):
        module, _, store = operations()
        return ok(module.mark_absent(store, uid, body, clock.now()))

    @routes.admin("POST", "/v2/bookings/<uid>/reassign", errors=(409,), tags=["bookings"],
                  summary="Reassign a round-robin booking to another host",
                  description="`{userId?, reason?}`: without userId the best free host by the round-robin ranking "
                              "(never the current one); with userId that host, who must be another round-robin host "
                              "of the type and free at that time (else 409 round_robin_host_unavailable_for_booking). "
                              "One transaction moves the slot locks and the fairness counters. Emits "
                              "bookingReassigned (BOOKING_REASSIGNED); the event moves to the new organizer's "
                              "calendar.")
    def reassign(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[ReassignInput, Body()]):
        module, _, store = operations()
        return ok(module.reassign(store, uid, body, clock.now()))

    @routes.admin("POST", "/v2/bookings/<uid>/request-reschedule", errors=(409,), tags=["bookings"],
                  summary="Ask the booker to pick another time",
                  description="`{reason?}`: the booking becomes cancelled with `rescheduleRequested: true` (its slot "
                              "is free at once) and the booker may reschedule it, once (POST "
                              "/v2/bookings/{uid}/reschedule). Emits bookingCancelled (triggeredBy host); the "
                              "attendees get \"please pick a new time\" with the reason. Seated bookings move seat by "
                              "seat (400).")
    def request_reschedule(uid: Annotated[str, Path(max_length=MAX_UID)],
                           body: Annotated[RequestRescheduleInput, Body()]):
        _, module, store = operations()
        return ok(module.request_reschedule(store, uid, body, clock.now()))

    @routes.admin("POST", "/v2/bookings/<uid>/guests", errors=(409,), tags=["bookings"], summary="Add guests",
                  description="`{guests: [{email, name?}]}`, at most 30 guests on the booking in all (`name` is "
                              "accepted and not kept: guests are addresses). Hosts, the attendee, guests already on "
                              "it and blocked addresses are left out. Emits bookingUpdated: the new guests get the "
                              "invitation and everyone an updated .ics (SEQUENCE rises).")
    def add_guests(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[AddGuestsInput, Body()]):
        module, _, store = operations()
        return ok(module.add_guests(store, uid, body, clock.now()))

    @routes.admin("PATCH", "/v2/bookings/<uid>/location", errors=(409,), tags=["bookings"],
                  summary="Change the location",
                  description="`{location}` as the booking body's location: free text, or the placeholder of a "
                              "meeting app the type offers (integrations:zoom...), whose meeting is then made for "
                              "the organizer. Emits bookingUpdated; everyone gets an updated .ics and the calendar "
                              "event follows.")
    def change_location(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[LocationInput, Body()]):
        module, _, store = operations()
        return ok(module.change_location(store, uid, body, clock.now()))


def register_webhooks(routes: Routes) -> None:
    """Webhook subscriptions (cal.com triggers, scoped to every booking, an event type or a host)."""
    webhooks = Lazy(_webhooks)

    @routes.admin("POST", "/v2/webhooks", success=201, tags=["webhooks"], summary="Subscribe a URL to booking triggers",
                  description="Loopback, private, link-local and metadata targets are refused (400) unless the "
                              "deployment allows private targets; link-local and metadata never. The secret is "
                              "write-only (responses show hasSecret).")
    def create_webhook(body: Annotated[WebhookInput, Body()]):
        return ok(webhooks().create(body, clock.now()), 201)

    @routes.admin("GET", "/v2/webhooks", tags=["webhooks"], summary="List webhooks")
    def list_webhooks():
        return ok(webhooks().list())

    @routes.admin("GET", "/v2/webhooks/<webhook_id>", tags=["webhooks"], summary="Get a webhook")
    def get_webhook(webhook_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(webhooks().get(webhook_id).public())

    @routes.admin("PATCH", "/v2/webhooks/<webhook_id>", tags=["webhooks"], summary="Update a webhook")
    def patch_webhook(webhook_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[WebhookPatch, Body()]):
        return ok(webhooks().patch(webhook_id, body))

    @routes.admin("DELETE", "/v2/webhooks/<webhook_id>", tags=["webhooks"], summary="Delete a webhook")
    def delete_webhook(webhook_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        webhooks().delete(webhook_id)
        return ok(None)

    @routes.admin("GET", "/v2/webhooks/<webhook_id>/deliveries", tags=["webhooks"], summary="Delivery attempts")
    def webhook_deliveries(webhook_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(webhooks().deliveries(webhook_id))


def register_calendars(routes: Routes) -> None:
    """A host's connected calendars (CalDAV, Google, Microsoft 365) and conferencing accounts (Zoom). Secrets are
    stored encrypted and never returned."""
    calendars = Lazy(_calendars)
    conferencing = Lazy(_conferencing)

    @routes.admin("POST", "/v2/users/<user_id>/calendars", success=201, tags=["calendars"],
                  summary="Connect a calendar account",
                  description="CalDAV: `url` may be the server, principal or calendar-home URL; calendars are "
                              "discovered, and every URL (the one given and those the server answers with) must "
                              "pass the same SSRF rules as webhook targets. Google and Microsoft 365 (`office365`): "
                              "OAuth tokens of the host's app, refreshed when they expire. Every calendar starts "
                              "selected; the primary (else the first) receives bookings. The host's Google "
                              "connection also makes their Google Meet meetings, their Microsoft 365 connection "
                              "their Teams meetings (in its destination calendar). Microsoft 365 busy time is the "
                              "free/busy (getSchedule) of each selected calendar's owner mailbox.")
    def connect_calendar(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[ConnectInput, Body()]):
        return ok(calendars().connect(user_id, body, clock.now()), 201)

    @routes.admin("GET", "/v2/users/<user_id>/calendars", tags=["calendars"], summary="List connected calendars")
    def list_calendars(user_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(calendars().list(user_id))

    @routes.admin("PATCH", "/v2/users/<user_id>/calendars/<connection_id>", tags=["calendars"],
                  summary="Choose busy calendars and the destination calendar")
    def update_calendar(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                        connection_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                        body: Annotated[ConnectionPatch, Body()]):
        return ok(calendars().update(user_id, connection_id, body))

    @routes.admin("DELETE", "/v2/users/<user_id>/calendars/<connection_id>", tags=["calendars"],
                  summary="Disconnect a calendar account (its busy time stops counting at once)")
    def disconnect_calendar(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                            connection_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        calendars().disconnect(user_id, connection_id)
        return ok(None)

    @routes.admin("POST", "/v2/users/<user_id>/conferencing", success=201, tags=["calendars"],
                  summary="Connect a conferencing account (Zoom)",
                  description="`{type: \"zoom\", credentials: {accessToken, refreshToken, expiresAt, clientId, "
                              "clientSecret}}`: the OAuth tokens of the host's Zoom user; they are checked with Zoom "
                              "(GET /users/me) and refreshed when they expire. Event types with the `zoom` "
                              "integration get their meetings made with the organizer's Zoom account. One per type: "
                              "connecting again replaces it. -> `{id, userId, type, createdAt}`.")
    def connect_conferencing(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                             body: Annotated[ConferencingConnectInput, Body()]):
        return ok(conferencing().connect(user_id, body, clock.now()), 201)

    @routes.admin("GET", "/v2/users/<user_id>/conferencing", tags=["calendars"],
                  summary="List conferencing accounts")
    def list_conferencing(user_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(conferencing().list(user_id))

    @routes.admin("DELETE", "/v2/users/<user_id>/conferencing/<connection_id>", tags=["calendars"],
                  summary="Disconnect a conferencing account (meetings already made stay with the provider)")
    def disconnect_conferencing(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                                connection_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        conferencing().disconnect(user_id, connection_id)
        return ok(None)


def register_out_of_office(routes: Routes) -> None:
    """A user's out-of-office entries: busy time for every event type they host."""
    away = Lazy(_out_of_office)

    @routes.admin("POST", "/v2/users/<user_id>/ooo", success=201, tags=["out of office"],
                  summary="Mark a user out of office",
                  description="From `start` to `end` the user has no availability for any event type: their slots "
                              "disappear, round-robin and collective types treat them as busy, and booking a "
                              "single-host type of theirs then answers 409 `host_out_of_office` with "
                              "`details.redirectToUserId` when a redirect is set. `redirectToUserId` must be another "
                              "existing user. Emits `outOfOfficeCreated` (webhook trigger OOO_CREATED). An entry that "
                              "has ended is no longer listed; a user has at most 100 that have not ended.")
    def create_out_of_office(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                             body: Annotated[OutOfOfficeInput, Body()]):
        return ok(away().create(user_id, body, clock.now()), 201)

    @routes.admin("GET", "/v2/users/<user_id>/ooo", tags=["out of office"],
                  summary="List a user's out-of-office entries that have not ended")
    def list_out_of_office(user_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(away().list(user_id, clock.now()))

    @routes.admin("DELETE", "/v2/users/<user_id>/ooo/<ooo_id>", tags=["out of office"],
                  summary="Remove an out-of-office entry (its time is bookable again at once)")
    def delete_out_of_office(user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                             ooo_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        away().delete(user_id, ooo_id)
        return ok(None)


WORKFLOW_DESCRIPTION = (
    "`activeOn`: `{eventTypeIds: [...]}` (at most 40, each must exist) or `{all: true}`. `trigger`: `newEvent` (a "
    "booking accepted: created or confirmed), `eventCancelled`, `rescheduleEvent`, or `beforeEvent` / `afterEvent` "
    "with `offset` (that long before the start / after the end of an accepted booking). `steps` (1 to 10): "
    "`emailAttendee` (attendees and guests), `emailHost` (every host), `emailAddress` (`to`: an email), "
    "`smsAttendee` (each attendee's phoneNumber, else their first booking-field answer that is an E.164 number), "
    "`smsNumber` (`to`: an international number). `subject` (emails; default `{EVENT_NAME}`) and `body` are "
    "templates with {EVENT_NAME}, {ORGANIZER_NAME}, {ATTENDEE_NAME}, {EVENT_DATE}, {EVENT_TIME}, {TIMEZONE} (the "
    "recipient's zone), {LOCATION}, {MEETING_URL}, {CANCELLATION_REASON} and {RESPONSES.<slug>}; an unknown "
    "variable is a 400. Text messages are cut to 480 characters (ending with ...). At most 50 workflows.")


def register_workflows(routes: Routes) -> None:
    """Workflows: emails and text messages around bookings, sent by the workflows subscriber."""
    workflows = Lazy(_workflows)

    @routes.admin("POST", "/v2/workflows", success=201, tags=["workflows"], summary="Create a workflow",
                  description=WORKFLOW_DESCRIPTION)
    def create_workflow(body: Annotated[WorkflowInput, Body()]):
        return ok(workflows().create(body, clock.now()), 201)

    @routes.admin("GET", "/v2/workflows", tags=["workflows"], summary="List workflows")
    def list_workflows():
        return ok(workflows().list())

    @routes.admin("GET", "/v2/workflows/<workflow_id>", tags=["workflows"], summary="Get a workflow")
    def get_workflow(workflow_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        return ok(workflows().get(workflow_id))

    @routes.admin("PATCH", "/v2/workflows/<workflow_id>", errors=(409,), tags=["workflows"],
                  summary="Update a workflow",
                  description="Validated as a whole after the change. Steps already scheduled for bookings keep "
                              "their time unless the workflow's timing changes: then they move when they come due.")
    def patch_workflow(workflow_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Annotated[WorkflowPatch, Body()]):
        return ok(workflows().patch(workflow_id, body, clock.now()))

    @routes.admin("DELETE", "/v2/workflows/<workflow_id>", errors=(409,), tags=["workflows"],
                  summary="Delete a workflow (its scheduled steps then send nothing)")
    def delete_workflow(workflow_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
        workflows().delete(workflow_id)
        return ok(None)
