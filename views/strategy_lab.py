"""Strategy Lab page: indicators on the chart, rule signals with their measured edge, a
strategy tester (full history and walk-forward, after costs, beside buy-and-hold) and a tuner
(grid search, the Q-learning tuner, or both compared with the same budget) with its
multiple-testing penalty. The heavy work runs behind buttons; tuning runs as a single-flight
job shared with `quantdesk tune` and retraining."""

from contextlib import nullcontext

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.display import csv_export, literal
from core.errors import QuantdeskError, TrainingInProgressError
from core.market import is_intraday
from core.paper import follow
from core.plots.candles import WINDOWS
from core.plots.indicators import OVERLAY_LABELS, PANEL_LABELS, chart_specs, indicator_figure
from core.plots.strategy import equity_figure, tune_test_figure
from core.strategy import report
from core.strategy.rules import SIGNALS
from core.strategy.spec import DEFAULT_EXAMPLE, example_strategies
from core.strategy.tune import grid_configs
from core.strategy.tune import verdict as tune_verdict
from ui.figures import cached_figure, chart
from ui.layout import DEFAULT_WINDOW, K_WINDOW, page_start
from ui.paper import store_call
from ui.strategy import (
    cached_backtest,
    cached_context,
    cached_edge,
    cached_signal,
    cached_walk_forward,
    context_cells,
    context_source,
    context_universes,
    frame_key,
    load_example,
    run_page_tune,
    spec_key,
)
from ui.widgets import keep_in_url, kept_input, lazy_tabs, metric_row

# URL query parameters of the chart settings (bound widgets; defaults stay out of the URL)
K_OVERLAYS, K_SMA, K_EMA, K_PANELS, K_MARKS = "overlays", "sma", "ema", "panels", "marks"
K_BB_N, K_BB_K, K_RSI_N, K_STRATEGY = "bb_n", "bb_k", "rsi_n", "strategy"
K_BREADTH = "breadth"  # the market context strip's universe
LENGTHS = [5, 10, 20, 50, 100, 200]
NO_MARKS = "(none)"
DEFAULT_STRATEGY = DEFAULT_EXAMPLE
MODES = {"full": "Full history", "wf": "Walk-forward (grid re-picked on each training window)"}
_RUN, _TUNED = "_sl_backtest_run", "_sl_tune_run"
_STRATEGY = "_sl_strategy"  # the strategy last chosen in this session
#: ``?tab=rules|tester|tuning`` opens that tab
TABS = {"chart": "Chart & indicators", "rules": "Rule signals", "tester": "Strategy tester",
        "tuning": "Tuning"}

sel, md = page_start("Strategy Lab", "From an indicator on the chart to a rule, its measured "
                     "edge and its honest backtest: after costs, beside buy-and-hold, out of "
                     "sample, with the penalty tuning earns.")


def _fail(what: str, err: Exception) -> None:
    """A plain message, never a traceback: expected errors as they are, others named."""
    if isinstance(err, (QuantdeskError, ValueError)):
        st.error(literal(f"{what}: {err}"))
    else:
        st.error(literal(f"{what} failed unexpectedly ({type(err).__name__}: {err}). "
                         "Try other settings; the rest of the page still works."))


def _window(where) -> str:
    """The chart window, shared with the other pages' charts (``?window=``), drawn in
    ``where`` (a container)."""
    has_dates = bool(st.query_params.get("start") or st.query_params.get("end"))
    fallback = "All" if has_dates else DEFAULT_WINDOW
    chosen = st.session_state.get(K_WINDOW) or st.query_params.get(K_WINDOW)
    default = chosen if chosen in WINDOWS else fallback
    choice = where.segmented_control("Chart window", list(WINDOWS), default=default,
                                     key="sl_window", label_visibility="collapsed",
                                     help="How much history the chart shows.") or default
    st.session_state[K_WINDOW] = choice
    keep_in_url(K_WINDOW, choice, fallback)
    return choice


