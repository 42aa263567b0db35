"""Sentiment page: score headlines (pasted, uploaded, or live news) and aggregate per symbol.

Layout only; scoring, aggregation and figures live in core.sentiment / core.plots.
"""

import streamlit as st

from core.config import get_settings
from core.display import literal
from core.errors import QuantdeskError
from core.news import normalise_news, parse_news_csv, parse_pasted
from core.news.frame import combine_news, feed_urls, for_symbol
from core.plots.sentiment import gauge_figure, sentiment_price_figure, topic_bars_figure
from core.sentiment import report
from core.sentiment.scorers import FAMILY, ensemble_summary
from ui import warmup
from ui.data import session_upload
from ui.figures import cached_figure, chart
from ui.layout import page_start, price_chart
from ui.models import serving_key
from ui.sentiment import cached_news, cached_sentiment, news_to_json, scorers
from ui.widgets import metric_row, small_table

K_SOURCES_USED = "_sent_sources_used"

sel, md = page_start("Sentiment", "News sentiment per symbol: lexicons, an offline transformer "
                     "and FinBERT when available, combined by a fitted ensemble.")
symbol = sel.symbol
offline = get_settings().offline

# the sources' widgets are sent only once the box has been opened in this session (issue 15:
# seven widgets fewer on most visits); from then on on every run, open or not, so what was
# typed or uploaded is kept (a widget a run does not draw loses its value)
sources = st.expander("News sources: paste, upload, feeds, live news", key="sent_sources",
                      on_change="rerun")
if sources.open:
    st.session_state[K_SOURCES_USED] = True
if st.session_state.get(K_SOURCES_USED):
    with sources:
        c1, c2 = st.columns(2)
        pasted = c1.text_area("Paste headlines (one per line; optional `YYYY-MM-DD HH:MM | ` "
                              "prefix for the time)", key="sent_paste", height=150,
                              placeholder="2024-05-02 14:30 | <a headline>\n<another headline>")
        upload = c2.file_uploader("News CSV (published_at, headline, optional symbol, source, "
                                  "url)", type=["csv"], key="sent_upload")
        feeds_text = c2.text_input("RSS feed URLs (comma-separated, online only)", key="sent_feeds")
        live = c2.checkbox("Fetch live news (Yahoo Finance + RSS)", value=not offline,
                           disabled=offline, key="sent_live",
                           help="Off in offline mode (QUANTDESK_OFFLINE=1).")
        c3, c4 = st.columns(2)
        half_life = c3.number_input("Decay half-life [hours]", 1.0, 24.0 * 30, 24.0, step=6.0,
                                    key="sent_half_life")
        allow_dl = c4.checkbox("Allow FinBERT download (~440 MB, once, when online)", value=False,
                               disabled=offline, key="sent_finbert_dl")
else:  # the widgets' defaults
    pasted, upload, feeds_text, live, half_life, allow_dl = "", None, "", not offline, 24.0, False

frames, notes = [], []
try:
    if pasted.strip():
        frames.append(parse_pasted(pasted, symbol))
    if upload is not None:  # parsed once per session, under its upload budget (ui/data.py)
        news_csv = session_upload(upload, "news", lambda b: parse_news_csv(b, symbol), symbol)
        frames.append(for_symbol(news_csv.copy(), symbol))
except QuantdeskError as err:
    st.error(f"Could not read your headlines: {literal(err)}")

if live and not offline:
    live_news, live_notes = cached_news(symbol, feed_urls(feeds_text))
    notes += live_notes
    if not live_news.empty:
        frames.append(live_news)
for n in notes:
    st.caption(f"News source note: {literal(n)}")

if warmup.pending():  # server just started: models load in the background (ui/warmup.py)
    sc = None
    st.info("Sentiment models are warming up (first minute after the server started); "
            "scores appear here by themselves.", icon=":material/hourglass_top:")

    @st.fragment(run_every=1.0)
    def _wait_for_warmup() -> None:
        if not warmup.pending():
            st.rerun(scope="app")

    _wait_for_warmup()
