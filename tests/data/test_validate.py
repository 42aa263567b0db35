import numpy as np
import pandas as pd
import pytest

from core.data import read_ohlcv_csv, validate_ohlcv
from core.errors import DataValidationError, InsufficientDataError

GOOD = """Date,Open,High,Low,Close,Adj Close,Volume
2024-01-02,10,11,9.5,10.5,10.5,1000
2024-01-03,10.5,11.2,10.1,11,11,1200
2024-01-04,11,11.5,10.8,11.2,11.2,900
"""


def csv(text: str):
    return read_ohlcv_csv(text.encode())


def test_good_csv_round_trip():
    rep = validate_ohlcv(csv(GOOD), "abc")
    f = rep.frame
    assert list(f.columns) == ["open", "high", "low", "close", "volume", "adj_close"]
    assert str(f.index.tz) == "UTC" and f.index.name == "timestamp"
    assert f.attrs["symbol"] == "ABC"
    assert rep.repairs == []
    assert f["close"].iloc[-1] == 11.2


@pytest.mark.parametrize("header", ["Datetime", "timestamp", "date", "TIME"])
def test_header_spellings(header):
    f = validate_ohlcv(csv(GOOD.replace("Date", header, 1)), "X").frame
    assert len(f) == 3


def test_unknown_column_named():
    with pytest.raises(DataValidationError, match="Unrecognised column.*Bogus"):
        csv(GOOD.replace("Volume", "Volume,Bogus").replace("1000\n", "1000,1\n"))


def test_missing_volume_column():
    text = "\n".join(",".join(line.split(",")[:-1]) for line in GOOD.strip().splitlines())
    with pytest.raises(DataValidationError, match="Volume"):
        csv(text)


def test_empty_input():
    with pytest.raises(DataValidationError, match="empty"):
        validate_ohlcv(csv("Date,Open,High,Low,Close,Volume\n"), "X")


def test_non_numeric_names_rows():
    bad = GOOD.replace("10.1,11,11,1200", "abc,11,11,1200")
    with pytest.raises(DataValidationError, match="'low'.*2024-01-03.*abc"):
        validate_ohlcv(csv(bad), "X")


def test_nan_price_dropped_and_reported():
    bad = GOOD.replace("10.1,11,11,1200", ",11,11,1200")
    rep = validate_ohlcv(csv(bad), "X")
    assert len(rep.frame) == 2
    assert any("NaN" in r and "2024-01-03" in r for r in rep.repairs)


def test_inf_price_dropped():
    frame = validate_ohlcv(csv(GOOD), "X").frame
    frame.iloc[1, 3] = np.inf
    rep = validate_ohlcv(frame, "X")
    assert len(rep.frame) == 2


def test_non_positive_price_rejected():
    with pytest.raises(DataValidationError, match="Non-positive.*2024-01-02"):
        validate_ohlcv(csv(GOOD.replace("10,11,9.5", "0,11,9.5")), "X")


def test_high_low_repaired():
    bad = GOOD.replace("10,11,9.5,10.5", "10,10.2,9.5,10.5")  # high < close
    rep = validate_ohlcv(csv(bad), "X")
    assert rep.frame["high"].iloc[0] == 10.5
    assert any("widened" in r for r in rep.repairs)
    with pytest.raises(DataValidationError):
        validate_ohlcv(csv(bad), "X", repair=False)


def test_low_above_body_repaired():
    bad = GOOD.replace("11,11.5,10.8,11.2", "11,11.5,11.1,11.2")  # low > open
    rep = validate_ohlcv(csv(bad), "X")
    assert rep.frame["low"].iloc[2] == 11.0


def test_negative_volume_rejected():
    with pytest.raises(DataValidationError, match="Negative volume"):
        validate_ohlcv(csv(GOOD.replace(",1200", ",-5")), "X")


