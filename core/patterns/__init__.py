"""Candlestick patterns (rules + CNN), their edge, and support/resistance breakouts."""
