"""The latest cached scan of a universe, shown by a page opened by URL
(``/screener?universe=NAME``) without loading bars or scoring; the SYNTHETIC universe is
offered on the page only when QUANTDESK_SYNTHETIC_UNIVERSE asks for it, and is labelled so."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.screener import synthetic
from core.screener.scan import latest_scan, scan

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _page(**params) -> AppTest:
    """The Screener page of app.py, opened with ``params`` in its URL."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    return at.switch_page("views/screener.py").run()


def test_latest_scan_round_trip_and_version_check():
    uni = synthetic.universe(3)
    assert latest_scan(uni, "1d") is None
    first = scan(uni, "1d", engine="serial")
    assert not first.cached and first.scanned_at and first.notes == [synthetic.NOTE]
    assert set(first.rows["source"]) == {synthetic.SOURCE}
    got = latest_scan(uni, "1d")
    assert got is not None and got.cached and got.scanned_at == first.scanned_at
    assert list(got.rows["symbol"]) == list(first.rows["symbol"]) == list(uni.symbols)
    assert list(got.rows["signal"]) == list(first.rows["signal"])
    assert got.notes == [synthetic.NOTE]
    again = scan(uni, "1d")  # a cache hit keeps the time the rows were scored
    assert again.cached and again.scanned_at == first.scanned_at
    assert latest_scan(uni, "1wk") is None  # another interval
    assert latest_scan(synthetic.universe(2), "1d") is None  # other symbols
    changed = {**first.versions, "forecast": "another-version"}
    assert latest_scan(uni, "1d", versions=changed) is None  # other models serve now


def test_synthetic_universe_is_offered_only_when_asked(monkeypatch):
    monkeypatch.delenv(synthetic.PAGE_ENV, raising=False)
    at = _page(universe="synthetic")
    assert not any("SYNTHETIC" in o for o in at.selectbox[0].options)
    assert any("press **Scan**" in i.value for i in at.info)
    monkeypatch.setenv(synthetic.PAGE_ENV, "3")
    at = _page()
    assert synthetic.universe(3).title in at.selectbox[0].options
    assert at.selectbox[0].value != synthetic.NAME  # never the default


def test_page_by_url_shows_the_latest_cached_scan(monkeypatch):
    monkeypatch.setenv(synthetic.PAGE_ENV, "3")
    at = _page(universe="synthetic", interval="1d")  # nothing cached yet: the hint
    assert not at.exception and any("press **Scan**" in i.value for i in at.info)
    scan(synthetic.universe(3), "1d", engine="serial")
    at = _page(universe="synthetic", interval="1d")
    assert not at.exception
    assert at.selectbox[0].value == synthetic.NAME
    captions = re.sub(r"\\(.)", r"\1", " | ".join(c.value for c in at.caption))  # unescaped
    assert "SYNTHETIC load test" in captions and "3 of 3 rows match" in captions
    assert "from the scan cache (scanned" in captions and "Not market data" in captions
    table = at.dataframe[0].value
    assert len(table) == 3 and table["Data"].eq("synthetic").all()


def test_filters_apply_and_persist_while_their_expander_is_closed(monkeypatch):
    """The filters expander draws its widgets only while open; the filter and sort typed
    there keep applying after it is closed, and are there again when it is reopened."""
    monkeypatch.setenv(synthetic.PAGE_ENV, "3")
    scan(synthetic.universe(3), "1d", engine="serial")
    at = _page(universe="synthetic")
    assert not [t for t in at.text_area if t.key == "scr_filters"]  # closed: not drawn
    at.session_state["scr_filters_open"] = True
    at.run()
    at.text_area(key="scr_filters").set_value("symbol = SYNTH-0002").run()
    assert len(at.dataframe[0].value) == 1
    at.session_state["scr_filters_open"] = False
    at.run()
    assert not [t for t in at.text_area if t.key == "scr_filters"]
    assert len(at.dataframe[0].value) == 1  # still filtered
    at.run()
    assert len(at.dataframe[0].value) == 1  # and on the next rerun, still closed
    assert not [t for t in at.text_area if t.key == "scr_filters"]
    at.session_state["scr_filters_open"] = True
    at.run()
    assert at.text_area(key="scr_filters").value == "symbol = SYNTH-0002"


def test_synthetic_universe_scans_daily_bars_only():
    import pytest

    from core.errors import DataValidationError

    with pytest.raises(DataValidationError, match="daily bars only"):
        scan(synthetic.universe(2), "1h", engine="serial")


def test_serving_versions_agrees_with_resolve_versions():
    """The store-only answer latest_scan compares with equals resolve_versions': on an empty
    store (it falls back), with active versions, and with a family disabled."""
    from core.families import FAMILIES
    from core.screener.scan import serving_versions
    from core.serving import DISABLED, resolve_versions
    from core.store import disable, session_scope, sync_models_dir

    assert serving_versions(FAMILIES) == resolve_versions(FAMILIES)
    with session_scope() as s:
        sync_models_dir(session=s)
    assert serving_versions(FAMILIES) == resolve_versions(FAMILIES)
    with session_scope() as s:
        disable("forecast", who="test", session=s)
    got = serving_versions(FAMILIES)
    assert got == resolve_versions(FAMILIES) and got["forecast"] == DISABLED


def test_a_cached_scan_reads_no_artifact_and_scoring_pins_the_verified_versions(monkeypatch):
    """A cache hit is found by the store's versions (no artifact read and hashed); scoring
    pins the verified versions, and where they differ from the store's (an artifact that
    fails its check) the rows are keyed and labelled with the verified ones."""
    import core.screener.scan as scan_mod
    from core.families import FAMILIES
    from core.serving import resolve_versions
    from core.store import session_scope, sync_models_dir

    with session_scope() as s:
        sync_models_dir(session=s)
    calls = []

    def counted(families):
        calls.append(1)
        return resolve_versions(families)

    monkeypatch.setattr(scan_mod, "resolve_versions", counted)
    uni = synthetic.universe(2)
    first = scan(uni, "1d", engine="serial")
    assert not first.cached and len(calls) == 1
    again = scan(uni, "1d", engine="serial")
    assert again.cached and len(calls) == 1     # the hit read no artifact
    assert again.versions == first.versions
    assert list(again.rows["signal"]) == list(first.rows["signal"])
    # a family's artifact fails its check: scoring (here a fresh scan) pins what verified
    fam = next(iter(FAMILIES))
    monkeypatch.setattr(scan_mod, "resolve_versions",
                        lambda families: {**resolve_versions(families), fam: None})
    broken = scan(uni, "1d", engine="serial", use_cache=False)
    assert not broken.cached and broken.versions[fam] is None
    assert broken.key != first.key
    # the rows that version scored before are still its rows (a version is immutable)
    kept = scan(uni, "1d", engine="serial")
    assert kept.cached and kept.key == first.key and kept.versions == first.versions
