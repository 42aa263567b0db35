"""CLI: ``quantdesk sentiment score|symbol``, ``quantdesk evaluate sentiment``,
``quantdesk train sentiment``. Heavy libraries load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.cliutil import emit_json, fail, groups, guarded
from core.data import parse_date
from core.errors import DataSourceError, DataValidationError, QuantdeskError
from core.news import get_news, parse_news_csv
from core.sentiment.datasets import load_dataset
from core.sentiment.evaluate import evaluate, markdown_table
from core.sentiment.head import HeadConfig, METHODS
from core.sentiment.serve import symbol_sentiment
from core.sentiment.scorers import FAMILY, clean_texts, load_scorers, score_texts
from core.sentiment.train import train
from core.store.runs import run_single_flight

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()

sentiment_app = typer.Typer(help="Score headlines and per-symbol news sentiment.",
                            no_args_is_help=True)
app.add_typer(sentiment_app, name="sentiment")


def _texts_from_csv(path: Path) -> list[str]:
    import pandas as pd


    try:
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataValidationError(f"No such file: {path}") from None
    except OSError as err:  # a directory, no permission
        raise DataValidationError(f"Cannot read {path} ({type(err).__name__}); give a CSV "
                                  "file.") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataValidationError(f"Could not read {path} ({err}).") from None
    cols = {c.lower().strip(): c for c in df.columns}
    for c in ("headline", "text", "title", "sentence"):
        if c in cols:
            return df[cols[c]].dropna().tolist()
    raise DataValidationError(f"{path} needs a 'headline' or 'text' column; it has "
                              f"{list(df.columns)}.")


@sentiment_app.command("score")
def score_cmd(
    texts: Optional[list[str]] = typer.Argument(None, help="Headlines to score."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="CSV with a headline/text column."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    finbert: bool = typer.Option(True, "--finbert/--no-finbert",
                                 help="Try FinBERT (local folder, HF cache, or download)."),
    finbert_model: Optional[str] = typer.Option(None, "--finbert-model",
                                                help="Hub id or local folder of FinBERT."),
) -> None:
    """Score TEXT... (or --csv) with every available scorer and the ensemble."""
    try:
        items = list(texts or [])
        if csv is not None:
            items += _texts_from_csv(csv)
        clean_texts(items)  # count refused before any model loads
        scorers = load_scorers(finbert=finbert, finbert_model=finbert_model,
                               progress=lambda m: typer.echo(m, err=True))
        df = score_texts(items, scorers)
    except QuantdeskError as err:
        fail(err)
    models = [{"model": s.name, "active": s.active, "detail": s.detail}
              for s in scorers.status]
    for note in df.attrs["notes"]:
        typer.echo(f"Note: {note}", err=True)
    if as_json:
        emit_json({"models": models, "ensemble_scorers": df.attrs["ensemble_scorers"],
                   "ensemble_fitted": df.attrs["ensemble_fitted"], "notes": df.attrs["notes"],
                   "results": df.to_dict(orient="records")})
        return
    for m in models:
        typer.echo(f"{'on ' if m['active'] else 'off'} {m['model']:<8} {m['detail']}")
    cols = [c for c in ("minilm", "finbert", "vader", "lm", "ensemble") if c in df]
    typer.echo(" ".join(f"{c:>8}" for c in cols) + "  label     text")
    for _, r in df.iterrows():
        typer.echo(" ".join(f"{r[c]:>8.3f}" for c in cols) + f"  {r['label']:<9} "
                   f"{r['text'][:80]}")


@sentiment_app.command("symbol")
def symbol_cmd(
    symbol: str = typer.Argument(..., help="Ticker, e.g. AAPL."),
    news_csv: Optional[Path] = typer.Option(None, "--news-csv",
                                            help="CSV published_at,headline[,symbol,source,url]"),
    feed: Optional[list[str]] = typer.Option(None, "--feed", help="RSS feed URL (repeatable)."),
    half_life: float = typer.Option(24.0, "--half-life", help="Decay half-life [hours]."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Aggregate at this UTC time."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Aggregate news sentiment for SYMBOL (Yahoo/RSS when online, or --news-csv)."""
    try:
        notes = []
        if news_csv is not None:
            news = parse_news_csv(news_csv, symbol.upper())
            if "symbol" in news and (news["symbol"] != "").any():
                news = news[news["symbol"].isin([symbol.upper(), ""])]
        else:
            news, notes = get_news(symbol.upper(), feed or [])
        if news.empty:
            raise DataSourceError("No headlines: " + ("; ".join(notes) or "none found") +
                                  ". Give --news-csv PATH.")
        agg, scored = symbol_sentiment(symbol, news, parse_date(as_of, "--as-of")
                                       if as_of else None,
                                       half_life, load_scorers(finbert=False))
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json({**agg.to_dict(), "notes": notes,
                   "headlines": scored.assign(published_at=scored["published_at"].astype(str))
                   .to_dict(orient="records")})
        return
    for n in notes:
        typer.echo(f"note: {n}")
    typer.echo(f"{agg.symbol}: overall {agg.overall:+.3f} ({agg.label}), {agg.news_count} "
               f"headlines, confidence {agg.confidence:.2f}, impact {agg.impact:.2f}, "
               f"half-life {agg.half_life_hours:g} h, as of {agg.as_of:%Y-%m-%d %H:%M} UTC")
    for t, v in agg.topics.items():
        typer.echo(f"  {t:<11} {'-' if v is None else f'{v:+.3f}'} ({agg.topic_counts[t]})")


