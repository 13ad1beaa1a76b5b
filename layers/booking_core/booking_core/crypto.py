"""Secrets at rest (calendar and conferencing credentials, webhook signing secrets): AES-256-GCM envelope encryption.

In AWS each value gets a fresh data key from KMS (GenerateDataKey on CREDENTIALS_KMS_KEY_ID); the encrypted data key
is stored beside the ciphertext and decrypted with KMS when needed. The local stack and the tests use a local 32-byte
key (CREDENTIALS_LOCAL_KEY, base64) the same way, without KMS.

Every sealed value is bound to its purpose (`CALENDAR_CREDENTIALS`, `CONFERENCING_CREDENTIALS`, `WEBHOOK_SECRET`):
the purpose is the AES-GCM associated data and, in AWS, the KMS encryption context {"purpose": ...}. So a value copied
from one kind of item into another does not open, and IAM can let a function decrypt one purpose only
(`kms:EncryptionContext:purpose`).

Stored form: "v2.<kms|local>.<b64 encrypted data key>.<b64 nonce>.<b64 ciphertext+tag>". "v1" values (calendar
credentials sealed before purposes existed: no encryption context) still open as calendar credentials.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from booking_core.config import settings

CALENDAR_CREDENTIALS = "calendar-credentials"
CONFERENCING_CREDENTIALS = "conferencing-credentials"  # meeting-app accounts (Zoom)
WEBHOOK_SECRET = "webhook-secret"
PURPOSES = frozenset({CALENDAR_CREDENTIALS, CONFERENCING_CREDENTIALS, WEBHOOK_SECRET})



def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kms_client() -> Any:
    from booking_core.aws import client

    return client("kms")


def _local_key() -> bytes:
    encoded = settings().credentials_local_key
    if not encoded:
        raise RuntimeError("neither CREDENTIALS_KMS_KEY_ID nor CREDENTIALS_LOCAL_KEY is configured")
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise RuntimeError("CREDENTIALS_LOCAL_KEY must be 32 bytes, base64-encoded")
    return key


def _check(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")


def seal(values: dict[str, Any], purpose: str) -> str:
    """`values` (JSON-serialisable) encrypted for `purpose`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _check(purpose)
    key_id = settings().credentials_kms_key_id
    if key_id:
        generated = _kms_client().generate_data_key(KeyId=key_id, KeySpec="AES_256",
                                                    EncryptionContext={"purpose": purpose})
        data_key, wrapped, scheme = generated["Plaintext"], generated["CiphertextBlob"], "kms"
    else:  # the data key is wrapped with the local key instead of KMS
        data_key, scheme = secrets.token_bytes(32), "local"
        key_nonce = secrets.token_bytes(12)
        wrapped = key_nonce + AESGCM(_local_key()).encrypt(key_nonce, data_key, f"data-key:{purpose}".encode())
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(data_key).encrypt(nonce, json.dumps(values).encode(), purpose.encode())
    return ".".join(["v2", scheme, _b64(wrapped), _b64(nonce), _b64(sealed)])


def unseal(stored: str, purpose: str) -> dict[str, Any]:
    """The values `seal(values, purpose)` stored. Raises ValueError for another format and
    cryptography's InvalidTag for a value sealed for another purpose or tampered with."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _check(purpose)
    version, scheme, wrapped_text, nonce_text, sealed_text = stored.split(".")
    if version == "v2":
        context, key_aad, aad = {"purpose": purpose}, f"data-key:{purpose}".encode(), purpose.encode()
    elif version == "v1" and purpose == CALENDAR_CREDENTIALS:
        context, key_aad, aad = None, b"data-key", b"calendar-credentials"
    else:
        raise ValueError("unknown sealed format")
    wrapped = _unb64(wrapped_text)
    if scheme == "kms":
        arguments: dict[str, Any] = {"CiphertextBlob": wrapped}
        if context is not None:
            arguments["EncryptionContext"] = context
        data_key = _kms_client().decrypt(**arguments)["Plaintext"]
    else:
        data_key = AESGCM(_local_key()).decrypt(wrapped[:12], wrapped[12:], key_aad)
    plain = AESGCM(data_key).decrypt(_unb64(nonce_text), _unb64(sealed_text), aad)
    return json.loads(plain)
