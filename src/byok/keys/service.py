"""Verify & Save: a key is stored only after a live call proves it works.

The provider call happens before any write, and the write is one transaction (the key row
and its audit event), so a failed check or a lost race leaves nothing behind. A ``PUT`` that
fails verification leaves the old key exactly as it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from byok.audit.service import Action, record
from byok.auth import Principal
from byok.db import new_id, utcnow
from byok.errors import APIError, conflict, not_found
from byok.keys.credentials import (
    credential_from_input,
    credential_from_row,
    fingerprint_source,
    sealed_payload,
)
from byok.keys.models import ProviderKey
from byok.keys.schemas import KeyConfigIn, KeyCreateIn
from byok.providers.base import Credential, ProviderError, VerifyResult
from byok.runtime import Runtime
from byok.vault import VaultError


def verification_failed(exc: ProviderError) -> APIError:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return APIError(
        exc.status,
        "verification_failed",
        exc.message,
        {"reason": exc.reason, "provider_status": exc.provider_status},
        headers,
    )


def vault_failure(slug: str, exc: VaultError) -> APIError:
    return APIError(
        500,
        "credential_unreadable",
        f"the stored credential of {slug!r} cannot be opened; run `byok vault check`",
        {"key_slug": slug, "cause": str(exc)},
    )


async def verify_credential(runtime: Runtime, credential: Credential) -> VerifyResult:
    return await runtime.provider(credential.config.provider).verify(credential)


async def get_key_row(db: AsyncSession, project_id: str, key_slug: str) -> ProviderKey:
    row = (
        await db.execute(
            select(ProviderKey).where(ProviderKey.project_id == project_id, ProviderKey.key_slug == key_slug)
        )
    ).scalar_one_or_none()
    if row is None:
        raise not_found("key")
    return row


async def list_keys(db: AsyncSession, project_id: str) -> list[ProviderKey]:
    query = select(ProviderKey).where(ProviderKey.project_id == project_id)
    return list((await db.execute(query.order_by(ProviderKey.created_at, ProviderKey.id))).scalars())


async def _verify_or_record_failure(
    runtime: Runtime, db: AsyncSession, *, project_id: str, actor: str, slug: str, credential: Credential
) -> VerifyResult:
    try:
        return await verify_credential(runtime, credential)
    except ProviderError as exc:
        record(
            db,
            project_id=project_id,
            actor=actor,
            action="key.verification_failed",
            key_slug=slug,
            details={"reason": exc.reason, "provider": credential.config.provider},
        )
        await db.commit()
        raise verification_failed(exc) from None


def build_key_row(
    runtime: Runtime, *, project_id: str, slug: str, credential: Credential, result: VerifyResult
) -> ProviderKey:
    now = utcnow()
    config = credential.config
    return ProviderKey(
        id=new_id("key"),
        project_id=project_id,
        key_slug=slug,
        provider=config.provider,
        base_url=config.base_url,
        location=config.location,
        api_version=config.api_version,
        default_model=config.default_model,
        account=result.account,
        ciphertext=runtime.vault.seal(sealed_payload(credential), project_id=project_id, key_slug=slug),
        fingerprint=runtime.vault.fingerprint(fingerprint_source(credential)),
        status="verified",
        verified_at=now,
        created_at=now,
        updated_at=now,
    )


async def create_key(
    runtime: Runtime, db: AsyncSession, principal: Principal, project_id: str, body: KeyCreateIn
) -> ProviderKey:
    credential = credential_from_input(body)
    slug = body.key_slug
    # Answer a taken slug before spending a provider call; the unique constraint settles races.
    taken = await db.scalar(
        select(ProviderKey.id).where(ProviderKey.project_id == project_id, ProviderKey.key_slug == slug)
    )
    if taken is not None:
        raise conflict(f"a key named {slug!r} already exists in this project")
    await db.rollback()  # release the read (SQLite would otherwise hold it across the provider call)
    result = await _verify_or_record_failure(
        runtime, db, project_id=project_id, actor=principal.actor, slug=slug, credential=credential
    )
    row = build_key_row(runtime, project_id=project_id, slug=slug, credential=credential, result=result)
    db.add(row)
    record(
        db,
        project_id=project_id,
        actor=principal.actor,
        action="key.created",
        key_slug=slug,
        details={"provider": row.provider, "fingerprint": row.fingerprint},
    )
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise conflict(f"a key named {slug!r} already exists in this project") from None
    return row


async def replace_key(
    runtime: Runtime, db: AsyncSession, principal: Principal, project_id: str, slug: str, body: KeyConfigIn
) -> ProviderKey:
    await get_key_row(db, project_id, slug)
    credential = credential_from_input(body)
    await db.rollback()
    result = await _verify_or_record_failure(
        runtime, db, project_id=project_id, actor=principal.actor, slug=slug, credential=credential
    )
    fresh = build_key_row(runtime, project_id=project_id, slug=slug, credential=credential, result=result)
    values: dict[str, Any] = {
        "provider": fresh.provider,
        "base_url": fresh.base_url,
        "location": fresh.location,
        "api_version": fresh.api_version,
        "default_model": fresh.default_model,
        "account": fresh.account,
        "ciphertext": fresh.ciphertext,
        "fingerprint": fresh.fingerprint,
        "status": "verified",
        "last_error_reason": None,
        "last_error_message": None,
        "verified_at": fresh.verified_at,
        "updated_at": fresh.updated_at,
        "version": ProviderKey.version + 1,
    }
    done = await db.execute(
        update(ProviderKey)
        .where(ProviderKey.project_id == project_id, ProviderKey.key_slug == slug)
        .values(**values)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        await db.rollback()
        raise not_found("key")  # deleted while we were verifying
    record(
        db,
        project_id=project_id,
        actor=principal.actor,
        action="key.replaced",
        key_slug=slug,
        details={"provider": fresh.provider, "fingerprint": fresh.fingerprint},
    )
    await _commit_key_change(runtime, db, project_id, slug)
    return await get_key_row(db, project_id, slug)


async def reverify_key(
    runtime: Runtime, db: AsyncSession, principal: Principal, project_id: str, slug: str
) -> ProviderKey:
    row = await get_key_row(db, project_id, slug)
    try:
        credential = credential_from_row(row, runtime.vault)
    except VaultError as exc:
        raise vault_failure(slug, exc) from None
    row_id, version, provider = row.id, row.version, row.provider
    await db.rollback()  # no transaction held open across the provider call
    now = utcnow()
    values: dict[str, Any]
    action: Action
    try:
        result = await verify_credential(runtime, credential)
    except ProviderError as exc:
        values = {"status": "failing", "last_error_reason": exc.reason, "last_error_message": exc.message}
        action, details = "key.verification_failed", {"reason": exc.reason, "provider": provider}
    else:
        values = {"status": "verified", "last_error_reason": None, "last_error_message": None}
        values["verified_at"] = now
        if result.account:
            values["account"] = result.account
        action, details = "key.verified", {"provider": provider}
    # Only the credential we checked gets the verdict: a key replaced meanwhile keeps its own.
    await db.execute(
        update(ProviderKey)
        .where(ProviderKey.id == row_id, ProviderKey.version == version)
        .values(updated_at=now, **values)
    )
    record(db, project_id=project_id, actor=principal.actor, action=action, key_slug=slug, details=details)
    await db.commit()
    return await get_key_row(db, project_id, slug)


async def delete_key(
    runtime: Runtime, db: AsyncSession, principal: Principal, project_id: str, slug: str
) -> None:
    done = await db.execute(
        delete(ProviderKey).where(ProviderKey.project_id == project_id, ProviderKey.key_slug == slug)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        await db.rollback()
        raise not_found("key")
    record(db, project_id=project_id, actor=principal.actor, action="key.deleted", key_slug=slug)
    await _commit_key_change(runtime, db, project_id, slug)


async def _commit_key_change(runtime: Runtime, db: AsyncSession, project_id: str, slug: str) -> None:
    """Commit, and make every process drop what it cached of this key."""
    message = f"key:{project_id}:{slug}"
    await runtime.caches.announce(db, message)
    await db.commit()
    runtime.caches.apply(message)  # again after commit: a reader may have re-cached the old row
