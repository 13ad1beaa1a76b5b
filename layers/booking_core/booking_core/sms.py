"""Text messages through Amazon SNS: `Publish` straight to a phone number (no topic).

- Transactional (`AWS.SNS.SMS.SMSType`): delivered for reliability, not lowest cost.
- Sender: the deployment's origination number (`SMS_ORIGINATION_NUMBER`: a toll-free, 10DLC or long code number
  registered in the account's End User Messaging SMS) and/or sender ID (`SMS_SENDER_ID`, where the destination country
  allows alphanumeric senders). A number is the opt-out-friendly choice: recipients can reply STOP to it, and SNS
  then adds them to the account's opt-out list. Both are template parameters; empty means SNS's default.
- Opt-outs are honoured before sending: a number on the account's opt-out list (`CheckIfPhoneNumberIsOptedOut`) is
  not sent to (counted as `SmsOptedOut`), so a recipient who replied STOP hears nothing more from us.
"""

from __future__ import annotations

from typing import Any

from booking_core.config import settings
from booking_core.observability import count, logger


def _masked(number: str) -> str:
    """'+447700900123' -> '+44*******23': enough to correlate, not to call."""
    return f"{number[:3]}{'*' * max(len(number) - 5, 0)}{number[-2:]}" if len(number) > 5 else "***"


class Texter:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from booking_core.aws import client

            self._client = client("sns")
        return self._client

    @staticmethod
    def _attributes() -> dict[str, dict[str, str]]:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        config = settings()
        sender_id, origination = config.sms_sender_id, config.sms_origination_number
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        if origination:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": origination}
        return attributes

    def send(self, to: str, body: str) -> bool:
        """Send `body` to the E.164 number `to`; False (nothing sent) when the number has opted out."""
        if self.client.check_if_phone_number_is_opted_out(phoneNumber=to).get("isOptedOut"):
            count("SmsOptedOut")
            logger.info("text not sent: the number opted out", extra={"to": _masked(to)})
            return False
        self.client.publish(PhoneNumber=to, Message=body, MessageAttributes=self._attributes())
        count("SmsSent")
        return True
