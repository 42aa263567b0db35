"""Benchmarks: ``python -m benchmarks [name ...]`` runs every ``bench_*.py`` module's
``run()`` and prints medians and ratios. Results are recorded in the README."""
