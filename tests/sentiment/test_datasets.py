import pytest

from core.errors import DataValidationError
from core.sentiment.datasets import load_dataset, parse_labelled_csv, parse_phrasebank
from core.sentiment.labels import label_from_score, normalise_label


def test_phrasebank_latin1_crlf_last_at():
    raw = ("Profit rose to EUR 5 mn .@positive\r\n"
           "Mail a@b.com for Sepp\xe4l\xe4 news .@neutral\r\n"
           "Sales fell .@negative\r\n\r\n").encode("latin-1")
    ds = parse_phrasebank(raw, "tiny")
    assert ds.labels == ["positive", "neutral", "negative"]
    assert ds.texts[1] == "Mail a@b.com for Sepp\xe4l\xe4 news ."
    assert ds.kind == "phrasebank"


def test_phrasebank_rejects_other_files():
    with pytest.raises(DataValidationError, match="sentence@label"):
        parse_phrasebank(b"just some text\r\nno labels here\r\n")


def test_csv_twitter_codes_and_names():
    ds = parse_labelled_csv(b"text,label\n$X cut at UBS,0\n$Y upgraded,1\n$Z files 10-Q,2\n")
    assert ds.labels == ["negative", "positive", "neutral"]
    ds = parse_labelled_csv(b"headline,label\nA,Positive\nB,bearish\nC,-1\nD,0\n")
    assert ds.labels == ["positive", "negative", "negative", "neutral"]


def test_csv_errors_are_clear(tmp_path):
    with pytest.raises(DataValidationError, match="columns 'text' and 'label'"):
        parse_labelled_csv(b"title_x,y\na,1\n")
    with pytest.raises(DataValidationError, match="Unknown sentiment label"):
        parse_labelled_csv(b"text,label\na,maybe\n")
    with pytest.raises(DataValidationError, match="No such file"):
        load_dataset(tmp_path / "missing.csv")


def test_load_dataset_dispatches_by_suffix(tmp_path):
    p = tmp_path / "Sentences_X.txt"
    p.write_bytes(b"Good .@positive\r\n")
    assert load_dataset(p).kind == "phrasebank"
    q = tmp_path / "x.csv"
    q.write_text("text,label\nGood,positive\n")
    assert load_dataset(q).kind == "csv"


def test_label_helpers():
    assert normalise_label(2, twitter_codes=True) == "neutral"
    assert normalise_label("1", twitter_codes=False) == "positive"
    assert list(label_from_score([-0.5, 0.01, 0.3], 0.05)) == ["negative", "neutral",
                                                               "positive"]
