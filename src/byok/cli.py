"""The ``byok`` command: serve, migrate, create-project, and the vault's maintenance."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from byok.auth import Principal
from byok.keys.models import ProviderKey
from byok.projects.schemas import ProjectCreateIn
from byok.runtime import Runtime
from byok.settings import ConfigurationError, Settings
from byok.vault import VaultError

app = typer.Typer(help="byok: bring-your-own-key LLM credentials.", no_args_is_help=True)
vault_app = typer.Typer(help="Master keys and the stored credentials they protect.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def run_migrations(settings: Settings) -> None:
    command.upgrade(alembic_config(settings.resolved_database_url), "head")


def _runtime(settings: Settings) -> Runtime:
    try:
        return Runtime.build(settings)
    except ConfigurationError as exc:
        typer.echo(f"byok: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind (BYOK_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (BYOK_PORT)")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Apply migrations, then serve the API with uvicorn."""
    import uvicorn

    settings = Settings()
    _runtime(settings)  # fail fast on missing production secrets, and generate development ones once
    run_migrations(settings)
    uvicorn.run(
        "byok.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    run_migrations(Settings())
    typer.echo("database is up to date")


@app.command("create-project")
def create_project(name: str) -> None:
    """Create a project and print its id and API key (shown this once)."""
    from byok.projects.service import create_project as create

    settings = Settings()
    run_migrations(settings)

    async def _go() -> tuple[str, str]:
        runtime = _runtime(settings)
        try:
            async with runtime.sessions() as db:
                project, api_key, _ = await create(
                    runtime, db, Principal("operator"), ProjectCreateIn(name=name)
                )
                return project.id, api_key
        finally:
            await runtime.aclose()

    project_id, api_key = asyncio.run(_go())
    typer.echo(f"project_id: {project_id}")
    typer.echo(f"api_key:    {api_key}")
    typer.echo("the API key is shown this once; store it now", err=True)


@vault_app.command("generate-key")
def generate_key() -> None:
    """Print a new Fernet master key (put it first in BYOK_MASTER_KEYS to start rotating)."""
    typer.echo(Fernet.generate_key().decode())


async def _rotate(runtime: Runtime) -> tuple[int, int, list[str]]:
    rotated = current = 0
    failed: list[str] = []
    async with runtime.sessions() as db:
        rows = (await db.execute(select(ProviderKey.id, ProviderKey.project_id, ProviderKey.key_slug))).all()
    with typer.progressbar(rows, label="re-encrypting", file=sys.stderr) as bar:
        for key_id, project_id, slug in bar:
            for _attempt in range(5):
                async with runtime.sessions() as db:
                    token = await db.scalar(select(ProviderKey.ciphertext).where(ProviderKey.id == key_id))
                    if token is None:
                        break  # deleted meanwhile
                    if runtime.vault.is_current(token):
                        current += 1
                        break
                    try:
                        fresh = runtime.vault.rotate(token)
                    except VaultError:
                        failed.append(f"{project_id}/{slug}")
                        break
                    # Compare-and-swap: a key replaced by the running service meanwhile is left as it is.
                    done = await db.execute(
                        update(ProviderKey)
                        .where(ProviderKey.id == key_id, ProviderKey.ciphertext == token)
                        .values(ciphertext=fresh)
                    )
                    await db.commit()
                    if done.rowcount:  # type: ignore[attr-defined]
                        rotated += 1
                        break
    return rotated, current, failed


@vault_app.command()
def rotate() -> None:
    """Re-encrypt every stored credential under the first master key. Idempotent; safe while serving."""
    settings = Settings()

    async def _go() -> tuple[int, int, list[str]]:
        runtime = _runtime(settings)
        try:
            return await _rotate(runtime)
        finally:
            await runtime.aclose()

    rotated, current, failed = asyncio.run(_go())
    typer.echo(f"re-encrypted {rotated}, already current {current}, unreadable {len(failed)}")
    for name in failed:
        typer.echo(f"cannot open: {name}", err=True)
    if failed:
        raise typer.Exit(1)


async def _check(runtime: Runtime) -> tuple[int, list[str]]:
    bad: list[str] = []
    async with runtime.sessions() as db:
        rows = (await db.execute(select(ProviderKey))).scalars().all()
    for row in rows:
        try:
            runtime.vault.open(row.ciphertext, project_id=row.project_id, key_slug=row.key_slug)
        except VaultError as exc:
            bad.append(f"{row.project_id}/{row.key_slug}: {exc}")
    return len(rows), bad


@vault_app.command()
def check() -> None:
    """Open every stored credential; list those that cannot be opened (exit 1 if any)."""
    settings = Settings()

    async def _go() -> tuple[int, list[str]]:
        runtime = _runtime(settings)
        try:
            return await _check(runtime)
        finally:
            await runtime.aclose()

    total, bad = asyncio.run(_go())
    for line in bad:
        typer.echo(f"cannot open {line}")
    typer.echo(f"{total - len(bad)} of {total} stored credentials open")
    if bad:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
