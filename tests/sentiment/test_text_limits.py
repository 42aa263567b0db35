"""Issue 18, resource limits: every entry that scores text cuts a headline at the page's
1,000 characters and says so; more than 1,000 headlines per call are refused with the limit
in the message, before any model loads."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from core.cli import app
from core.errors import DataValidationError
from core.news.frame import MAX_HEADLINE_CHARS, MAX_HEADLINES
from core.sentiment import scorers as scorers_mod
from core.sentiment.scorers import clean_texts, score_texts

runner = CliRunner()
HUGE = "Shares soar after record profit " * 32_000  # ~1 MB: minutes for VADER uncut


def test_limits_are_one_constant_shared_with_the_page():
    assert MAX_HEADLINE_CHARS == 1000 and scorers_mod.MAX_TEXTS == MAX_HEADLINES == 1000


def test_clean_texts_cuts_at_the_page_limit_and_counts():
    assert len(clean_texts(["x" * 5000])[0]) == MAX_HEADLINE_CHARS
    with pytest.raises(DataValidationError, match="at most 1,000"):
        clean_texts(["a"] * (MAX_HEADLINES + 1))


def test_cli_scores_a_megabyte_headline_quickly_and_says_it_was_cut():
    t0 = time.perf_counter()
    res = runner.invoke(app, ["sentiment", "score", HUGE, "--json", "--no-finbert"])
    assert res.exit_code == 0, res.output[-500:]
    assert time.perf_counter() - t0 < 60
    assert "cut to 1,000" in res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert len(out["results"][0]["text"]) <= MAX_HEADLINE_CHARS
    assert any("1,000 characters" in n for n in out["notes"])


def test_cli_refuses_too_many_headlines_with_the_limit(tmp_path, monkeypatch):
    def no_load(**_):  # the count is refused before any model loads
        raise AssertionError("scorers loaded")

    monkeypatch.setattr("core.sentiment.commands.load_scorers", no_load)
    p = tmp_path / "many.csv"
    p.write_text("headline\n" + "\n".join(f"headline {i}" for i in range(1001)))
    res = runner.invoke(app, ["sentiment", "score", "--csv", str(p), "--no-finbert"])
    assert res.exit_code == 2 and "at most 1,000" in res.output, res.output


def test_score_texts_notes_the_cut():
    df = score_texts(["Profit rose " * 200, "Loss widened"],
                     scorers_mod.load_scorers(finbert=False, finbert_download=False))
    assert len(df["text"].iloc[0]) <= MAX_HEADLINE_CHARS
    assert df.attrs["notes"] and "1 headline(s)" in df.attrs["notes"][0]


def test_api_refuses_text_over_the_same_limit():
    from pydantic import ValidationError

    from core.api.schemas import TextsInput

    TextsInput(texts=["x" * MAX_HEADLINE_CHARS])
    with pytest.raises(ValidationError, match="1000"):
        TextsInput(texts=["x" * (MAX_HEADLINE_CHARS + 1)])