def _chart(md) -> None:
    intraday = is_intraday(md.interval)
    overlay_opts = [v for k, v in OVERLAY_LABELS.items() if k != "vwap" or intraday]
    # every choice in one popover: a closed popover's widgets are not mounted by the browser
    # (values and URL parameters kept), unlike an expander's or the page's own (issue 15);
    # the chart's legend names what is drawn. Pills, not multiselects: a fraction of the
    # browser's time when opened
    row = st.container(horizontal=True, vertical_alignment="center")
    with row.popover("Indicators & signal marks", icon=":material/tune:"):
        overlays = st.pills("Overlays", overlay_opts, selection_mode="multi", default=["SMA"],
                            key=K_OVERLAYS, bind="query-params",
                            help="Drawn on the price axis. VWAP (session-anchored) is offered "
                                 "for intraday intervals only.")
        panels = st.pills("Panels", list(PANEL_LABELS.values()), selection_mode="multi",
                          default=["RSI"], key=K_PANELS, bind="query-params",
                          help="One sub-chart each, under price and volume.")
        sma = st.pills("SMA lengths [bars]", LENGTHS, selection_mode="multi", default=[50, 200],
                       key=K_SMA, bind="query-params", disabled="SMA" not in overlays)
        ema = st.pills("EMA lengths [bars]", LENGTHS, selection_mode="multi", default=[20],
                       key=K_EMA, bind="query-params", disabled="EMA" not in overlays)
        marks = st.selectbox("Mark rule signals", [NO_MARKS, *SIGNALS], key=K_MARKS,
                             bind="query-params", index=1,
                             format_func=lambda s: s if s == NO_MARKS else SIGNALS[s].label,
                             help="▲ where the rule says long, ▼ where it says short (default "
                                  "parameters; their edge is in the Rule signals tab).")
        bb_n = st.number_input("Bollinger period [bars]", 2, 500, 20, key=K_BB_N,
                               bind="query-params")
        bb_k = st.number_input("Bollinger width [σ]", 0.5, 5.0, 2.0, step=0.5, key=K_BB_K,
                               bind="query-params")
        rsi_n = st.number_input("RSI period [bars]", 2, 200, 14, key=K_RSI_N,
                                bind="query-params")
    window = _window(row)
    names = {v: k for k, v in PANEL_LABELS.items()}
    try:
        ov, pn = chart_specs(sma=sma if "SMA" in overlays else (),
                             ema=ema if "EMA" in overlays else (),
                             bollinger=(bb_n, bb_k) if "Bollinger" in overlays else None,
                             vwap="VWAP" in overlays, panels=[names[p] for p in panels],
                             rsi_period=rsi_n)
        markers = None if marks == NO_MARKS else cached_signal(frame_key(md), md.frame, marks)
        fig = cached_figure(indicator_figure, md.frame, overlays=ov, panels=pn, window=window,
                            markers=markers,
                            marker_label=SIGNALS[marks].label if markers is not None else "",
                            title=f"{md.symbol} · {md.interval}")
    except Exception as err:  # noqa: BLE001 - a page never shows a traceback
        _fail("Could not draw the indicators", err)
        return
    chart(fig, key="sl_chart")
    st.caption("Indicators use bars up to each point only (TA-Lib arithmetic; warm-up on the "
               "bars before the window). Long windows are drawn as merged candles; the title "
               "says how many bars each holds. Settings are kept in the URL.")


def _context(md) -> None:
    """The market context strip: ^VIX, the benchmark's trend, breadth and liquidity as of
    the symbol's last bar, each with the date of the data it used."""
    universes = context_universes()
    head, pick = st.columns([3, 2], vertical_alignment="center")
    head.markdown("**Market context**")
    # in a popover, not mounted until opened (issue 15); the breadth cell names the universe
    with pick.popover("Breadth universe", icon=":material/groups:", width="stretch"):
        universe = st.selectbox("Breadth universe", list(universes), key=K_BREADTH,
                                bind="query-params", format_func=universes.get,
                                help="Universe whose breadth is shown. An index loads every "
                                     "member's daily bars (cached for a day).")
    try:
        ctx = cached_context(frame_key(md), md.frame, md.interval, universe,
                             context_source(md), md.fallback)
    except Exception as err:  # noqa: BLE001 - the strip never stops the page
        st.info(literal(f"Market context unavailable: {err}"))
        return
    # one HTML element, not four columns of markdown and captions (issue 15)
    metric_row(context_cells(ctx), small=True)
    st.caption(literal(f"From bars at or before {md.symbol}'s bar of {ctx['as_of'][:10]} only. "
                       "^VIX regime: percentile against its own previous 5 years; trend: "
                       "close against its 50/200-bar averages; Amihud (2002): mean of "
                       "|return| / dollar volume over 20 bars (adjusted bars)."))


