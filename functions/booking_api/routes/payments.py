"""Payments: the booker reads their payment; Stripe reports completed payments to a signed webhook."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from booking_core import clock
from booking_core.errors import DomainError, not_found
from booking_core.observability import logger
from booking_core.repositories.bookings import DynamoBookingStore
from routes.http import Routes, ok


def register(routes: Routes) -> None:
    app = routes.app
    store = DynamoBookingStore()

    @routes.public("GET", "/v2/payments/<payment_uid>", tags=["payments"], summary="A booking's payment",
                   description="Includes the provider's client secret the booker needs to pay.")
    def get_payment(payment_uid: Annotated[str, Path()]):
        payment = store.get_payment(payment_uid)
        if payment is None:
            raise not_found("not_found_error", f"payment {payment_uid}")
        return ok(payment.public())

    @routes.public("POST", "/v2/payments/stripe/webhook", tags=["payments"], summary="Stripe webhook",
                   description="Verifies the Stripe-Signature header against the exact body; handles "
                               "payment_intent.succeeded (metadata.paymentUid).")
    def stripe_webhook():
        from booking_core.payments.stripe import InvalidSignature, verify_webhook, webhook_secret
        from booking_core.services.changes import payment_succeeded

        event = app.current_event
        secret = webhook_secret()
        if not secret:
            raise DomainError("unauthorized_error", "Stripe webhooks are not configured")
        raw = event.decoded_body or ""
        try:
            payload = verify_webhook(raw.encode() if isinstance(raw, str) else raw,
                                     (event.headers or {}).get("stripe-signature", ""), secret)
        except InvalidSignature as exc:
            raise DomainError("unauthorized_error", f"invalid Stripe signature: {exc}") from exc
        if payload.get("type") != "payment_intent.succeeded":
            return ok({"received": True, "handled": False})
        metadata = payload.get("data", {}).get("object", {}).get("metadata", {}) or {}
        payment_uid = metadata.get("paymentUid")
        if not payment_uid:
            logger.warning("Stripe payment without paymentUid", extra={"stripe_event": payload.get("id")})
            return ok({"received": True, "handled": False})
        payment_succeeded(store, payment_uid, clock.now())
        return ok({"received": True, "handled": True})
