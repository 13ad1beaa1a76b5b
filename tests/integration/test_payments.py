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
from tests.support import Api, base_url, serving, weekday_ahead

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


@pytest.fixture
def configure(monkeypatch):
    """Set the deployment's payment settings and build a booking_api container that reads them at start-up."""
    from booking_core.config import settings
    from tests.integration.conftest import context_for, function_handler

    def apply(aws, **env: str | None) -> Api:
        for key in ("PAYMENT_PROVIDER", "STRIPE_API_KEY", "STRIPE_BASE_URL", "STRIPE_WEBHOOK_SECRET"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            if value is not None:
                monkeypatch.setenv(key, value)
        settings.cache_clear()
        provider.cache_clear()
        return Api(function_handler(aws, "BookingApiFunction"), context_for("BookingApiFunction"), stage="prod")

    yield apply
    monkeypatch.undo()
    settings.cache_clear()
    provider.cache_clear()


def stripe_env(fake_stripe: str, **overrides: str | None) -> dict[str, str | None]:
    return {"PAYMENT_PROVIDER": "stripe", "STRIPE_API_KEY": API_KEY, "STRIPE_BASE_URL": fake_stripe,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, **overrides}


def paid_event(payment: dict, **intent: object) -> str:
    fields = {"id": payment["externalId"], "amount_received": payment["amount"],
              "currency": payment["currency"].lower(), "metadata": {"paymentUid": payment["paymentUid"]}, **intent}
    return json.dumps({"id": "evt_paid", "type": "payment_intent.succeeded", "data": {"object": fields}})


def priced_booking(api: Api, slug: str, email: str, day_offset: int = 30) -> tuple[dict, dict]:
    host = api.host(f"Paid Host {slug}")
    event_type = api.event_type(ownerId=host["id"], slug=slug, price={"amount": 4900, "currency": "gbp"})
    booking = api.book(event_type["id"], f"{weekday_ahead(day_offset).isoformat()}T10:00:00Z", email=email)
    assert booking.status == 201, booking.body
    return event_type, booking.data


def test_paid_booking_through_stripe(aws, fake_stripe, configure):
    api = configure(aws, **stripe_env(fake_stripe))
    _, booking = priced_booking(api, "paid", "payer@example.org")
    assert booking["status"] == "pending" and booking["paymentRequired"] is True
    payment = api.call("GET", f"/v2/payments/{booking['paymentUid']}").data
    assert payment["provider"] == "stripe" and payment["amount"] == 4900 and payment["currency"] == "GBP"
    assert payment["clientSecret"].startswith(payment["externalId"])

    raw = paid_event(payment)
    forged = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw,
                      headers={"stripe-signature": stripe_header(raw, "whsec_wrong")})
    assert forged.status == 401 and forged.code == "unauthorized_error"
    assert api.call("GET", f"/v2/bookings/{booking['uid']}").data["status"] == "pending"
    for _ in range(2):  # Stripe may deliver twice
        reply = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw,
                         headers={"stripe-signature": stripe_header(raw)})
        assert reply.status == 200 and reply.data["handled"] is True
    assert api.call("GET", f"/v2/bookings/{booking['uid']}").data["status"] == "accepted"
    assert api.call("GET", f"/v2/payments/{payment['paymentUid']}").data["status"] == "succeeded"


@pytest.mark.parametrize("tampered", [{"amount_received": 1}, {"currency": "usd"}, {"id": "pi_someone_else"}])
def test_a_signed_report_settles_only_the_payment_it_names_in_full(aws, fake_stripe, configure, tampered):
    """Signed by Stripe, but for another PaymentIntent, amount or currency (a cheaper intent of the attacker's own,
    carrying our paymentUid in its metadata): the booking stays pending."""
    api = configure(aws, **stripe_env(fake_stripe))
    _, booking = priced_booking(api, "paid-" + sorted(tampered)[0].replace("_", "-"), "cheap@example.org", day_offset=31)
    payment = api.call("GET", f"/v2/payments/{booking['paymentUid']}").data
    raw = paid_event(payment, **tampered)
    reply = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw, headers={"stripe-signature": stripe_header(raw)})
    assert reply.status == 200 and reply.data["handled"] is False
    assert api.call("GET", f"/v2/bookings/{booking['uid']}").data["status"] == "pending"
    assert api.call("GET", f"/v2/payments/{payment['paymentUid']}").data["status"] == "pending"


@pytest.mark.parametrize("secret", ["not-configured", "", "whsec_"])
def test_a_placeholder_webhook_secret_is_never_a_signing_key(aws, fake_stripe, configure, secret):
    api = configure(aws, **stripe_env(fake_stripe, STRIPE_WEBHOOK_SECRET=secret or None))
    raw = json.dumps({"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}})
    reply = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw,
                     headers={"stripe-signature": stripe_header(raw, secret or "x")})
    assert reply.status == 404 and reply.code == "not_found_error"


def test_without_stripe_there_is_no_stripe_route(aws, configure):
    api = configure(aws, PAYMENT_PROVIDER="test", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    raw = json.dumps({"id": "evt_x", "type": "payment_intent.succeeded"})
    reply = api.call("POST", "/v2/payments/stripe/webhook", raw_body=raw, headers={"stripe-signature": stripe_header(raw)})
    assert reply.status == 404 and reply.code == "not_found_error"


@pytest.mark.parametrize("env", [{}, {"PAYMENT_PROVIDER": "stripe", "STRIPE_API_KEY": "not-configured"}],
                         ids=["no provider", "placeholder key"])
def test_priced_bookings_fail_closed_when_payments_are_not_configured(aws, configure, env):
    api = configure(aws, **env)
    host = api.host("Unconfigured Host")
    event_type = api.event_type(ownerId=host["id"], slug="unpaid", price={"amount": 100, "currency": "eur"})
    start = f"{weekday_ahead(32).isoformat()}T10:00:00Z"
    refused = api.book(event_type["id"], start, email="free@example.org")
    assert refused.status == 500 and refused.code == "internal_server_error"
    assert "PAYMENT_PROVIDER" not in json.dumps(refused.body) and "Traceback" not in json.dumps(refused.body)
    slots = api.slots(event_type["id"], start[:10], start[:10])
    assert any(slot["start"].startswith(start[:16]) for day in slots.values() for slot in day), "nothing was held"
