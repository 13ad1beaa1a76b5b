"""Payments: the booker reads their payment; Stripe reports completed payments to a signed webhook.

The webhook route exists only when the deployment's provider is Stripe (PAYMENT_PROVIDER=stripe), and answers only
once a real signing secret is stored: without one it is a 404, like any route that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from booking_core import clock
from booking_core.config import settings
from booking_core.domain.common import MAX_UID
from booking_core.errors import DomainError, not_found
from booking_core.observability import count, logger
from booking_core.repositories.bookings import DynamoBookingStore
from routes.http import Routes, ok, request_bytes


def register(routes: Routes) -> None:
    store = DynamoBookingStore()

    @routes.public("GET", "/v2/payments/<payment_uid>", tags=["payments"], summary="A booking's payment",
                   description="Includes the provider's client secret the booker needs to pay.")
    def get_payment(payment_uid: Annotated[str, Path(max_length=MAX_UID)]):
        payment = store.get_payment(payment_uid)
        if payment is None:
            raise not_found("not_found_error", "payment")
        return ok(payment.public())

    if settings().payment_provider == "stripe":
        register_stripe(routes, store)


def register_stripe(routes: Routes, store: DynamoBookingStore) -> None:
    app = routes.app

    @routes.public("POST", "/v2/payments/stripe/webhook", errors=(401, 404), tags=["payments"],
                   summary="Stripe webhook",
                   description="Verifies the Stripe-Signature header against the exact body; handles "
                               "payment_intent.succeeded whose PaymentIntent id, amount and currency match the "
                               "stored payment (metadata.paymentUid).")
    def stripe_webhook():
        from booking_core.payments.stripe import InvalidSignature, paid_intent, verify_webhook, webhook_secret
        from booking_core.services.changes import payment_succeeded

        event = app.current_event
        secret = webhook_secret()
        if not secret:
            raise DomainError("not_found_error", "no such route")
        try:
            payload = verify_webhook(request_bytes(event.raw_event),
                                     (event.headers or {}).get("stripe-signature", ""), secret)
        except InvalidSignature as exc:
            raise DomainError("unauthorized_error", f"invalid Stripe signature: {exc}") from exc
        except ValueError as exc:  # signed, but not JSON
            raise DomainError("request_body_invalid_error", "the event is not JSON") from exc
        intent = paid_intent(payload)
        if intent is None:
            return ok({"received": True, "handled": False})
        payment_uid, intent_id, amount, currency = intent
        payment = store.get_payment(payment_uid) if payment_uid else None
        if payment is None or not payment.reported_by("stripe", intent_id, amount, currency):
            # Signed by Stripe, yet not the payment we asked for (another intent, amount or currency): never settle.
            count("PaymentReportRefused")
            logger.warning("Stripe payment does not match the stored payment", extra={"stripe_event": payload.get("id")})
            return ok({"received": True, "handled": False})
        payment_succeeded(store, payment.payment_uid, clock.now())
        return ok({"received": True, "handled": True})
