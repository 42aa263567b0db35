"""Issue 18: every CSV export escapes what a spreadsheet would run as a formula, in one
helper (core.display.csv_export); numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from core.display import csv_cell, csv_export
from core.forecasting import report as forecast_report
from core.risk.portfolio import holdings_to_csv

HOSTILE = ["=CMD|' /C CALC'!A0", "+HYPERLINK(\"http://evil.example\")", "@SUM(1+1)", "-2+3",
           "\t=1", "\r=1"]


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_prefixed_with_a_quote(cell):
    assert csv_cell(cell) == "'" + cell
    assert csv_cell("MSFT") == "MSFT" and csv_cell(-1.5) == -1.5 and csv_cell(None) is None


def test_portfolio_export_escapes_imported_symbols():
    h = pd.DataFrame({"symbol": HOSTILE + ["AAPL"], "shares": [1.0] * 6 + [-3.0],
                      "entry": [10.0] * 7})
    out = rows(holdings_to_csv(h))
    assert out[0] == ["symbol", "shares", "entry"]
    for r in out[1:]:
        assert not r[0].startswith(("=", "+", "-", "@", "\t", "\r")), r
    assert out[-1] == ["AAPL", "-3.0", "10.0"]  # a negative number stays a number


def test_forecast_table_export_escapes_text_and_keeps_numbers():
    table = pd.DataFrame({"model": ["=1+1", "ensemble"], "Return [%]": [-1.25, 2.0],
                          "=bad header": ["@x", "ok"]})
    out = rows(forecast_report.table_csv(table))
    assert out[0] == ["model", "Return [%]", "'=bad header"]
    assert out[1] == ["'=1+1", "-1.25", "'@x"] and out[2] == ["ensemble", "2.0", "ok"]


def test_csv_export_keeps_dates_and_numbers():
    f = pd.DataFrame({"d": pd.to_datetime(["2020-01-02"]), "x": [-5], "s": ["-5"]})
    assert rows(csv_export(f))[1] == ["2020-01-02", "-5", "'-5"]


def test_sentiment_figures_escape_the_symbol():
    from core.plots.sentiment import gauge_figure

    fig = gauge_figure(0.1, '<a href="https://evil.example">X</a> news sentiment')
    assert "<a" not in fig.data[0].title.text and "&lt;a" in fig.data[0].title.text


def _page_with_html(body: str):
    """What ``tests.page_checks`` reads of an AppTest page: one ``st.html`` element."""
    proto = type("Proto", (), {"body": body})
    element = type("Element", (), {"proto": proto})
    return type("Page", (), {"get": staticmethod(
        lambda kind: [element] if kind == "html" else [])})


def test_html_table_formats_escapes_and_aligns():
    from core.display import html_table
    from tests.page_checks import html_tables

    frame = pd.DataFrame({"Model": ["forecast", "<img src=x onerror=alert(1)>&"],
                          "h [bars]": [1, 20], "Return": [0.12345, float("nan")],
                          "Skill": [True, None]})
    out = html_table(frame, precision=3)
    assert out.startswith('<table class="qd-table"><thead><tr><th>Model</th>'
                          '<th class="num">h [bars]</th><th class="num">Return</th>'
                          '<th>Skill</th></tr></thead>')
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;&amp;" in out
    assert '<tr><td>forecast</td><td class="num">1</td><td class="num">0.123</td>' \
           '<td>yes</td></tr>' in out
    assert out.count("<tr>") == 3  # the header and two rows; NaN and None show the placeholder
    assert '<td class="num">–</td><td>–</td></tr></tbody></table>' in out

    heads, bodies = html_tables(_page_with_html(out))
    assert heads == [["Model", "h [bars]", "Return", "Skill"]]
    assert bodies[0][1] == ["<img src=x onerror=alert(1)>&", "20", "–", "–"]
    idx = html_table(pd.DataFrame({"v": [1_234.5]}, index=pd.Index(["VaR"], name="")),
                     index=True, formats={"v": "{:.1f}"})
    assert '<tr><td>VaR</td><td class="num">1234.5</td></tr>' in idx


def test_metrics_html_escapes_every_part_and_reads_back():
    from core.display import Metric, metrics_html
    from tests.page_checks import metrics

    hostile = '<img src=x onerror=alert(1)>"&'
    out = metrics_html([Metric("Sharpe", "1.20", "buy & hold 0.80", help="After costs."),
                        Metric(f"h=1 · {hostile}", hostile, help=hostile),
                        Metric("Trades", "12")])
    assert out.startswith('<div class="qd-metrics"><div class="qd-metric" title="After costs.">')
    assert "<img" not in out and 'title="&lt;img src=x onerror=alert(1)&gt;&quot;&amp;"' in out
    assert out.count('<div class="qd-metric"') == 3 and out.count("qd-delta") == 1
    assert out.count('<span class="qd-help">?</span>') == 2  # only where there is help

    got = [(m.label, m.value, m.delta, m.help) for m in metrics(_page_with_html(out))]
    assert got == [("Sharpe", "1.20", "buy & hold 0.80", "After costs."),
                   (f"h=1 · {hostile}", hostile, "", hostile), ("Trades", "12", "", "")]


def test_bars_html_clips_widths_escapes_text_and_marks_strong_rows():
    from core.display import Bar, bars_html

    out = bars_html("CNN <b>confidence</b>", [Bar("hammer", 42.0, "42% · rule", True),
                                             Bar("<img src=x>", 130.0, "130%"),
                                             Bar("doji", float("nan"), "n/a"),
                                             Bar("harami", -5.0, "-5%")])
    assert "<img" not in out and "<b>" not in out and "CNN &lt;b&gt;confidence&lt;/b&gt;" in out
    assert out.count('<div class="qd-bar-row">') == 4
    widths = re.findall(r'class="(qd-bar(?: qd-strong)?)" style="width:([\d.]+)%"', out)
    assert widths == [("qd-bar qd-strong", "42.0"), ("qd-bar", "100.0"), ("qd-bar", "0.0"),
                      ("qd-bar", "0.0")]
    assert '<span class="qd-bar-text">42% · rule</span>' in out
