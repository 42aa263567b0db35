"""Streamlit glue: cached wrappers around core, shared widgets. Pages import from here."""
