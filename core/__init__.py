"""Quantdesk core: market data, features, models and evaluation. Never imports streamlit."""

__version__ = "0.1.0"
