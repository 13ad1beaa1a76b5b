"""Payments: the Stripe client against a local fake of Stripe's API, webhook signatures made by Stripe's own SDK,
and the whole paid-booking flow through the handler (no network)."""

from __future__ import annotations

import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest
import stripe

from booking_core.payments import provider
from booking_core.payments.base import PaymentError
from booking_core.payments.stripe import InvalidSignature, StripeProvider, verify_webhook
from tests.support import base_url, serving, weekday_ahead

API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_test_5Yb8nS1Gd9bV3s2QkQ3f"


class FakeStripe(BaseHTTPRequestHandler):
    """Just POST /v1/payment_intents, checking the request the way Stripe's API documents it."""

    requests: list[dict] = []
    refuse = False

    def log_message(self, *args):  # noqa: D102
        return

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        FakeStripe.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
        problems = []
        if self.path != "/v1/payment_intents":
            problems.append("unknown path")
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            problems.append("bad key")
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            problems.append("not form encoded")
        if not form.get("amount", "").isdigit() or form.get("currency") != form.get("currency", "").lower():
            problems.append("amount must be an integer in minor units, currency lower case")
        if "metadata[paymentUid]" not in form or not self.headers.get("Idempotency-Key"):
            problems.append("missing metadata or idempotency key")
        if problems or FakeStripe.refuse:
            status, body = 402 if FakeStripe.refuse else 400, {"error": {"message": "; ".join(problems) or "declined"}}
        else:
            intent = f"pi_{len(FakeStripe.requests):06d}"
            status, body = 200, {"id": intent, "object": "payment_intent", "client_secret": f"{intent}_secret_x",
                                 "amount": int(form["amount"]), "currency": form["currency"], "status": "requires_payment_method",
                                 "metadata": {"paymentUid": form["metadata[paymentUid]"]}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def fake_stripe():
    with serving(FakeStripe) as server:
        yield base_url(server)


def stripe_header(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header as Stripe computes it (its SDK's signing routine)."""
    timestamp = at if at is not None else int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


def test_payment_intent_request_matches_stripe_api(fake_stripe):
    FakeStripe.requests.clear()
    created = StripeProvider(API_KEY, fake_stripe).create("pay_uid_1", 2500, "EUR", "Intro call")
    assert created.external_id.startswith("pi_") and created.client_secret.endswith("_secret_x")
    form = FakeStripe.requests[0]["form"]
    assert form["amount"] == "2500" and form["currency"] == "eur" and form["metadata[paymentUid]"] == "pay_uid_1"
    assert FakeStripe.requests[0]["headers"]["Idempotency-Key"] == "pay_uid_1"


def test_refused_payment_is_a_payment_error(fake_stripe):
    FakeStripe.refuse = True
    try:
        with pytest.raises(PaymentError):
            StripeProvider(API_KEY, fake_stripe).create("pay_uid_2", 100, "usd", "x")
    finally:
        FakeStripe.refuse = False
    with pytest.raises(PaymentError):
        StripeProvider(API_KEY, "http://127.0.0.1:9", timeout=1).create("pay_uid_3", 100, "usd", "x")


def test_webhook_signature_made_by_stripe_is_accepted_and_tampering_refused():
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"})
    header = stripe_header(payload)
    assert stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)["id"] == "evt_1"  # Stripe agrees
    assert verify_webhook(payload.encode(), header, WEBHOOK_SECRET)["id"] == "evt_1"
    with pytest.raises(InvalidSignature):
        verify_webhook(payload.replace("evt_1", "evt_2").encode(), header, WEBHOOK_SECRET)
    with pytest.raises(InvalidSignature):
        verify_webhook(payload.encode(), stripe_header(payload, "whsec_other"), WEBHOOK_SECRET)
    with pytest.raises(InvalidSignature):  # a replay from long ago
        verify_webhook(payload.encode(), stripe_header(payload, at=int(time.time()) - 3600), WEBHOOK_SECRET)


def test_paid_booking_through_stripe(api, fake_stripe, monkeypatch):
    monkeypatch.setenv("PAYMENT_PROVIDER", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_BASE_URL", fake_stripe)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    provider.cache_clear()
    try:
        host = api.host("Paid Host")
        event_type = api.event_type(ownerId=host["id"], slug="paid", price={"amount": 4900, "currency": "gbp"})
        booking = api.book(event_type["id"], f"{weekday_ahead(30).isoformat()}T10:00:00Z", email="payer@example.org")
        assert booking.status == 201
        assert booking.data["status"] == "pending" and booking.data["paymentRequired"] is True
        payment = api.call("GET", f"/v2/payments/{booking.data['paymentUid']}").data
        assert payment["provider"] == "stripe" and payment["amount"] == 4900 and payment["currency"] == "GBP"
        assert payment["clientSecret"].startswith(payment["externalId"])

        event = {"id": "evt_paid", "type": "payment_intent.succeeded",
                 "data": {"object": {"id": payment["externalId"], "metadata": {"paymentUid": payment["paymentUid"]}}}}
        raw = json.dumps(event)
        forged = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw,
                          headers={"stripe-signature": stripe_header(raw, "whsec_wrong")})
        assert forged.status == 401 and forged.code == "unauthorized_error"
        assert api.call("GET", f"/v2/bookings/{booking.data['uid']}").data["status"] == "pending"
        for _ in range(2):  # Stripe may deliver twice
            reply = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw,
                             headers={"stripe-signature": stripe_header(raw)})
            assert reply.status == 200 and reply.data["handled"] is True
        assert api.call("GET", f"/v2/bookings/{booking.data['uid']}").data["status"] == "accepted"
        assert api.call("GET", f"/v2/payments/{payment['paymentUid']}").data["status"] == "succeeded"
    finally:
        provider.cache_clear()
