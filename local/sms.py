"""GET /_local/sms: the text messages the workflows function sent through SNS (moto keeps every SMS published to a
phone number)."""

from __future__ import annotations

from typing import Any

from local.provision import ACCOUNT, REGION


def sent_texts() -> list[dict[str, Any]]:
    from moto.sns.models import sns_backends

    return [{"to": to, "body": body} for to, body in list(sns_backends[ACCOUNT][REGION].sms_messages.values())]