def _edges(md) -> None:
    try:
        table = cached_edge(frame_key(md), md.frame)
    except Exception as err:  # noqa: BLE001
        _fail("Could not measure the rules' edge", err)
        return
    st.dataframe(report.signal_edge_display(table), width="stretch")
    st.caption(report.edge_caption(table, md.symbol, len(md.frame)))


def _strategy_stem(stems: list[str], draw: bool) -> str:
    """The strategy file chosen (its stem): from the URL (``?strategy=``), else the one last
    chosen in this session, else the default; a select box while ``draw``. The choice is
    written back to the URL (left out when it is the default), so a view can be linked.

    Not a widget bound to the URL: a bound widget must be drawn on every run or Streamlit
    drops its parameter, and the box sits in the tester's tab, which a warm visit of the
    chart does not draw (a hidden select box cost the browser its ~20 chunks of code,
    issue 15)."""
    default = DEFAULT_STRATEGY if DEFAULT_STRATEGY in stems else stems[0]
    url = st.query_params.get(K_STRATEGY)
    stem = url if url in stems else st.session_state.get(_STRATEGY, default)
    stem = stem if stem in stems else default
    if draw:  # with a key, the box's own state wins over ``index`` (a choice just made)
        stem = st.selectbox("Strategy", stems, index=stems.index(stem), key=K_STRATEGY,
                            help="Example strategy files shipped in strategies/ (TOML or JSON).")
    st.session_state[_STRATEGY] = stem
    keep_in_url(K_STRATEGY, stem, default)
    return stem


