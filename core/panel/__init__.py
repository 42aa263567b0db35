"""The live loop, above the model families and below the pages and entry points:

* :mod:`core.panel.predictors`: one predictor per panel domain, from the family
  declarations; skill annotation; A/B routing on one bar;
* :mod:`core.panel.symbol`: one symbol's panel (figures + fused signal);
* :mod:`core.panel.signals`: signal fusion; :mod:`core.panel.abtest`: champion/challenger;
* :mod:`core.panel.refresh`: log, backfill, model status of a refresh;
* :mod:`core.panel.replay`: walk a history bar by bar (``quantdesk replay``);
* :mod:`core.panel.commands`: ``quantdesk replay`` and ``quantdesk backfill``.
"""
