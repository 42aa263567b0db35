"""ui.figures.cached_figure: one figure per builder and arguments' content (issue 15)."""

import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools

from ui.figures import SentFigure, cached_figure

CALLS = []


def line(frame: pd.DataFrame, title: str = "") -> go.Figure:
    CALLS.append(title)
    return go.Figure(go.Scatter(x=frame.index, y=frame["close"]), layout={"title": title})


def frame(last: float) -> pd.DataFrame:
    return pd.DataFrame({"close": [1.0, 2.0, last]},
                        index=pd.date_range("2024-01-01", periods=3, tz="UTC"))


def with_lock(f: pd.DataFrame, _lock) -> go.Figure:
    """A builder given an argument Streamlit cannot hash (a lock)."""
    return line(f, "locked")


def test_same_content_reuses_the_figure_changed_content_builds_anew():
    CALLS.clear()
    a = cached_figure(line, frame(3.0), title="A")
    assert cached_figure(line, frame(3.0), title="A") is a  # an equal copy of the bars
    assert len(CALLS) == 1
    moved = cached_figure(line, frame(3.5), title="A")  # the live bar's close moved
    assert moved is not a and list(moved.data[0].y) == [1.0, 2.0, 3.5]
    assert cached_figure(line, frame(3.0), title="B").layout.title.text == "B"
    assert len(CALLS) == 3


def test_arguments_it_cannot_hash_build_an_uncached_figure():
    CALLS.clear()
    lock = threading.Lock()  # Streamlit cannot hash a lock
    a = cached_figure(with_lock, frame(3.0), lock)
    b = cached_figure(with_lock, frame(3.0), lock)
    assert a is not b and CALLS == ["locked", "locked"]


def test_a_figure_of_many_bars_is_built_every_time_not_kept():
    """An uploaded minute-bar file's chart must not stay in memory after its tab closed."""
    from ui.figures import MAX_ROWS

    CALLS.clear()
    big = pd.DataFrame({"close": range(MAX_ROWS + 1)},
                       index=pd.date_range("2024-01-01", periods=MAX_ROWS + 1, freq="min"))
    a = cached_figure(line, big, title="big")
    b = cached_figure(line, big, title="big")
    assert a is not b and CALLS == ["big", "big"]
    small = big.tail(MAX_ROWS)
    assert cached_figure(line, small, title="s") is cached_figure(line, small, title="s")


def test_a_frame_and_a_signal_on_the_same_bars_count_once():
    """The Strategy Lab passes every bar and a signal on them: 2 x 3,270 rows of the bundled
    daily history, each under the limit; its chart must be kept, not rebuilt on every run."""
    from ui.figures import MAX_ROWS

    CALLS.clear()
    n = MAX_ROWS // 2 + 100  # together over the limit, each under it
    bars = pd.DataFrame({"close": range(n)},
                        index=pd.date_range("2024-01-01", periods=n, freq="D"))
    signal = pd.Series(1, index=bars.index)

    def with_signal(frame, title, marks):
        CALLS.append(title)
        return go.Figure()

    a = cached_figure(with_signal, bars, "lab", marks=signal)
    assert cached_figure(with_signal, bars, "lab", marks=signal) is a
    assert CALLS == ["lab"]


def test_a_kept_figure_sends_the_same_json_without_copying_it_each_run():
    """st.plotly_chart calls to_dict() on every run: a kept figure answers with one dict,
    made once, that serialises to exactly what the built figure did (NaN, dates, arrays)."""
    def lines(f: pd.DataFrame) -> go.Figure:
        y = f["close"].to_numpy().copy()
        y[1] = np.nan
        return go.Figure([go.Scatter(x=f.index, y=y, name="close"),
                          go.Bar(x=list(f.index), y=[1, 2, 3])], layout={"title": "t"})

    bars = frame(4.25)
    expected = pio.to_json(lines(bars), validate=False)
    fig = cached_figure(lines, bars)
    assert isinstance(fig, SentFigure) and isinstance(fig, go.Figure)
    # Streamlit's path (streamlit/elements/plotly_chart.py): to_dict, then to_json
    sent = [pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True),
                        validate=False) for _ in range(2)]
    assert sent == [expected, expected]
    assert fig.to_dict() is fig.to_dict()  # made once
    assert np.isnan(fig.data[0].y[1]) and fig.layout.title.text == "t"  # still a figure


def test_an_uncached_figure_is_plotlys_own():
    lock = threading.Lock()
    fig = cached_figure(with_lock, frame(3.0), lock)
    assert type(fig) is go.Figure and not isinstance(fig, SentFigure)
