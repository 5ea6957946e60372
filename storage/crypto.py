"""API keys are stored encrypted with a Fernet key derived from SECRET_KEY."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyDecryptError(Exception):
    """A stored key cannot be decrypted: SECRET_KEY changed since it was saved."""


class KeyBox:
    def __init__(self, secret: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"koalabot/v1",
                       info=b"api-key-encryption").derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise KeyDecryptError("stored API key does not decrypt with this SECRET_KEY") from None

    def __repr__(self) -> str:
        return "KeyBox(<secret>)"


def mask_key(key: str) -> str:
    """A recognisable but useless form of a key for showing to its owner (stored as the
    account's hint; bot/redact.py re-exports it)."""
    if len(key) <= 8:
        return "•" * len(key)
    return f"{key[:3]}…{key[-3:]}"
