"""AppTest of the Sentiment page (offline: pasted headlines only)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, html_tables

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "sentiment.py")


def test_page_offline_says_so_then_scores_pasted_headlines():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert_page_ok(at)
    assert any("Offline mode" in i.value for i in at.info)
    # the sources' widgets are sent once their box has been opened (issue 15)
    assert not at.text_area and not at.file_uploader
    at.session_state["sent_sources"] = True  # the user opens News sources
    at.run()
    at.text_area(key="sent_paste").set_value(
        "2024-05-02 14:30 | Apple beats quarterly earnings estimates, shares jump\n"
        "Regulators sue Apple over app store fees").run()
    assert_page_ok(at)  # the committed head: no "default weights" warning
    frames = [d.value for d in at.dataframe]
    heads = next(f for f in frames if "headline" in f.columns)
    assert len(heads) == 2 and set(heads["label"]) <= {"negative", "neutral", "positive"}
    assert {"vader", "lm", "ensemble"} <= set(heads.columns)
    heads_, bodies = html_tables(at)  # the models table (ui.widgets.small_table)
    models = bodies[next(i for i, h in enumerate(heads_) if "detail / why unavailable" in h)]
    assert "FinBERT" in [row[0] for row in models]
    at.session_state["sent_sources"] = False  # closed again: what was pasted is kept
    at.run()
    assert at.text_area(key="sent_paste").value.startswith("2024-05-02 14:30 | Apple")
    assert len(next(d.value for d in at.dataframe if "headline" in d.value.columns)) == 2
