"""X-Cal-Signature-256: hex HMAC-SHA256 of the exact body with the subscription's secret (as cal.com signs)."""

from __future__ import annotations

import hashlib
import hmac

WEBHOOK_VERSION = "2021-10-20"
NO_SECRET = "no-secret-provided"


def sign(body: bytes, secret: str | None) -> str:
    if not secret:
        return NO_SECRET
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers_for(body: bytes, secret: str | None) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Cal-Signature-256": sign(body, secret),
        "X-Cal-Webhook-Version": WEBHOOK_VERSION,
        "User-Agent": "booking-service-webhooks/1",
    }
