"""Issue 18, resource limits, through the real sidebar uploader (AppTest): an uploaded CSV is
parsed once per session (not on every rerun), only the last upload's bars are kept, in the
session (no cache shared by every session), and a session past its upload budget is refused
with the limit in the message before the file is read."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui.data
from core.data import load_csv

CSV = (b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,9\n"
       b"2020-01-03,1.5,2,1,1.8,12\n")
OTHER = CSV + b"2020-01-06,1.8,2.2,1.6,2.0,11\n"


def script(budget_bytes=None):
    import streamlit as st

    from core.data.uploads import SessionUploads, UploadBudget
    from ui.sidebar import draw_sidebar, market_data

    if budget_bytes is not None:
        st.session_state.setdefault("_qd_uploads",
                                    SessionUploads(UploadBudget(budget_bytes=budget_bytes)))
    md = market_data(draw_sidebar())
    if md is not None:
        st.success(f"{len(md.frame)} bars")


@pytest.fixture
def parses(monkeypatch):
    """Counts the CSV parses behind the sidebar."""
    calls = []

    def counting(data, symbol="CSV", **kw):
        calls.append(len(data))
        return load_csv(data, symbol, **kw)

    monkeypatch.setattr(ui.data, "load_csv", counting)
    return calls


def upload_page(budget_bytes=None) -> AppTest:
    at = AppTest.from_function(script, kwargs={"budget_bytes": budget_bytes},
                               default_timeout=60)
    at.query_params["symbol"] = "CSV"
    return at.run()


def test_an_upload_is_parsed_once_and_only_the_last_is_kept(parses):
    at = upload_page()
    assert not at.exception and next(i.value for i in at.info).startswith("Upload a CSV")
    at.file_uploader(key="sb_upload").set_value(("mine.csv", CSV, "text/csv")).run()
    assert not at.exception and [s.value for s in at.success] == ["2 bars"]
    at.run()
    at.run()  # reruns (widget changes, the Overview's 30 s refresh) reuse the parsed bars
    assert [s.value for s in at.success] == ["2 bars"] and parses == [len(CSV)]
    at.file_uploader(key="sb_upload").set_value(("other.csv", OTHER, "text/csv")).run()
    assert [s.value for s in at.success] == ["3 bars"] and parses == [len(CSV), len(OTHER)]
    uploads = at.session_state["_qd_uploads"]
    assert uploads.budget.used_bytes == len(CSV) + len(OTHER)
    assert len(uploads._result.frame) == 3  # the last upload's bars only, no bytes kept
    assert not hasattr(ui.data, "cached_csv")  # no cross-session cache of uploads


def test_a_session_past_its_budget_is_refused_before_parsing(parses):
    at = upload_page(budget_bytes=len(CSV) + 10)
    at.file_uploader(key="sb_upload").set_value(("mine.csv", CSV, "text/csv")).run()
    assert [s.value for s in at.success] == ["2 bars"]
    at.file_uploader(key="sb_upload").set_value(("other.csv", OTHER, "text/csv")).run()
    assert not at.exception and not at.success
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and f"upload budget of {len(CSV) + 10} bytes" in errors[0], errors
    assert "Reload the page" in errors[0]
    assert parses == [len(CSV)]  # the refused file was never parsed


def test_a_bad_upload_shows_its_error_on_every_rerun_without_reparsing(parses):
    at = upload_page()
    bad = b"Date,Open,[x](https://evil.example),Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,9\n"
    at.file_uploader(key="sb_upload").set_value(("![a](http://HOST/f).csv", bad,
                                                 "text/csv")).run()
    first = [e.value for e in at.error]
    at.run()
    assert [e.value for e in at.error] == first and len(parses) == 1
    assert "Unrecognised column" in first[0] and "\\[x\\]\\(https" in first[0]  # literal
