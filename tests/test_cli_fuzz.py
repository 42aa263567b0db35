"""Issue 18: property-based fuzzing of the CLI commands that take user input. Random and
hostile symbols, dates, numbers, texts and CSV files (garbage bytes, or a real-looking bar
file with absurd values spliced in) end in exit status 0, or 2 with a plain ``error:`` /
usage message: never a traceback. Bounded (few examples, no deadline, derandomized) so the
file runs in well under a minute on two cores."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()
#: no shrinking: a failure is reported as generated, in seconds rather than minutes
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, print_blob=True,
                phases=(Phase.explicit, Phase.reuse, Phase.generate),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

#: what a hostile user types: markdown/HTML/formula injection, path tricks, number edge
#: cases, control characters, very long input
HOSTILE = ["[Session expired](https://evil.example/login)", "![x](http://HOST/track)",
           "=CMD|' /C CALC'!A0", "+HYPERLINK(\"x\")", "@SUM(1+1)", "<script>alert(1)</script>",
           "../../etc/passwd", "", " ", "\t", "\x00", "\x1b[31m", "nan", "NaN", "inf", "-inf",
           "1e309", "-1e309", "1e308", "1e-320", "-0", "0", "-1", "1" * 400, "0x10", "1_000",
           "😀", "\u202e", "%s%n", "{0}", "$(id)", "`id`", "NUL\x00byte", "a" * 5000,
           "2020-02-30", "99999-01-01", "0001-01-01", "2262-04-12", "1677-09-21", "today",
           "2020-01-01T25:00", "2013-03-01", "MSFT", "^GSPC", "msft", "BTC-USD", "CON", "."]

text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
#: a string that click must turn into a number, or refuse
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "1e-320", "-0", "", "abc", "1,5", "0x1"]))
date_text = st.one_of(st.dates().map(str), st.sampled_from(HOSTILE), st.text(max_size=25))


def _bars(n: int, seed: int) -> pd.DataFrame:
    """A SYNTHETIC random-walk OHLCV frame (tests only)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    spread = np.exp(np.abs(rng.normal(0, 0.004, n)))
    return pd.DataFrame({"Date": pd.bdate_range("2010-01-01", periods=n).strftime("%Y-%m-%d"),
                         "Open": close, "High": close * spread, "Low": close / spread,
                         "Close": close, "Volume": rng.integers(1_000, 9_000, n).astype(float)})


ABSURD = [0.0, -1.0, 1e308, 1e-300, 5e-324, float("nan"), float("inf"), float("-inf"), 1e12,
          "", "x", "=1+1", "[a](http://h)", "1e309"]


@st.composite
def bar_csv(draw) -> bytes:
    """CSV bytes: garbage (1 in 8), else bars, mostly long enough for the models, some with
    absurd or hostile cells, shuffled rows or a mangled header."""
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(st.one_of(st.binary(max_size=300),
                              st.text(max_size=300).map(lambda s: s.encode("utf-8", "replace"))))
    n = 320 if kind >= 3 else draw(st.sampled_from([0, 1, 2, 30, 80]))
    frame = _bars(n, draw(st.integers(0, 3))).astype(object)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        if len(frame):
            row = draw(st.sampled_from([len(frame) - 1, 0, draw(st.integers(0, len(frame) - 1))]))
            col = draw(st.sampled_from(["Close", "Open", "High", "Low", "Volume", "Date"]))
            frame.iat[row, frame.columns.get_loc(col)] = draw(st.sampled_from(ABSURD + HOSTILE[:8]))
    if draw(st.integers(0, 5)) == 0:
        frame = frame.sample(frac=1.0, random_state=0)
    header = draw(st.sampled_from([None, None, None, ["date", "open", "high", "low", "close",
                                                      "volume"],
                                   ["Date", "Open", "[x](https://e.x)", "Low", "Close", "Volume"],
                                   ["Date", "Open", "High", "Low", "Close", "Close"]]))
    if header is not None:
        frame.columns = header
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _write(tmp_path: Path, data: bytes, name: str = "bars.csv") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def plain(r) -> None:
    """Exit 0, or 2 with a plain message; never a traceback or an unhandled exception."""
    out = r.output
    assert r.exit_code in (0, 2), (r.exit_code, repr(r.exception), out[-1500:])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in out, out[-1500:]
    if r.exit_code == 2:
        assert "error:" in out or "Usage:" in out or "Error" in out, out[-1500:]


