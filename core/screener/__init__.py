"""The screener: scan a universe for setups, one row per symbol from its last bar, scored
by every model family on a batch engine (serial or Ray).

Modules: :mod:`~core.screener.columns` (technical columns), :mod:`~core.screener.row`
(one row: the pure task), :mod:`~core.screener.scan` (load, score, cache),
:mod:`~core.screener.filters` (conditions and sort), :mod:`~core.screener.report` (the
page's table), :mod:`~core.screener.synthetic` (a synthetic universe for load tests only),
:mod:`~core.screener.commands` (``quantdesk scan``, ``quantdesk screens``). Named universes
are :mod:`core.universe` and the batch engine (serial / Ray) :mod:`core.batch`, below the
model families, which use them too (universe-wide training).
"""