def _strategy_form(md, draw: bool = True):
    """The chosen strategy with the form's edits, or None after an explained problem.

    ``draw=False`` (its tab closed, issue 15): the form is not sent; the strategy is built
    from the values its fields were last submitted with in this session
    (:func:`ui.widgets.kept_input`), so the tuning tab tunes what the tester shows; so is
    the strategy (:func:`_strategy_stem`)."""
    files = example_strategies()
    if not files:
        st.warning("No strategy files in strategies/; see docs/strategy.md for the format.")
        return None
    stem = _strategy_stem(list(files), draw)
    path = files[stem]
    try:
        base = load_example(str(path), path.stat().st_mtime)
    except (QuantdeskError, OSError) as err:
        _fail(f"Could not read {path.name}", err)
        return None
    if draw:
        st.caption(literal(f"{base.name}: {base.description} ({path.name})"))

    def field(container, label, *, key, value, **kwargs):
        return kept_input(draw, container.number_input, label, key=f"sl_{stem}_{key}",
                          value=value, **kwargs)

    form = st.form(f"sl_form_{stem}") if draw else nullcontext()
    with form:
        c1, c2, c3 = st.columns(3) if draw else (st, st, st)
        side = kept_input(draw, c1.radio, "Side", options=["long", "short", "both"],
                          value=base.side, horizontal=True, key=f"sl_{stem}_side")
        stop = field(c1, "Stop [ATR multiple, 0 = none]", key="stop",
                     value=float(base.exit.stop_atr or 0.0), min_value=0.0, max_value=50.0,
                     step=0.5)
        hold = field(c1, "Max holding [bars, 0 = none]", key="hold",
                     value=int(base.exit.max_hold or 0), min_value=0, max_value=5000)
        policy = kept_input(draw, c1.selectbox, "Sizing", options=report.SIZING_POLICIES,
                            value=base.sizing.policy, format_func=report.SIZING_POLICIES.get,
                            key=f"sl_{stem}_policy",
                            help="Fixed: a share of equity. Volatility target: that share "
                                 "times target / EWMA volatility (capped at the share). "
                                 "Risk to the stop: lose that share of equity if the ATR "
                                 "stop is hit (needs a stop).")
        s1, s2, s3 = c1.columns(3) if draw else (st, st, st)
        frac = field(s1, "Max [% equity]", key="frac", value=100 * base.sizing.fraction,
                     min_value=1.0, max_value=100.0, step=5.0)
        tvol = field(s2, "Vol target [%]", key="tvol", value=100 * base.sizing.target_vol,
                     min_value=1.0, max_value=200.0, step=1.0)
        risk = field(s3, "Risk [% equity]", key="risk", value=100 * base.sizing.risk_per_trade,
                     min_value=0.1, max_value=20.0, step=0.1)
        params = {}
        for name, values in report.editable_params(base).items():
            if draw:
                c2.markdown(f"**{literal(SIGNALS[name].label)}**")
            params[name] = {}
            for k, v in values.items():
                label = report.param_label(name, k)
                if isinstance(SIGNALS[name].defaults[k], int):
                    params[name][k] = field(c2, label, key=f"{name}_{k}", value=int(v),
                                            min_value=1, max_value=1000)
                else:
                    params[name][k] = field(c2, label, key=f"{name}_{k}", value=float(v),
                                            min_value=0.0, max_value=100.0,
                                            step=1.0 if name == "rsi" else 0.5)
        comm = field(c3, "Commission [bp per fill]", key="comm",
                     value=float(base.costs.commission_bp), min_value=0.0, max_value=500.0,
                     step=0.5)
        spread = field(c3, "Spread [bp, full]", key="spread", value=float(base.costs.spread_bp),
                       min_value=0.0, max_value=500.0, step=0.5)
        slip = field(c3, "Slippage [bp per fill]", key="slip",
                     value=float(base.costs.slippage_bp), min_value=0.0, max_value=500.0,
                     step=0.5)
        mode = kept_input(draw, st.radio, "Test", options=MODES, value="full",
                          format_func=MODES.get, horizontal=True, key=f"sl_{stem}_mode")
        run = st.form_submit_button("Run backtest", type="primary") if draw else False
    try:
        spec = report.edited_strategy(base, side=side, signal_params=params, stop_atr=stop,
                                      max_hold=hold, commission_bp=comm, spread_bp=spread,
                                      slippage_bp=slip,
                                      sizing={"policy": policy, "fraction": frac / 100,
                                              "target_vol": tvol / 100,
                                              "risk_per_trade": risk / 100})
    except (QuantdeskError, ValueError) as err:
        _fail("Check the parameters", err)
        return None
    if run:
        st.session_state[_RUN] = (frame_key(md), spec_key(spec), mode)
    return spec


def _backtest(md, spec) -> None:
    key = frame_key(md)
    run = st.session_state.get(_RUN)
    if not run or run[0] != key or run[1] != spec_key(spec):
        st.info("Press **Run backtest**. Full history takes a moment; walk-forward re-picks "
                "the strategy's [tune] grid on each training window (seconds).")
        return
    mode = run[2]
    try:
        if mode == "wf":
            res = cached_walk_forward(key, md.frame, run[1], md.interval)
        else:
            res = cached_backtest(key, md.frame, run[1], md.interval)
    except Exception as err:  # noqa: BLE001
        _fail("The backtest could not run", err)
        return
    first, last = res.equity.index[0], res.equity.index[-1]
    st.markdown(literal(f"{spec.name} ({spec.side}) on {md.symbol}, {MODES[mode].lower()}, "
                        f"{first:%Y-%m-%d} .. {last:%Y-%m-%d} ({len(res.equity):,} bars); "
                        f"{report.costs_line(spec)}; {report.sizing_line(spec)}."))
    metric_row(report.headline_metrics(res.metrics, res.benchmark_metrics))
    st.markdown(report.backtest_verdict(res.metrics, res.benchmark_metrics))
    left, right = st.columns([3, 2])
    folds = [f["test_start"] for f in res.folds] if mode == "wf" else ()
    chart(cached_figure(equity_figure, res.equity, res.benchmark,
                        strategy_name=spec.name, fold_starts=folds,
                        title=f"{md.symbol}: equity after costs vs buy & hold"),
          key="sl_equity", where=left)
    with right:
        st.table(report.metrics_display(res.metrics, res.benchmark_metrics))
        st.caption("Buy-and-hold buys with the same cash at the same first fill and pays the "
                   "same costs. Sharpe: annualised, zero risk-free rate; CI from its standard "
                   "error with the returns' skew and kurtosis.")
    if mode == "wf":
        st.markdown(f"**Walk-forward folds** ({res.n_configs} configuration(s) tried on each "
                    "training window; each test block starts and ends flat)")
        st.dataframe(report.folds_display(res.folds), hide_index=True, width="stretch")
    trades = report.trades_display(res.trades)
    st.markdown(f"**Trades** ({len(trades):,})")
    st.dataframe(trades, hide_index=True, width="stretch", height=min(36 * (len(trades) + 1) + 3,
                                                                         420))
    st.download_button("Export trades CSV", csv_export(trades),
                       file_name=f"{md.symbol}_{spec.name}_{mode}_trades.csv".replace(" ", "_"),
                       mime="text/csv", key="sl_trades_csv", on_click="ignore")
    _follow_on_paper(md, spec)