def test_duplicates_and_unsorted_repaired():
    lines = GOOD.strip().splitlines()
    text = "\n".join([lines[0], lines[3], lines[1], lines[2], lines[2].replace("1200", "1300")])
    rep = validate_ohlcv(csv(text), "X")
    f = rep.frame
    assert f.index.is_monotonic_increasing and f.index.is_unique
    assert f.loc["2024-01-03", "volume"].item() == 1300  # kept the last duplicate
    assert any("sorted" in r for r in rep.repairs)
    assert any("duplicate" in r for r in rep.repairs)


def test_too_few_bars():
    with pytest.raises(InsufficientDataError, match="3 usable bar.*at least 50"):
        validate_ohlcv(csv(GOOD), "X", min_bars=50)


def test_bad_timestamp():
    with pytest.raises(DataValidationError, match="timestamp|dates"):
        validate_ohlcv(csv(GOOD.replace("2024-01-03", "not-a-date")), "X")


def test_unreadable_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DataValidationError):
        validate_ohlcv(read_ohlcv_csv(p), "X")


def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match="not found"):
        read_ohlcv_csv(tmp_path / "nope.csv")


def test_input_not_modified():
    raw = csv(GOOD.replace("10,11,9.5,10.5", "10,10.2,9.5,10.5"))
    before = raw.copy()
    validate_ohlcv(raw, "X")
    pd.testing.assert_frame_equal(raw, before)


def frame_of(text: str = GOOD) -> pd.DataFrame:
    return csv(text)


@pytest.mark.parametrize("defect, message", [
    (lambda f: f.iloc[[1, 0, 2]], "not in ascending order"),
    (lambda f: pd.concat([f, f.iloc[[1]]]).sort_index(kind="stable"), "Duplicate timestamps"),
    (lambda f: f.assign(close=[10.5, np.nan, 11.2]), "NaN or infinite prices at 2024-01-03"),
    (lambda f: f.assign(volume=[1000, np.nan, 900]), "1 bar(s) have NaN/inf volume"),
])
def test_strict_mode_rejects_what_it_would_repair(defect, message):
    with pytest.raises(DataValidationError) as err:
        validate_ohlcv(defect(frame_of()), "X", repair=False)
    assert message in str(err.value)


def test_nan_volume_set_to_zero_and_nan_adj_close_dropped():
    f = frame_of().assign(volume=[1000, np.nan, 900], adj_close=[10.5, np.nan, 11.2])
    rep = validate_ohlcv(f, "X")
    assert rep.frame["volume"].tolist() == [1000.0, 0.0, 900.0]
    assert "adj_close" not in rep.frame.columns
    assert rep.repairs == ["dropped adj_close (it had NaN/inf values)",
                           "set 1 missing volume value(s) to 0"]


def test_nullable_and_text_columns_become_float64():
    f = frame_of()
    f["volume"] = pd.array([1000, pd.NA, 900], dtype="Int64")
    f["open"] = ["10", "10.5", "11"]
    out = validate_ohlcv(f, "X").frame
    assert (out.dtypes == "float64").all()
    assert out["open"].tolist() == [10.0, 10.5, 11.0]
    assert out["volume"].tolist() == [1000.0, 0.0, 900.0]


def test_a_column_given_twice_is_named():
    f = frame_of()
    f = pd.concat([f, f[["close"]]], axis=1)
    with pytest.raises(DataValidationError, match="close appear more than once"):
        validate_ohlcv(f, "X")


def test_sorting_and_duplicates_keep_rows_aligned_and_attrs_kept():
    f = frame_of()
    f = pd.concat([f.iloc[[2, 0]], f.iloc[[1]], f.iloc[[0]].assign(volume=7.0)])
    f.attrs["source"] = "upload"
    rep = validate_ohlcv(f, "x")
    assert rep.frame.index.name == "timestamp"
    assert [str(d.date()) for d in rep.frame.index] == ["2024-01-02", "2024-01-03",
                                                        "2024-01-04"]
    assert rep.frame["close"].tolist() == [10.5, 11.0, 11.2]
    assert rep.frame["volume"].tolist() == [7.0, 1200.0, 900.0]  # the last duplicate kept
    assert rep.frame.attrs == {"source": "upload", "symbol": "X"}
