"""Strategy lab: chart indicators (:mod:`.indicators`), rule signals and their measured edge
(:mod:`.rules`), strategy files (:mod:`.spec`), the event-driven backtest and walk-forward
(:mod:`.backtest`), the deflated Sharpe ratio and PBO (:mod:`.deflated`), the grid-search
tuner (:mod:`.tune`) and the ``quantdesk backtest`` / ``tune`` commands (:mod:`.commands`)."""
