"""GET /_local/emails: what the notifications function sent through SES (moto keeps every raw message)."""

from __future__ import annotations

import email
import email.policy
from email.message import Message
from typing import Any

from local.provision import ACCOUNT, REGION


def _parts(message: Message) -> dict[str, Any]:
    text = html = None
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        content_type = part.get_content_type()
        if filename:
            content: str = payload.decode(part.get_content_charset() or "utf-8", errors="replace") \
                if part.get_content_maintype() == "text" else payload.hex()
            attachments.append({"filename": filename, "contentType": part.get("Content-Type", content_type),
                                "content": content})
        elif content_type == "text/plain" and text is None:
            text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        elif content_type == "text/html" and html is None:
            html = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return {"text": text, "html": html, "attachments": attachments}


def sent_emails() -> list[dict[str, Any]]:
    from moto.ses.models import ses_backends

    out = []
    for sent in list(ses_backends[ACCOUNT][REGION].sent_messages):
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        message = email.message_from_string(raw, policy=email.policy.default)  # unfolded, decoded headers
        recipients = list(dict.fromkeys(getattr(sent, "destinations", []))) or [message["To"]]
        out.append({"to": recipients, "from": message["From"],
                    "subject": str(message["Subject"]), **_parts(message)})
    return out
