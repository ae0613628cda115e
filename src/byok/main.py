"""The ASGI application for uvicorn: ``uvicorn byok.main:app``."""

from byok.app import create_app

app = create_app()
