"""The naive baseline (zero-return random walk) that every forecast is compared with."""
