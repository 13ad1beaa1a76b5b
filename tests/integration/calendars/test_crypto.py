"""Calendar credentials at rest: AES-GCM envelope encryption with a local key, or with KMS data keys (moto)."""

from __future__ import annotations

import boto3
import pytest
from cryptography.exceptions import InvalidTag

from booking_core.calendars import crypto


def test_round_trip_with_the_local_key():
    sealed = crypto.encrypt({"username": "alice", "password": "p@ss"})
    assert "p@ss" not in sealed and sealed.startswith("v1.local.")
    assert crypto.decrypt(sealed) == {"username": "alice", "password": "p@ss"}
    assert crypto.encrypt({"a": 1}) != crypto.encrypt({"a": 1})  # fresh data key and nonce every time


def test_tampering_is_detected():
    version, scheme, key, nonce, sealed = crypto.encrypt({"password": "p"}).split(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(InvalidTag):
        crypto.decrypt(".".join([version, scheme, key, nonce, flipped]))


def test_kms_envelope(aws, monkeypatch):
    key_id = boto3.client("kms").create_key(Description="test credentials key")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("CREDENTIALS_KMS_KEY_ID", key_id)
    monkeypatch.delenv("CREDENTIALS_LOCAL_KEY")
    sealed = crypto.encrypt({"refreshToken": "1//secret"})
    assert sealed.startswith("v1.kms.")
    assert crypto.decrypt(sealed) == {"refreshToken": "1//secret"}
