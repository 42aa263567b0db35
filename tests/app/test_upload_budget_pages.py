"""Issue 18, resource limits, for the other uploads: the Sentiment page's news CSV and the
Risk Sizing page's portfolio CSV count against the same per-session budget as the sidebar's
bars (50 MB a file, 200 MB a session), are refused with the limit in the message before they
are read or parsed, and are parsed once per session (not on every rerun)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.news
import core.risk.portfolio
from core.data.uploads import SessionUploads, UploadBudget

ROOT = Path(__file__).resolve().parents[2]
NEWS = b"published_at,headline\n2013-02-01,Shares rise on record profit\n"
OTHER_NEWS = NEWS + b"2013-02-04,Company cuts its outlook\n"
PORTFOLIO = b"symbol,shares,entry\nMSFT,10,27.5\n"
OTHER_PORTFOLIO = PORTFOLIO + b"IBM,5,180\n"


@pytest.fixture
def calls(monkeypatch):
    """Counts the pages' parses of uploaded bytes (news CSV, portfolio CSV)."""
    seen = {"news": [], "portfolio": []}
    news, holdings = core.news.parse_news_csv, core.risk.portfolio.parse_holdings

    def count_news(data, symbol=""):
        seen["news"].append(len(data))
        return news(data, symbol)

    def count_holdings(data):
        if isinstance(data, (bytes, bytearray)):  # the editor's frame is parsed every run
            seen["portfolio"].append(len(data))
        return holdings(data)

    monkeypatch.setattr(core.news, "parse_news_csv", count_news)
    monkeypatch.setattr(core.risk.portfolio, "parse_holdings", count_holdings)
    return seen


@pytest.fixture
def no_scorers(monkeypatch):
    """The sentiment models are not needed to read an upload (and are slow to load)."""
    import ui.sentiment
    from core.errors import QuantdeskError

    def missing(allow_download=False):
        raise QuantdeskError("not loaded in this test")

    monkeypatch.setattr(ui.sentiment, "scorers", missing)


def page(name: str, budget_bytes: int | None = None, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / name), default_timeout=240)
    if tab is not None:  # a lazily drawn tab (ui.widgets.lazy_tabs), opened
        at.query_params["tab"] = tab
    if budget_bytes is not None:
        at.session_state["_qd_uploads"] = SessionUploads(UploadBudget(budget_bytes=budget_bytes))
    at.session_state["sent_sources"] = True  # the Sentiment page's News sources box, opened
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error if "not loaded in this test" not in e.value]


def test_news_csv_is_parsed_once_per_session(calls, no_scorers):
    at = page("sentiment.py")
    at.file_uploader(key="sent_upload").set_value(("news.csv", NEWS, "text/csv")).run()
    at.run()
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert calls["news"] == [len(NEWS)]  # reruns reuse the parsed headlines
    kept = at.session_state["_qd_uploads_news"]
    assert kept.budget is at.session_state["_qd_uploads"].budget  # one budget per session
    assert kept.budget.used_bytes == len(NEWS) and len(kept._result) == 1


def test_news_csv_past_the_session_budget_is_refused_before_parsing(calls, no_scorers):
    at = page("sentiment.py", budget_bytes=len(NEWS) + 10)
    at.file_uploader(key="sent_upload").set_value(("news.csv", NEWS, "text/csv")).run()
    assert not errors(at)
    at.file_uploader(key="sent_upload").set_value(("more.csv", OTHER_NEWS, "text/csv")).run()
    errs = errors(at)
    assert len(errs) == 1 and "Could not read your headlines" in errs[0], errs
    assert f"upload budget of {len(NEWS) + 10} bytes" in errs[0], errs
    assert calls["news"] == [len(NEWS)]  # the refused file was never parsed


def test_news_csv_over_the_file_limit_is_refused(calls, no_scorers):
    at = page("sentiment.py")
    at.session_state["_qd_uploads"] = SessionUploads(UploadBudget(max_file_bytes=20))
    at.file_uploader(key="sent_upload").set_value(("news.csv", NEWS, "text/csv")).run()
    errs = errors(at)
    assert len(errs) == 1 and "one upload may be at most 20 bytes" in errs[0], errs
    assert calls["news"] == []


def test_portfolio_csv_is_parsed_once_and_shares_the_budget(calls):
    at = page("risk_sizing.py", tab="portfolio")
    at.file_uploader(key="risk_port_upload").set_value(("p.csv", PORTFOLIO, "text/csv")).run()
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert calls["portfolio"] == [len(PORTFOLIO)]
    assert list(at.session_state["risk_holdings"]["symbol"]) == ["MSFT"]
    kept = at.session_state["_qd_uploads_portfolio"]
    assert kept.budget is at.session_state["_qd_uploads"].budget
    assert kept.budget.used_bytes == len(PORTFOLIO)


def test_portfolio_csv_past_the_session_budget_is_refused_before_parsing(calls):
    at = page("risk_sizing.py", budget_bytes=len(PORTFOLIO) + 5, tab="portfolio")
    at.file_uploader(key="risk_port_upload").set_value(("p.csv", PORTFOLIO, "text/csv")).run()
    at.file_uploader(key="risk_port_upload").set_value(("q.csv", OTHER_PORTFOLIO,
                                                        "text/csv")).run()
    errs = errors(at)
    assert any(f"upload budget of {len(PORTFOLIO) + 5} bytes" in e for e in errs), errs
    assert calls["portfolio"] == [len(PORTFOLIO)]
    assert list(at.session_state["risk_holdings"]["symbol"]) == ["MSFT"]  # kept the first
