"""Secrets at rest: AES-GCM envelope encryption with a local key, or with KMS data keys (moto), bound to a purpose."""

from __future__ import annotations

import base64
import json
import os
import secrets

import boto3
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from booking_core import crypto
from booking_core.crypto import CALENDAR_CREDENTIALS, WEBHOOK_SECRET


def test_round_trip_with_the_local_key():
    sealed = crypto.seal({"username": "alice", "password": "p@ss"}, CALENDAR_CREDENTIALS)
    assert "p@ss" not in sealed and sealed.startswith("v2.local.")
    assert crypto.unseal(sealed, CALENDAR_CREDENTIALS) == {"username": "alice", "password": "p@ss"}
    assert crypto.seal({"a": 1}, WEBHOOK_SECRET) != crypto.seal({"a": 1}, WEBHOOK_SECRET)  # fresh key and nonce


def test_tampering_is_detected():
    version, scheme, key, nonce, sealed = crypto.seal({"password": "p"}, CALENDAR_CREDENTIALS).split(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(InvalidTag):
        crypto.unseal(".".join([version, scheme, key, nonce, flipped]), CALENDAR_CREDENTIALS)


def test_a_value_sealed_for_one_purpose_does_not_open_for_another():
    calendar = crypto.seal({"password": "p"}, CALENDAR_CREDENTIALS)
    with pytest.raises(InvalidTag):
        crypto.unseal(calendar, WEBHOOK_SECRET)
    with pytest.raises(ValueError):
        crypto.seal({"x": 1}, "anything-else")


def _legacy_v1(values: dict) -> str:
    """A calendar credential as the service sealed it before purposes existed (local key)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    local = base64.b64decode(os.environ["CREDENTIALS_LOCAL_KEY"])
    data_key, key_nonce, nonce = secrets.token_bytes(32), secrets.token_bytes(12), secrets.token_bytes(12)
    wrapped = key_nonce + AESGCM(local).encrypt(key_nonce, data_key, b"data-key")
    sealed = AESGCM(data_key).encrypt(nonce, json.dumps(values).encode(), b"calendar-credentials")
    return ".".join(["v1", "local", b64(wrapped), b64(nonce), b64(sealed)])


def test_calendar_credentials_sealed_before_purposes_still_open():
    legacy = _legacy_v1({"password": "old"})
    assert crypto.unseal(legacy, CALENDAR_CREDENTIALS) == {"password": "old"}
    with pytest.raises(ValueError):
        crypto.unseal(legacy, WEBHOOK_SECRET)  # the old format never held webhook secrets


def test_kms_envelope_carries_the_purpose_as_encryption_context(aws, monkeypatch):
    kms = boto3.client("kms")
    key_id = kms.create_key(Description="test credentials key")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("CREDENTIALS_KMS_KEY_ID", key_id)
    monkeypatch.delenv("CREDENTIALS_LOCAL_KEY")
    sealed = crypto.seal({"secret": "whsec"}, WEBHOOK_SECRET)
    assert sealed.startswith("v2.kms.")
    assert crypto.unseal(sealed, WEBHOOK_SECRET) == {"secret": "whsec"}
    wrapped = base64.urlsafe_b64decode(sealed.split(".")[2] + "==")
    with pytest.raises(kms.exceptions.InvalidCiphertextException):  # KMS itself wants the context back
        kms.decrypt(CiphertextBlob=wrapped)
    assert kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"purpose": WEBHOOK_SECRET})["Plaintext"]
