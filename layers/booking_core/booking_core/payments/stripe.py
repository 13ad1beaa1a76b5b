"""Stripe: PaymentIntents over Stripe's REST API (standard library HTTP) and webhook signature verification."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from booking_core import clock
from booking_core.config import settings
from booking_core.payments.base import PaymentError, ProviderPayment

DEFAULT_BASE_URL = "https://api.stripe.com"
API_KEY_PREFIXES = ("sk_", "rk_")  # secret and restricted keys
WEBHOOK_SECRET_PREFIX = "whsec_"
SIGNATURE_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def _secret(name: str) -> str | None:
    """The setting `<NAME>`, or the Secrets Manager secret `<NAME>_SECRET_ARN` names when that is set instead."""
    config = settings()
    value = getattr(config, name.lower())
    if value:
        return value
    arn = getattr(config, f"{name}_SECRET_ARN".lower())
    if arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(arn, max_age=300))
    return None


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 5.0) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_environment(cls) -> StripeProvider:
        key = _secret("STRIPE_API_KEY")
        if not key or not key.startswith(API_KEY_PREFIXES):
            raise PaymentError("STRIPE_API_KEY (or STRIPE_API_KEY_SECRET_ARN) is not configured with a Stripe key")
        return cls(key, settings().stripe_base_url or DEFAULT_BASE_URL)

    def create(self, payment_uid: str, amount: int, currency: str, description: str) -> ProviderPayment:
        form = {
            "amount": str(amount),
            "currency": currency.lower(),
            "description": description[:500],
            "metadata[paymentUid]": payment_uid,
            "automatic_payment_methods[enabled]": "true",
        }
        body = self._post("/v1/payment_intents", form, idempotency_key=payment_uid)
        return ProviderPayment(external_id=str(body["id"]), client_secret=body.get("client_secret"))

    def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": idempotency_key,
                "Stripe-Version": "2024-06-20",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - fixed https base
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", {}).get("message", "")
            except (ValueError, AttributeError):
                message = ""
            raise PaymentError(f"Stripe refused the payment ({exc.code}) {message}".strip()) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PaymentError("Stripe could not be reached") from exc


def verify_webhook(payload: bytes, signature_header: str, secret: str, now: float | None = None) -> dict[str, Any]:
    """Check a `Stripe-Signature` header (t=..., v1=...) against the raw body, as Stripe documents; return the
    event. Refuses bad signatures and timestamps outside the tolerance (replays)."""
    parts: dict[str, list[str]] = {}
    for item in signature_header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("no timestamp in Stripe-Signature") from exc
    signed = f"{timestamp}.".encode() + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise InvalidSignature("signature does not match")
    if abs((now if now is not None else clock.epoch_seconds()) - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp outside the tolerance")
    return json.loads(payload)


def webhook_secret() -> str | None:
    """The endpoint's signing secret, only when it is a real one (Stripe's start with `whsec_`): the secret the
    template creates holds a random value until the deployer stores the real one, and that is never accepted."""
    secret = _secret("STRIPE_WEBHOOK_SECRET")
    return secret if secret and secret.startswith(WEBHOOK_SECRET_PREFIX) and len(secret) > 16 else None


def paid_intent(event: dict[str, Any]) -> tuple[str | None, str, int, str] | None:
    """(paymentUid, PaymentIntent id, amount received, currency) of a payment_intent.succeeded event, else None."""
    if event.get("type") != "payment_intent.succeeded":
        return None
    intent = (event.get("data") or {}).get("object") or {}
    if not isinstance(intent, dict):
        return None
    metadata = intent.get("metadata") or {}
    amount = intent.get("amount_received", intent.get("amount"))
    if not isinstance(amount, int) or not isinstance(intent.get("id"), str):
        return None
    payment_uid = metadata.get("paymentUid") if isinstance(metadata, dict) else None
    return (payment_uid if isinstance(payment_uid, str) else None, intent["id"], amount,
            str(intent.get("currency") or "").upper())
