"""ui.figures.cached_figure: one figure per builder and arguments' content (issue 15)."""

import copy
import json
import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools

from ui.figures import SentFigure, cached_figure, chart_theme, sent_spec, themed

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
    made once: its data as plain JSON (NaN as null, dates as text), themed, no template."""
    def lines(f: pd.DataFrame) -> go.Figure:
        y = f["close"].to_numpy().copy()
        y[1] = np.nan
        return go.Figure([go.Scatter(x=f.index, y=y, name="close"),
                          go.Bar(x=list(f.index), y=[1, 2, 3])], layout={"title": "t"})

    bars = frame(4.25)
    fig = cached_figure(lines, bars)
    assert isinstance(fig, SentFigure) and isinstance(fig, go.Figure)
    # Streamlit's path (streamlit/elements/plotly_chart.py): to_dict, then to_json
    sent = [json.loads(pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True),
                                   validate=False)) for _ in range(2)]
    assert sent[0] == sent[1] == sent_spec(lines(bars))
    assert fig.to_dict() is fig.to_dict()  # made once
    scatter = sent[0]["data"][0]
    assert scatter["y"] == [1.0, None, 4.25]  # a JSON list, not Plotly's base64 typed array
    # the dates as Plotly's own JSON writes them (each an ISO string with its UTC offset)
    assert scatter["x"] == json.loads(pio.to_json(lines(bars), validate=False))["data"][0]["x"]
    assert scatter["x"][0] == "2024-01-01T00:00:00+00:00"
    assert "template" not in sent[0]["layout"] and sent[0]["layout"]["datarevision"]
    assert np.isnan(fig.data[0].y[1]) and fig.layout.title.text == "t"  # still a figure


def test_the_data_revision_names_the_data():
    """Plotly skips comparing arrays under an unchanged datarevision: another figure's data
    must never carry the same one."""
    def spec(y):
        return sent_spec(go.Figure(go.Scatter(y=y)))["layout"]["datarevision"]

    assert spec([1, 2, 3]) == spec([1, 2, 3])
    assert spec([1, 2, 3]) != spec([1, 2, 4])


def test_an_uncached_figure_is_plotlys_own():
    lock = threading.Lock()
    fig = cached_figure(with_lock, frame(3.0), lock)
    assert type(fig) is go.Figure and not isinstance(fig, SentFigure)


THEME = {
    "layout": {"font": {"color": "#eee", "size": 12}, "paper_bgcolor": "#111",
               "title": {"x": 0},
               "xaxis": {"gridcolor": "#333", "tickcolor": "#333", "showgrid": False,
                         "minor": {"gridcolor": "#333"}},
               "yaxis": {"gridcolor": "#333", "tickcolor": "#333"},
               "ternary": {"bgcolor": "#111"},
               "annotationdefaults": {"font": {"color": "#0f0"}}},
    "data": {"scatter": [{"line": {"color": "red"}}, {"line": {"color": "blue"}}],
             "candlestick": [{"increasing": {"line": {"color": "#0f0"}}}]},
}


def test_a_template_is_applied_as_plotly_applies_one():
    before = copy.deepcopy(THEME)
    spec = {"data": [{"type": "scatter", "y": [1]}, {"type": "scatter", "line": {"width": 3}},
                     {"type": "scatter", "xaxis": "x2", "line": {"color": "gold"}},
                     {"type": "candlestick", "x": [1], "open": [1], "high": [1], "low": [1],
                      "close": [1]}],
            "layout": {"template": {"layout": {"font": {"color": "pink"}}},
                       "font": {"size": 14}, "title": {"text": "MSFT"},
                       "xaxis2": {"anchor": "y", "ticks": "outside"},
                       "annotations": [{"text": "R", "font": {"size": 9}}]}}
    out = themed(spec, THEME)
    lay = out["layout"]
    assert "template" not in lay  # the figure's own template (Plotly's default) is dropped
    assert lay["font"] == {"color": "#eee", "size": 14}  # the figure's value wins
    assert lay["paper_bgcolor"] == "#111" and "ternary" not in lay  # no subplot it lacks
    # trace templates cycle over the traces of their type; a trace's own values win
    assert [t["line"]["color"] for t in out["data"][:3]] == ["red", "blue", "gold"]
    assert out["data"][1]["line"]["width"] == 3
    assert out["data"][3]["increasing"]["line"]["color"] == "#0f0"
    # the x axis style styles every x axis, also the one the layout never named
    assert lay["xaxis"]["gridcolor"] == lay["xaxis2"]["gridcolor"] == "#333"
    assert lay["xaxis2"]["anchor"] == "y" and lay["yaxis"]["gridcolor"] == "#333"
    # a tick colour only where the axis has ticks: set, it would turn ticks on (coerce2)
    assert "tickcolor" not in lay["xaxis"] and lay["xaxis2"]["tickcolor"] == "#333"
    assert "gridcolor" not in lay["xaxis"]["minor"]  # nor the minor grid
    assert lay["annotations"] == [{"text": "R", "font": {"color": "#0f0", "size": 9}}]
    assert lay["title"] == {"x": 0, "text": "<b>MSFT</b>"}  # bold, as Streamlit's theme
    assert THEME == before  # the theme is shared: never changed


def test_a_figure_without_axes_gets_none():
    out = themed({"data": [{"type": "indicator", "value": 0.2}], "layout": {}}, THEME)
    assert "xaxis" not in out["layout"] and "yaxis" not in out["layout"]


def test_the_stored_theme_is_a_dark_plotly_template():
    """ui/chart_theme.json: Streamlit's template for the app's dark theme (checked against
    the running Streamlit in tests/e2e/test_app_e2e.py)."""
    theme = chart_theme()
    assert {"layout", "data"} <= set(theme)
    bg = theme["layout"]["paper_bgcolor"]
    assert sum(int(bg[i:i + 2], 16) for i in (1, 3, 5)) < 3 * 64  # dark, as config.toml
    assert theme["layout"]["font"]["color"] and theme["layout"]["xaxis"]["gridcolor"]
    assert "candlestick" in theme["data"]


def test_an_unreadable_theme_file_leaves_theming_to_streamlit(tmp_path, monkeypatch):
    """A damaged install (the theme file gone or not JSON) still draws every chart: sent as
    built, with its own template, and themed by Streamlit's chart element."""
    import ui.figures as figures
    from streamlit.testing.v1 import AppTest

    for content in (None, "{not json"):
        path = tmp_path / "chart_theme.json"
        if content is not None:
            path.write_text(content)
        monkeypatch.setattr(figures, "THEME_FILE", path)
        figures.chart_theme.cache_clear()
        try:
            assert figures.chart_theme() is None
            spec = sent_spec(go.Figure(go.Scatter(y=[1, 2])))
            assert "template" in spec["layout"] and "datarevision" not in spec["layout"]

            def page():
                import plotly.graph_objects as go

                from ui.figures import chart
                chart(go.Figure(go.Scatter(y=[1, 2])), key="c")

            at = AppTest.from_function(page).run()
            assert not at.exception
            assert [c.proto.theme for c in at.get("plotly_chart")] == ["streamlit"]
        finally:
            figures.chart_theme.cache_clear()
    monkeypatch.undo()
    assert chart_theme() is not None  # the shipped file, read again
