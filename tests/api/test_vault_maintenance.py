"""``vault rotate`` and ``vault check`` over stored keys, and a ciphertext moved to another row."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from byok.cli import _check, _rotate
from byok.keys.models import ProviderKey
from byok.runtime import Runtime
from tests.api.helpers import key_body
from tests.conftest import make_settings

pytestmark = pytest.mark.usefixtures("fakes")


async def test_a_ciphertext_moved_to_another_row_fails_to_open(client, runtime, project, fakes) -> None:
    for slug in ("first", "second"):
        assert (
            await client.post(
                project.keys_url(), json=key_body(fakes, "openai", slug=slug), headers=project.headers
            )
        ).status_code == 201
    async with runtime.sessions() as db:
        first = (
            await db.execute(
                select(ProviderKey).where(
                    ProviderKey.project_id == project.id, ProviderKey.key_slug == "first"
                )
            )
        ).scalar_one()
        await db.execute(
            update(ProviderKey)
            .where(ProviderKey.project_id == project.id, ProviderKey.key_slug == "second")
            .values(ciphertext=first.ciphertext)
        )
        await db.commit()
    response = await client.post(project.keys_url("second") + "/verify", headers=project.headers)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "credential_unreadable"
    assert "vault check" in response.json()["error"]["message"]
    total, bad = await _check(runtime)
    assert any(line.startswith(f"{project.id}/second:") for line in bad)
    async with runtime.sessions() as db:
        await db.execute(
            update(ProviderKey)
            .where(ProviderKey.project_id == project.id, ProviderKey.key_slug == "second")
            .values(ciphertext=first.ciphertext.replace(first.ciphertext, "x"))
        )
        await db.delete(await db.get(ProviderKey, first.id))
        await db.commit()
    await client.delete(project.keys_url("second"), headers=project.headers)


async def test_rotation_under_a_new_first_key_keeps_every_key_usable(
    client, runtime, settings, master_key, fake_providers, fakes, project, tmp_path
) -> None:
    bodies = {p: key_body(fakes, p, slug=f"rot-{p}") for p in ("openai", "anthropic", "vertex")}
    for body in bodies.values():
        assert (await client.post(project.keys_url(), json=body, headers=project.headers)).status_code == 201
    new_key = Fernet.generate_key().decode()
    rotated_settings = make_settings(
        settings.database_url, tmp_path, f"{new_key},{master_key}", fake_providers.env()
    )
    rotated = Runtime.build(rotated_settings)
    try:
        first = await _rotate(rotated)
        assert first[0] >= 3 and first[2] == []
        again = await _rotate(rotated)
        assert again[0] == 0 and again[1] >= 3  # idempotent
        total, bad = await _check(rotated)
        assert bad == [] and total >= 3
        only_new = Runtime.build(
            make_settings(settings.database_url, tmp_path, new_key, fake_providers.env())
        )
        try:
            async with only_new.sessions() as db:
                rows = (
                    (await db.execute(select(ProviderKey).where(ProviderKey.project_id == project.id)))
                    .scalars()
                    .all()
                )
            for row in rows:
                payload = only_new.vault.open(
                    row.ciphertext, project_id=row.project_id, key_slug=row.key_slug
                )
                assert payload
        finally:
            await only_new.aclose()
    finally:
        await rotated.aclose()
    # The running service still holds the old key as its only key: it can no longer open them,
    # and says so explicitly instead of treating the key as absent.
    response = await client.post(project.keys_url("rot-openai") + "/verify", headers=project.headers)
    assert response.status_code == 500 and response.json()["error"]["type"] == "credential_unreadable"