def finite_json(out: str) -> None:
    """JSON output parses and holds no NaN/inf (emit_json writes them as null)."""
    start = min((i for i in (out.find("{"), out.find("[")) if i >= 0), default=-1)
    if start < 0:
        return
    def no_nan(tok):
        raise AssertionError(f"non-finite {tok} in JSON output")
    json.loads(out[start:], parse_constant=no_nan)


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory) -> str:
    """A clean 320-bar file for commands whose other inputs are fuzzed."""
    return _write(tmp_path_factory.mktemp("bars"), _bars(320, 7).to_csv(index=False).encode())


@FUZZ
@given(symbol=text, start=st.none() | date_text, end=st.none() | date_text,
       interval=st.sampled_from(["1d", "1h", "1wk", "7m", "", "[x](y)"]),
       tail=st.sampled_from(["10", "0", "-5", "1e9", "abc", str(10**20)]))
def test_data_show(symbol, start, end, interval, tail):
    args = ["data", "show", symbol, "--interval", interval, "--tail", tail]
    args += ["--start", start] if start is not None else []
    args += ["--end", end] if end is not None else []
    plain(runner.invoke(app, args))


@FUZZ
@given(data=bar_csv(), start=st.none() | date_text, as_json=st.booleans())
def test_data_show_csv(tmp_path, data, start, as_json):
    args = ["data", "show", "FUZZ", "--csv", _write(tmp_path, data)]
    args += ["--start", start] if start is not None else []
    r = runner.invoke(app, args + (["--json"] if as_json else []))
    plain(r)
    if as_json and r.exit_code == 0:
        finite_json(r.output)


@settings(FUZZ, max_examples=12)
@given(data=bar_csv(), as_of=st.none() | date_text)
def test_predict_forecast_csv(tmp_path, data, as_of):
    args = ["predict", "forecast", "--json", "--csv", _write(tmp_path, data)]
    r = runner.invoke(app, args + (["--as-of", as_of] if as_of is not None else []))
    plain(r)
    if r.exit_code == 0:
        for p in json.loads(r.output):
            v, lo, hi = p["value"], p.get("lower"), p.get("upper")
            assert v is not None and math.isfinite(v), p
            if lo is not None and hi is not None:
                assert lo <= v <= hi, p


@settings(FUZZ, max_examples=10)
@given(data=bar_csv())
def test_predict_volatility_and_patterns_csv(tmp_path, data):
    path = _write(tmp_path, data)
    plain(runner.invoke(app, ["predict", "volatility", "--csv", path]))
    plain(runner.invoke(app, ["patterns", "--csv", path, "--tail", "20"]))


@FUZZ
@given(equity=number_text, risk_pct=number_text, entry=st.none() | number_text,
       horizon=st.sampled_from(["10", "0", "-1", "1000", "10000", "1e3", "x"]),
       extra=st.lists(st.sampled_from([
           ["--direction", "short"], ["--direction", "sideways"], ["--stop-method", "volatility"],
           ["--stop-method", "[x](y)"], ["--atr-multiple", "0"], ["--atr-multiple", "-1"],
           ["--r-multiple", "inf"], ["--target-vol", "nan"], ["--max-leverage", "1e300"],
           ["--win-prob", "1.5"], ["--win-prob", "-0.1"], ["--payoff", "0"], ["--cash", "-5"],
           ["--json"]]), max_size=3))
