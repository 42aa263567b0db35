"""Labelled sentiment data: Financial PhraseBank files and ``text,label`` CSVs.

Financial PhraseBank (Malo et al. 2014, CC BY-NC-SA 3.0) is used for *evaluation only*:
nothing in Quantdesk fits weights, thresholds or heads on it. Files are latin-1 with CRLF
line endings and one ``sentence@label`` per line (the label after the *last* ``@``).

A labelled CSV has a header with ``text`` (or ``headline``/``sentence``) and ``label``
columns; labels are names (negative/neutral/positive, bearish/bullish), -1/0/1, or the
Twitter Financial News Sentiment codes 0 Bearish / 1 Bullish / 2 Neutral.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError
from core.sentiment.labels import LABELS, normalise_label

TEXT_COLUMNS = ("text", "headline", "sentence", "title")


@dataclass
class LabelledText:
    """Texts with gold labels.

    Attributes:
        frame: DataFrame with ``text`` (str) and ``label`` (one of ``LABELS``), shape (n, 2).
        name: short dataset name (file stem). kind: ``phrasebank`` or ``csv``.
        notes: what was dropped or assumed while reading.
    """

    frame: pd.DataFrame
    name: str
    kind: str
    notes: list[str]

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    @property
    def labels(self) -> list[str]:
        return self.frame["label"].tolist()


def _read_bytes(src: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(src, (bytes, bytearray)):
        return bytes(src), "upload"
    path = Path(src)
    try:
        return path.read_bytes(), path.stem
    except FileNotFoundError:
        raise DataValidationError(f"No such file: {path}. Give the path of a PhraseBank "
                                  "Sentences_*.txt file or a text,label CSV.") from None
    except IsADirectoryError:
        raise DataValidationError(f"{path} is a folder; give one file.") from None


def parse_phrasebank(src: str | Path | bytes, name: str | None = None) -> LabelledText:
    """Read a Financial PhraseBank ``Sentences_*.txt`` file (latin-1, ``sentence@label``).

    Splits on ``\\r\\n`` (not ``splitlines``, which would also split on U+0085) and on the last
    ``@``. Duplicates are kept (the published numbers count them).

    Raises:
        DataValidationError: no line has a valid ``@label`` ending.
    """
    data, stem = _read_bytes(src)
    text = data.decode("latin-1")
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    rows, bad = [], 0
    for ln in lines:
        sentence, sep, label = ln.rpartition("@")
        try:
            if not sep or not sentence.strip():
                raise DataValidationError("no label")
            rows.append((sentence.strip(), normalise_label(label)))
        except DataValidationError:
            bad += 1
    if not rows:
        raise DataValidationError("No 'sentence@label' lines found; is this a Financial "
                                  "PhraseBank Sentences_*.txt file (latin-1)?")
    notes = [f"skipped {bad} malformed lines"] if bad else []
    return LabelledText(pd.DataFrame(rows, columns=["text", "label"]), name or stem,
                        "phrasebank", notes)


def parse_labelled_csv(src: str | Path | bytes, name: str | None = None,
                       label_scheme: str = "auto") -> LabelledText:
    """Read a ``text,label`` CSV (UTF-8).

    Args:
        label_scheme: ``auto`` (names as given; integers: 0/1/2 Twitter codes when a 2 occurs,
            else -1/0/1), ``twitter`` (0 Bearish, 1 Bullish, 2 Neutral) or ``signed`` (-1/0/1).
    Raises:
        DataValidationError: unreadable CSV, missing columns, unknown labels, no rows.
    """
    data, stem = _read_bytes(src)
    try:
        df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataValidationError(f"Could not read the CSV ({err}). Expected UTF-8 with a "
                                  "header row 'text,label'.") from None
    cols = {c.lower().strip(): c for c in df.columns}
    text_col = next((cols[c] for c in TEXT_COLUMNS if c in cols), None)
    if text_col is None or "label" not in cols:
        raise DataValidationError(f"The CSV needs columns 'text' and 'label'; it has "
                                  f"{list(df.columns)}.")
    df = df[[text_col, cols["label"]]].set_axis(["text", "label"], axis=1)
    before = len(df)
    df = df.dropna()
    df["text"] = df["text"].astype(str).str.strip()
    df = df[df["text"] != ""]
    notes = [f"dropped {before - len(df)} rows with an empty text or label"] if len(df) < before \
        else []
    if df.empty:
        raise DataValidationError("The CSV has no rows with both a text and a label.")
    raw = df["label"]
    numeric = pd.to_numeric(raw, errors="coerce")
    if label_scheme == "auto":
        label_scheme = ("twitter" if numeric.notna().all() and (numeric == 2).any() else "signed")
        if numeric.notna().all():
            notes.append(f"integer labels read as {label_scheme} codes")
    if label_scheme not in ("twitter", "signed"):
        raise DataValidationError("label_scheme must be auto, twitter or signed.")
    twitter = label_scheme == "twitter"
    df["label"] = [normalise_label(v, twitter_codes=twitter) for v in raw]
    return LabelledText(df.reset_index(drop=True), name or stem, "csv", notes)


def load_dataset(src: str | Path | bytes, name: str | None = None) -> LabelledText:
    """PhraseBank ``.txt`` or labelled ``.csv`` by file suffix (bytes: sniffed: a first line
    with ``@`` and no comma-separated ``label`` header is PhraseBank)."""
    if isinstance(src, (bytes, bytearray)):
        head = bytes(src[:2000]).decode("latin-1").split("\n", 1)[0].lower()
        is_fpb = "@" in head and "label" not in head
    else:
        is_fpb = Path(src).suffix.lower() == ".txt"
    return parse_phrasebank(src, name) if is_fpb else parse_labelled_csv(src, name)


def class_counts(labels) -> dict[str, int]:
    """Count of each label in ``LABELS`` order."""
    s = pd.Series(list(labels))
    return {lab: int((s == lab).sum()) for lab in LABELS}
