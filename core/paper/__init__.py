"""The paper trading book (forward testing): simulated orders filled at the next bar's open
with the configured costs, positions marked at each bar's close, P&L, exposure and drawdown
over time, and the desk's fused signal as an order source. Nothing is ever sent to a broker.

* :mod:`core.paper.book`: pure bookkeeping (bars and orders in, fills and marks out);
* :mod:`core.paper.desk`: the same on a stored account (:mod:`core.store.paper`), the book's
  bar clock (live or replayed offline) and :func:`core.paper.desk.follow_signals`;
* :mod:`core.paper.commands`: ``quantdesk paper status|order|mark|reset``.
"""