else:
    try:
        sc = scorers(allow_dl)
    except QuantdeskError as err:
        sc = None
        st.error(f"Sentiment models could not be loaded: {literal(err)}")

news = combine_news(frames)
if news.empty:
    st.info(("Offline mode: no live news is fetched. " if offline else
             "No headlines found for this symbol yet. ") +
            "Open News sources above to paste headlines or upload a news CSV. "
            "Quantdesk never invents headlines.")
    if md is not None:  # the price for context until there are headlines to set against it
        price_chart(md, key="sent_price")
elif sc is not None:
    try:
        news = normalise_news(news)
        agg, scored = cached_sentiment(symbol, news_to_json(news), float(half_life), allow_dl,
                                       serving_key(FAMILY))
    except QuantdeskError as err:
        st.error(f"Scoring failed: {literal(err)}")
        agg = None
    if agg is not None:
        g1, g2 = st.columns([1, 1])
        chart(cached_figure(gauge_figure, agg["overall"],
                            f"{symbol} news sentiment [-1, 1]"),
              key="sent_gauge", where=g1)
        with g2:
            metric_row(report.aggregate_metrics(agg))
            st.caption(report.aggregate_caption(agg))
            chart(cached_figure(topic_bars_figure, agg["topics"], agg["topic_counts"]),
                  key="sent_topics")
        st.subheader("Headlines")
        st.dataframe(scored[report.headline_columns(scored)], width="stretch", hide_index=True,
                     column_config={
                         "published_at": st.column_config.DatetimeColumn("Published (UTC)"),
                         "minilm": st.column_config.NumberColumn("MiniLM", format="%+.2f"),
                         "finbert": st.column_config.NumberColumn("FinBERT", format="%+.2f"),
                         "vader": st.column_config.NumberColumn("VADER", format="%+.2f"),
                         "lm": st.column_config.NumberColumn("LM", format="%+.2f"),
                         "ensemble": st.column_config.NumberColumn("Ensemble [-1, 1]",
                                                                   format="%+.2f"),
                         "confidence": st.column_config.NumberColumn("Confidence",
                                                                     format="%.2f")})
        ctx = report.price_context(scored, md.frame["close"] if md is not None else None)
        chart(cached_figure(sentiment_price_figure, ctx.close, ctx.daily, symbol),
              key="sent_vs_price")
        if ctx.n_days == 0:
            st.caption("No headline has a date, so none is drawn over time; give times in the "
                       "CSV's published_at or as a `YYYY-MM-DD HH:MM | ` prefix.")
        elif ctx.close is not None and not ctx.overlap:
            st.caption("The headlines' dates fall outside the price history "
                       f"({md.frame.index.min():%Y-%m-%d} to {md.frame.index.max():%Y-%m-%d}), "
                       "so only the price is drawn; pick a symbol/period that covers them.")

if sc is not None:
    st.subheader("Models")
    small_table(report.models_table(sc.status))
    if summary := ensemble_summary(sc):
        st.caption(summary)
    if not sc.ensemble.fitted:
        st.warning("The ensemble uses default weights (no trained sentiment-head artifact). "
                   "An admin can train it: `quantdesk train sentiment`.")
    st.subheader("Evaluation (precomputed)")
    ev = report.evaluation_rows(sc.head_metadata)
    small_table(ev, precision=3)
    if target := report.phrasebank_target(ev):
        st.caption(target)
    st.caption("PhraseBank is used for evaluation only (never for training). The published "
               "FinBERT numbers come from a model fine-tuned on PhraseBank, so they are not a "
               "held-out comparison. Reproduce: `quantdesk evaluate sentiment --dataset "
               "../shared/data/financial_phrasebank/Sentences_AllAgree.txt`.")