@evaluate_app.command("sentiment")
def evaluate_cmd(
    dataset: Path = typer.Option(..., "--dataset", help="PhraseBank Sentences_*.txt or a "
                                                        "text,label CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    finbert: bool = typer.Option(True, "--finbert/--no-finbert", help="Include FinBERT "
                                 "when it can be loaded (it was trained on PhraseBank)."),
    finbert_model: Optional[str] = typer.Option(None, "--finbert-model"),
) -> None:
    """Accuracy, macro-F1 and confusion per scorer, the ensemble and the majority baseline."""
    try:
        ds = load_dataset(dataset)
        res = evaluate(ds, load_scorers(finbert=finbert, finbert_model=finbert_model,
                                        progress=lambda m: typer.echo(m, err=True)))
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json(res)
        return
    typer.echo(markdown_table(res))
    for name, why in res["unavailable"].items():
        typer.echo(f"note: {name} unavailable: {why}")


@train_app.command("sentiment")
def train_cmd(
    csv: Optional[Path] = typer.Option(None, "--csv", help="Labelled text,label CSV (default: "
                                       "../shared Twitter financial news set)."),
    valid_csv: Optional[Path] = typer.Option(None, "--valid-csv",
                                             help="Validation CSV (default: 20% of --csv)."),
    method: str = typer.Option("lora", "--method", help="lora (LoRA fine-tune of MiniLM, the "
                               "shipped head; ~5 min per epoch on 2 cores) or logreg (frozen "
                               "embeddings + logistic regression, ~2 min)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="LoRA epochs (default 4; the "
                                         "best on validation is kept)."),
    finbert: bool = typer.Option(False, "--finbert", help="Also fit weights with FinBERT."),
    as_json: bool = typer.Option(False, "--json", help="Print the metadata as JSON."),
) -> None:
    """Train the offline MiniLM head + ensemble weights; writes a new sentiment-head version,
    registered as a candidate (single-flight; promote it to serve it)."""
    from dataclasses import replace


    if method not in METHODS:
        fail(DataValidationError(f"--method must be one of {', '.join(METHODS)}, not "
                                 f"{method!r}."))
    cfg = HeadConfig(method=method)
    if epochs is not None:
        cfg = replace(cfg, epochs=epochs)
    last = [-1.0]

    def progress(f: float, msg: str) -> None:
        if f - last[0] >= 0.05 or f >= 1:
            last[0] = f
            typer.echo(f"[{f:4.0%}] {msg}", err=True)

    made = {}

    def trainer(progress=None):
        made["art"] = train(progress, csv=csv, valid_csv=valid_csv, config=cfg,
                            finbert=finbert)
        return made["art"]

    # single-flight like `models retrain`: the training lock (a lease), a recorded run and
    # the new version registered as a candidate (promote it to serve it)
    with guarded():
        run = run_single_flight(FAMILY, trainer, who="cli", progress=progress)
    if run.version is None:
        fail(QuantdeskError(f"sentiment training failed: {run.error}"))
    art = made["art"]
    if as_json:
        emit_json(art.metadata)
        return
    typer.echo(f"saved candidate {art.family}/{art.version} in {art.path}; serve it with "
               f"`quantdesk models promote {art.family} {art.version}`")
    for r in art.metadata["metrics"]["valid"]["rows"]:
        typer.echo(f"  valid  {r['title']:<60} acc {r['accuracy']:.3f}  "
                   f"macro-F1 {r['macro_f1']:.3f}")
    for name, res in art.metadata["metrics"].get("phrasebank_evaluation_only", {}).items():
        for r in res["rows"]:
            typer.echo(f"  FPB {name:<8} {r['title']:<55} acc {r['accuracy']:.3f}  "
                       f"macro-F1 {r['macro_f1']:.3f}")
