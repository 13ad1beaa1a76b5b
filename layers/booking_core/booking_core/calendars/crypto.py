"""Credentials encrypted at rest: AES-256-GCM envelope encryption.

In AWS each item gets a fresh data key from KMS (GenerateDataKey on CREDENTIALS_KMS_KEY_ID); the encrypted data
key is stored beside the ciphertext and decrypted with KMS when needed. The local stack and the tests use a local
32-byte key (CREDENTIALS_LOCAL_KEY, base64) the same way, without KMS. Stored form:
"v1.<kms|local>.<b64 encrypted key>.<b64 nonce>.<b64 ciphertext+tag>".
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from typing import Any

_kms: Any = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kms_client() -> Any:
    global _kms
    if _kms is None:
        import boto3

        _kms = boto3.client("kms")
    return _kms


def _local_key() -> bytes:
    encoded = os.environ.get("CREDENTIALS_LOCAL_KEY")
    if not encoded:
        raise RuntimeError("neither CREDENTIALS_KMS_KEY_ID nor CREDENTIALS_LOCAL_KEY is configured")
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise RuntimeError("CREDENTIALS_LOCAL_KEY must be 32 bytes, base64-encoded")
    return key


def encrypt(values: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key_id = os.environ.get("CREDENTIALS_KMS_KEY_ID")
    if key_id:
        generated = _kms_client().generate_data_key(KeyId=key_id, KeySpec="AES_256")
        data_key, wrapped, scheme = generated["Plaintext"], generated["CiphertextBlob"], "kms"
    else:  # the data key is wrapped with the local key instead of KMS
        data_key, scheme = secrets.token_bytes(32), "local"
        key_nonce = secrets.token_bytes(12)
        wrapped = key_nonce + AESGCM(_local_key()).encrypt(key_nonce, data_key, b"data-key")
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(data_key).encrypt(nonce, json.dumps(values).encode(), b"calendar-credentials")
    return ".".join(["v1", scheme, _b64(wrapped), _b64(nonce), _b64(sealed)])


def decrypt(stored: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, scheme, wrapped_text, nonce_text, sealed_text = stored.split(".")
    if version != "v1":
        raise ValueError("unknown credentials format")
    wrapped = _unb64(wrapped_text)
    if scheme == "kms":
        data_key = _kms_client().decrypt(CiphertextBlob=wrapped)["Plaintext"]
    else:
        data_key = AESGCM(_local_key()).decrypt(wrapped[:12], wrapped[12:], b"data-key")
    plain = AESGCM(data_key).decrypt(_unb64(nonce_text), _unb64(sealed_text), b"calendar-credentials")
    return json.loads(plain)
