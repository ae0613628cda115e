from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from byok.vault import Vault, VaultError

SECRET = {"api_key": "sk-canary-0123456789abcdef"}


def make_vault(*keys: str) -> Vault:
    return Vault(list(keys), b"fingerprint-secret")


def test_sealed_credential_opens_for_its_own_row_only() -> None:
    vault = make_vault(Fernet.generate_key().decode())
    token = vault.seal(SECRET, project_id="prj_a", key_slug="main")
    assert vault.open(token, project_id="prj_a", key_slug="main") == SECRET
    assert "sk-canary" not in token
    with pytest.raises(VaultError, match="sealed for another key or project"):
        vault.open(token, project_id="prj_a", key_slug="other")
    with pytest.raises(VaultError, match="sealed for another key or project"):
        vault.open(token, project_id="prj_b", key_slug="main")


def test_tampered_or_foreign_ciphertext_fails_loudly() -> None:
    vault = make_vault(Fernet.generate_key().decode())
    token = vault.seal(SECRET, project_id="p", key_slug="s")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(VaultError, match="cannot be decrypted"):
        vault.open(tampered, project_id="p", key_slug="s")
    stranger = make_vault(Fernet.generate_key().decode())
    with pytest.raises(VaultError, match="cannot be decrypted"):
        stranger.open(token, project_id="p", key_slug="s")


def test_keyring_decrypts_with_any_key_and_rotates_to_the_first() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = make_vault(old).seal(SECRET, project_id="p", key_slug="s")
    ring = make_vault(new, old)
    assert ring.open(token, project_id="p", key_slug="s") == SECRET
    assert not ring.is_current(token)
    rotated = ring.rotate(token)
    assert ring.is_current(rotated)
    assert make_vault(new).open(rotated, project_id="p", key_slug="s") == SECRET
    with pytest.raises(VaultError):
        make_vault(old).open(rotated, project_id="p", key_slug="s")


def test_fingerprint_is_keyed_not_a_plain_hash() -> None:
    import hashlib

    key = Fernet.generate_key().decode()
    a = Vault([key], b"one").fingerprint("sk-same")
    b = Vault([key], b"two").fingerprint("sk-same")
    assert a.startswith("fp_") and a != b
    assert a[3:] not in hashlib.sha256(b"sk-same").hexdigest()
    assert Vault([key], b"one").fingerprint("sk-other") != a


def test_bad_master_key_is_refused() -> None:
    with pytest.raises(VaultError, match="not a valid Fernet key"):
        make_vault("not-a-key")
