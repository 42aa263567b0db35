"""Quantdesk's HTTP API (FastAPI): health, model metadata, predictions, batch scoring and
admin jobs over the same :mod:`core` as the pages and the CLI.

Start it with ``quantdesk serve-api --host 127.0.0.1 --port 8000``; the OpenAPI schema is at
``/openapi.json`` and the interactive docs at ``/docs``. :func:`core.api.app.create_app`
builds the application; :mod:`core.api.keys` issues the API keys admin routes require.
"""
