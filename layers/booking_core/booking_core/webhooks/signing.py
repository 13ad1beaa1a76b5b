"""How deliveries are signed, exactly as cal.com signs them, so a consumer written for cal.com verifies ours unchanged:
`X-Cal-Signature-256` is the hex HMAC-SHA256 of the exact body bytes keyed with the subscription's secret (UTF-8),
or `no-secret-provided` when the subscription has no secret."""

from __future__ import annotations

import hashlib
import hmac

WEBHOOK_VERSION = "2021-10-20"
NO_SECRET = "no-secret-provided"
USER_AGENT = "booking-service-webhooks/1"


def sign(body: bytes, secret: str | None) -> str:
    if not secret:
        return NO_SECRET
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def headers_for(body: bytes, secret: str | None) -> dict[str, str]:
    """The request headers for one delivery of `body` (the same bytes that are sent)."""
    return {
        "Content-Type": "application/json",
        "X-Cal-Signature-256": sign(body, secret),
        "X-Cal-Webhook-Version": WEBHOOK_VERSION,
        "User-Agent": USER_AGENT,
    }


__all__ = ["NO_SECRET", "USER_AGENT", "WEBHOOK_VERSION", "headers_for", "sign"]
