"""Issue 18, injection: user text (symbols from the URL, CSV headers, file names, portfolio
symbols, watchlist entries) is shown literally: no markdown link, image or HTML renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.display import literal

ROOT = Path(__file__).resolve().parents[2]
LINK = "[Session expired - click to sign in](https://evil.example/login)"
IMAGE = "![x](http://HOST/track)"
#: "](" whose "]" is not backslash-escaped: a markdown link or image would render
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(")
KINDS = ("error", "warning", "info", "success", "caption", "markdown", "title", "subheader",
         "header")


def shown(at: AppTest) -> list[str]:
    return [str(e.value) for kind in KINDS for e in getattr(at, kind)]


def assert_no_link(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    bad = [v for v in shown(at) if UNESCAPED_LINK.search(v) or "<http" in v.lower()]
    assert not bad, bad


@pytest.mark.parametrize("text", [LINK, IMAGE, "<b>x</b> *y* `z` :red[w] $1$ https://e.x",
                                  "# heading", "1. item", "- item", "www.evil.example"])
def test_literal_escapes_every_markdown_construct(text):
    out = literal(text)
    assert not UNESCAPED_LINK.search(out)
    # un-escaping gives the text back: every character is shown as typed
    assert re.sub(r"\\(.)", r"\1", out) == text
    for ch in "[]()<>*`:$":
        assert re.search(rf"(?<!\\){re.escape(ch)}", out) is None, (ch, out)
    assert not re.match(r"\s*(#|-|\d+\.)", out)  # no heading / list at the start
    assert "www." not in out and "https:" not in out  # no bare autolink


@pytest.mark.parametrize("symbol", [LINK, IMAGE])
def test_symbol_from_the_url_is_shown_literally(symbol):
    at = AppTest.from_file(str(ROOT / "views" / "volatility.py"), default_timeout=120)
    at.query_params["symbol"] = symbol
    at.run()
    assert_no_link(at)
    errors = " | ".join(e.value for e in at.error)
    assert literal(symbol.upper()) in errors, errors  # named, escaped


def test_csv_header_and_portfolio_symbols_are_shown_literally():
    def script():
        import pandas as pd
        import streamlit as st

        from core.display import literal
        from core.errors import QuantdeskError
        from core.risk.portfolio import parse_holdings
        from ui.sidebar import Selection, market_data

        market_data(Selection("CSV", "1d", None, None, csv_name="![a](http://HOST/f).csv",
                              csv_bytes=b"Date,Open,[x](https://evil.example),Low,Close,Volume\n"
                                        b"2020-01-02,1,2,0.5,1.5,9\n"))
        market_data(Selection("CSV", "1d", None, None, csv_name="rows.csv",
                              csv_bytes=b"Date,Open,High,Low,Close,Volume\n"
                                        b"2020-01-02,1,2,0.5,1.5,9\n"
                                        b"2020-01-03,1,2,0.5,![i](http://HOST/t),9\n"))
        try:  # what the Risk Sizing page does with an imported portfolio
            parse_holdings(pd.DataFrame({"symbol": ["[x](https://evil.example)"],
                                         "shares": [1.0], "entry": [1.0]}))
            st.info("accepted")
        except QuantdeskError as err:
            st.error(literal(err))

    at = AppTest.from_function(script, default_timeout=60).run()
    assert_no_link(at)
    errors = [e.value for e in at.error]
    assert len(errors) >= 2, errors
    assert literal("[x](https://evil.example)") in errors[0], errors[0]