def _follow_on_paper(md, spec, *, label: str = "Follow this strategy on the Paper Book",
                     key: str = "sl_follow") -> None:
    """Hand a strategy to the Paper Book: it follows it from the book's clock."""
    st.markdown("**Trade it on paper**")
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    if c1.button(label, key=key):
        d = store_call(lambda ow, session: follow.follow_strategy(ow, md, spec,
                                                                 session=session))
        if d is not None:
            st.success(literal(f"The Paper Book follows {spec.name} for {md.symbol} from the "
                               f"bar of {d.bar_ts:%Y-%m-%d}: {d.message}"))
    try:  # the same session (a new tab would be a new session's book)
        c2.page_link("views/paper.py", label=f"Open the Paper Book for {md.symbol}",
                     query_params={"symbol": md.symbol})
    except StreamlitAPIException:  # the page run on its own, outside app.py's navigation
        c2.caption("Open the Paper Book from the navigation.")
    st.caption("The book takes the tester's decisions bar by bar on the bars it sees, with the "
               "book's own costs; orders fill at the next open. Simulated only: no order is "
               "ever sent to a broker.")


def _tune(md, spec) -> None:
    st.caption(literal(f"Tunes {spec.name}'s [tune] grid on the first "
                       f"{report.TUNE_TRAIN_SHARE:.0%} of {md.symbol}'s bars and judges the pick "
                       "on the rest, beside the untuned strategy (with the tester's edits) and "
                       "buy-and-hold. For held-out symbols too, use `quantdesk tune`."))
    try:
        grid = grid_configs(spec)
        report.check_grid(len(grid))
        test_start = report.tune_split(md.frame.index)
    except (QuantdeskError, ValueError) as err:
        _fail("Cannot tune", err)
        return
    st.caption(literal("Grid: " + (", ".join(f"{k} ∈ {v}" for k, v in spec.tune.items())
                                   or "none (the file's own parameters only)")
                       + f" · {len(grid)} configuration(s)."))
    method = st.radio("Method", list(report.TUNE_METHODS), format_func=report.TUNE_METHODS.get,
                      horizontal=True, key="sl_tune_method",
                      help="Grid search tries every configuration. Q-learning moves the "
                           "parameters one grid step at a time, window by window, from how "
                           "the current ones just did (trained on the training bars only). "
                           "Compare runs the untuned file, the grid and Q-learning with the "
                           f"same budget (at most {report.PAGE_BUDGET} configurations' worth "
                           "here).")
    if method != "grid" and len(grid) < 2:
        st.info("Q-learning needs a [tune] grid with at least two configurations to move "
                "between; this strategy has none. The grid search runs the file as written.")
        return
    key = frame_key(md)
    if st.button(report.TUNE_BUTTONS[method], key="sl_tune"):
        bar = st.progress(0.0, text="Starting the tuning job…")

        def progress(frac: float, msg: str) -> None:
            bar.progress(max(0.0, min(1.0, float(frac))), text=msg)

        try:
            res = run_page_tune(key, md.frame, spec_key(spec), md.interval, str(test_start),
                                method, progress)
        except TrainingInProgressError as err:
            bar.empty()
            st.warning(literal(str(err)))
            return
        except Exception as err:  # noqa: BLE001
            bar.empty()
            _fail("Tuning could not run", err)
            return
        bar.empty()
        st.session_state[_TUNED] = (key, spec_key(spec), method, res)
    run = st.session_state.get(_TUNED)
    if not run or run[0] != key or run[1] != spec_key(spec) or run[2] != method:
        return
    res = run[3]
    if method == "both":
        _show_comparison(res)
    elif method == "qlearning":
        _show_qlearning(res)
    else:
        _show_grid(res)
    job = res.get("job") or {}
    if job.get("version"):
        st.caption(literal(f"Recorded as tuning run {job['run']} (tuning/{job['version']}); "
                           "it is listed with the training runs on the Admin page."))
    params = report.tuned_params(res, method)
    if params is None:
        st.caption("The Q-learning tuner moves the parameters as it trades; the Paper Book "
                   "follows fixed parameters, so follow the grid's pick (or Compare's "
                   "recommendation) instead.")
    else:
        _follow_on_paper(md, report.tuned_strategy(spec, params),
                         label="Follow the tuned strategy on the Paper Book",
                         key="sl_follow_tuned")


