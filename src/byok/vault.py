"""The vault: credentials sealed at rest under a rotatable Fernet keyring.

A sealed payload carries the ``(project_id, key_slug)`` it was sealed for, inside the
authenticated ciphertext. Opening it for any other row fails loudly, so a ciphertext copied
onto another row or project (by a bug, a bad restore or an attacker with SQL access) can never
be used under the wrong name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_FORMAT = 1


class VaultError(Exception):
    """A stored credential cannot be opened: wrong keys, tampering, or the wrong row."""


class Vault:
    def __init__(self, master_keys: tuple[str, ...] | list[str], fingerprint_secret: bytes) -> None:
        if not master_keys:
            raise VaultError("the vault needs at least one master key")
        try:
            self._fernets = [Fernet(key.encode()) for key in master_keys]
        except (ValueError, TypeError) as exc:
            raise VaultError("a master key is not a valid Fernet key (32 url-safe base64 bytes)") from exc
        self._keyring = MultiFernet(self._fernets)
        self._fingerprint_secret = fingerprint_secret

    def seal(self, payload: dict[str, Any], *, project_id: str, key_slug: str) -> str:
        envelope = {"v": _FORMAT, "project": project_id, "slug": key_slug, "payload": payload}
        return self._keyring.encrypt(json.dumps(envelope, separators=(",", ":")).encode()).decode()

    def open(self, token: str, *, project_id: str, key_slug: str) -> dict[str, Any]:
        try:
            raw = self._keyring.decrypt(token.encode())
        except InvalidToken as exc:
            raise VaultError(
                f"credential {key_slug!r} cannot be decrypted with the configured master keys"
            ) from exc
        envelope = json.loads(raw)
        if envelope.get("project") != project_id or envelope.get("slug") != key_slug:
            raise VaultError(
                f"credential stored as {key_slug!r} was sealed for another key or project; refusing to use it"
            )
        payload = envelope.get("payload")
        if not isinstance(payload, dict):
            raise VaultError(f"credential {key_slug!r} has an unknown format")
        return payload

    def is_current(self, token: str) -> bool:
        """True when ``token`` is already sealed under the first (encrypting) key."""
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-seal ``token`` under the first master key; the binding inside stays as it was."""
        try:
            return self._keyring.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise VaultError("credential cannot be decrypted with the configured master keys") from exc

    def fingerprint(self, secret: str) -> str:
        digest = hmac.new(self._fingerprint_secret, secret.encode(), hashlib.sha256).hexdigest()
        return f"fp_{digest[:8]}"