def test_size(good_csv, equity, risk_pct, entry, horizon, extra):
    args = ["size", "--symbol", "FUZZ", "--csv", good_csv, "--equity", equity,
            "--risk-pct", risk_pct, "--horizon", horizon]
    args += ["--entry", entry] if entry is not None else []
    for opt in extra:
        args += opt
    r = runner.invoke(app, args)
    plain(r)
    if r.exit_code == 0 and "--json" in args:
        finite_json(r.output)


@settings(FUZZ, max_examples=10)
@given(symbol=text, data=bar_csv())
def test_size_with_a_fuzzed_symbol_or_csv(tmp_path, symbol, data):
    plain(runner.invoke(app, ["size", "--symbol", symbol, "--equity", "10000",
                              "--risk-pct", "1"]))
    plain(runner.invoke(app, ["size", "--symbol", "FUZZ", "--csv", _write(tmp_path, data),
                              "--equity", "10000", "--risk-pct", "1", "--json"]))


@settings(FUZZ, max_examples=10)  # each run loads the scorers (about 1 s)
@given(texts=st.lists(text, min_size=0, max_size=4), as_json=st.booleans())
def test_sentiment_score(texts, as_json):
    args = ["sentiment", "score", "--no-finbert"] + (["--json"] if as_json else [])
    r = runner.invoke(app, args + ["--"] + texts)
    plain(r)
    if as_json and r.exit_code == 0:
        finite_json(r.output)


@settings(FUZZ, max_examples=10)
@given(data=st.one_of(st.binary(max_size=200), st.lists(
    st.tuples(date_text, text), max_size=5).map(
        lambda rows: ("published_at,headline\n" + "".join(
            f"\"{d.replace(chr(34), '')}\",\"{h.replace(chr(34), '')}\"\n" for d, h in rows)
        ).encode("utf-8", "replace"))),
       symbol=text, half_life=number_text, as_of=st.none() | st.dates().map(str))
def test_sentiment_symbol_news_csv(tmp_path, data, symbol, half_life, as_of):
    """--as-of is drawn from real dates here: a bad one is the known failure below."""
    args = ["sentiment", "symbol", "--news-csv", _write(tmp_path, data, "news.csv"),
            "--half-life", half_life]
    args += ["--as-of", as_of] if as_of is not None else []
    plain(runner.invoke(app, args + ["--", symbol]))


@settings(FUZZ, max_examples=5)
@given(texts=st.lists(text, max_size=3))
def test_sentiment_score_csv(tmp_path, texts):
    frame = pd.DataFrame({"headline": texts})
    plain(runner.invoke(app, ["sentiment", "score", "--no-finbert", "--csv",
                              _write(tmp_path, frame.to_csv(index=False).encode(), "h.csv")]))


def test_a_path_with_a_nul_byte_a_directory_or_a_missing_file_is_refused_plainly(tmp_path):
    for path in ["bad\x00name.csv", str(tmp_path / "missing.csv"), str(tmp_path), os.devnull]:
        for args in (["data", "show", "X", "--csv", path],
                     ["predict", "forecast", "--csv", path],
                     ["sentiment", "symbol", "X", "--news-csv", path]):
            plain(runner.invoke(app, args))
    for path in ["bad\x00name.csv", str(tmp_path / "missing.csv"), os.devnull]:
        plain(runner.invoke(app, ["sentiment", "score", "--no-finbert", "--csv", path]))


# Found by the fuzzers above (fixed in core/sentiment/commands.py).
def test_sentiment_score_csv_directory(tmp_path):
    plain(runner.invoke(app, ["sentiment", "score", "--no-finbert", "--csv", str(tmp_path)]))


@pytest.mark.parametrize("as_of", ["<script>alert(1)</script>", "notadate", "99999-01-01"])
def test_sentiment_symbol_bad_as_of(tmp_path, as_of):
    news = _write(tmp_path, b"published_at,headline\n2024-01-02,Apple beats\n", "news.csv")
    plain(runner.invoke(app, ["sentiment", "symbol", "AAPL", "--news-csv", news,
                              "--as-of", as_of]))