def _show_grid(res: dict) -> None:
    metric_row(report.tune_headline(res))
    for line in report.tune_plain_lines(res):
        st.markdown(line)
    st.caption(literal(tune_verdict(res)))
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**Configurations tried** (training bars up to {res['train']['end']})")
        st.dataframe(report.configs_display(res), hide_index=True, width="stretch", height=320)
    with right:
        chart(cached_figure(tune_test_figure, res), key="sl_tune_fig")
    st.dataframe(report.tune_test_display(res), hide_index=True, width="stretch")


def _show_qlearning(res: dict) -> None:
    metric_row(report.qlearning_headline(res))
    st.markdown(literal(f"The policy starts at {report.params_text(res['start_params'])} and "
                        f"moves one parameter one grid step per {res['settings']['window']}-bar "
                        "window, from the state of the window before (frozen on the test "
                        "bars)."))
    st.dataframe(report.qlearning_test_display(res), hide_index=True, width="stretch")
    st.caption(literal(res.get("verdict") or ""))
    st.caption("Each test window starts flat (a parameter change closes the position). Use "
               "**Compare** to see it against the untuned file and the grid of the same "
               "budget.")


def _show_comparison(res: dict) -> None:
    lines = report.comparison_plain_lines(res)
    st.markdown(lines[0])
    st.dataframe(report.comparison_display(res), width="stretch")
    for line in lines[1:]:
        st.caption(line)
    with st.expander("The grid search's result"):
        _show_grid(res["grid"])
    with st.expander("The Q-learning policy on the test bars"):
        st.dataframe(report.qlearning_test_display(res["qlearning"]), hide_index=True,
                     width="stretch")


if md is not None:
    _context(md)
    if len(md.frame) < 60:
        st.warning(f"Only {len(md.frame)} bars: the lab needs at least 60. Choose a longer "
                   "date range.")
    else:
        # the rule-edge table, the tester's form and results and the tuner are computed and
        # sent only while their tab is open (a tab click reruns the page, issue 15); the
        # chart's widgets (bound to the URL) are always drawn; the strategy (in the URL)
        # and the form's values are kept across the runs that do not draw them
        tab_chart, tab_rules, tab_test, tab_tune = lazy_tabs(TABS, key="sl_tab")
        with tab_chart:
            _chart(md)
        with tab_rules:
            if tab_rules.open:
                _edges(md)
        with tab_test:
            edited = _strategy_form(md, draw=tab_test.open)
            if edited is not None and tab_test.open:
                _backtest(md, edited)
        if tab_tune.open:
            with tab_tune:
                if edited is None:
                    st.info("Fix the strategy's parameters in the Strategy tester tab first.")
                else:
                    _tune(md, edited)
