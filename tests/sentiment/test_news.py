import pandas as pd
import pytest

from core.errors import DataSourceError, DataValidationError
from core.news import fetch_rss, fetch_yahoo_news, get_news, parse_news_csv, parse_pasted


def test_news_csv_with_optional_columns():
    df = parse_news_csv(b"Date,Title,Symbol\n2024-05-02 10:00,Apple beats,aapl\n"
                        b"2024-05-03,Apple slips,\n,,\n")
    assert list(df.columns) == ["published_at", "headline", "symbol", "source", "url"]
    assert df["headline"].tolist() == ["Apple slips", "Apple beats"]  # newest first
    assert df["symbol"].tolist() == ["", "AAPL"]
    assert str(df["published_at"].dt.tz) == "UTC"


def test_news_csv_errors():
    with pytest.raises(DataValidationError, match="published_at"):
        parse_news_csv(b"headline\nfoo\n")
    with pytest.raises(DataValidationError, match="no non-empty headline"):
        parse_news_csv(b"published_at,headline\n2024-01-01,\n")


def test_pasted_lines_with_and_without_time():
    now = pd.Timestamp("2024-05-03 12:00", tz="UTC")
    df = parse_pasted("2024-05-01 09:30 | Fed holds rates\n\nChipmaker jumps | on AI demand\n",
                      "NVDA", now)
    by = dict(zip(df["headline"], df["published_at"]))
    assert by["Fed holds rates"] == pd.Timestamp("2024-05-01 09:30", tz="UTC")
    assert by["Chipmaker jumps | on AI demand"] == now
    assert set(df["symbol"]) == {"NVDA"} and set(df["source"]) == {"pasted"}
    with pytest.raises(DataValidationError):
        parse_pasted("  \n ")


def test_offline_sources_fail_fast_and_get_news_never_invents():
    with pytest.raises(DataSourceError, match="Offline"):
        fetch_yahoo_news("AAPL")
    with pytest.raises(DataSourceError, match="Offline"):
        fetch_rss("https://example.com/feed.xml")
    news, notes = get_news("AAPL", ["https://example.com/feed.xml"])
    assert news.empty and len(notes) == 2
