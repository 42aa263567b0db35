"""ui.static_index: Streamlit's index.html with the app's base URL named on page addresses."""

import json
from pathlib import Path

import pytest
from streamlit import file_util

from ui.navigation import URL_PATHS
from ui.static_index import MARKER, mirror_static_dir, patched_index


def test_the_snippet_runs_before_streamlits_bundle_and_lists_every_page():
    html = (Path(file_util.get_static_dir()) / "index.html").read_text()
    out = patched_index(html, URL_PATHS)
    assert out.index(MARKER) < out.index('<script type="module"')
    for path in ("volatility", "risk-sizing", "admin", "screener"):
        assert f'"{path}"' in out
    assert out.replace(out[out.index(MARKER):out.index("</script>") + 9], "").replace(
        "<head>\n    ", "<head>", 1) == html  # nothing else changed
    with pytest.raises(ValueError):
        patched_index("<html></html>", URL_PATHS)


def test_the_mirror_links_every_file_but_the_index(tmp_path):
    src = Path(file_util.get_static_dir())
    dest = mirror_static_dir(src, tmp_path / "static", ["volatility"])
    assert sorted(p.name for p in dest.iterdir()) == sorted(p.name for p in src.iterdir())
    assert all((dest / p.name).is_symlink() for p in src.iterdir() if p.name != "index.html")
    assert not (dest / "index.html").is_symlink()
    assert MARKER in (dest / "index.html").read_text()
    assert MARKER not in (src / "index.html").read_text()  # Streamlit's own file untouched


def test_preloads_are_the_import_closure_less_what_the_entry_loads():
    from ui.static_index import preload_files

    manifest = {
        "index.html": {"file": "static/js/index.js", "isEntry": True, "imports": ["_a.js"]},
        "_a.js": {"file": "static/js/a.js"},
        "_b.js": {"file": "static/js/b.js", "imports": ["_a.js", "_c.js"]},
        "_c.js": {"file": "static/js/c.js", "imports": ["_b.js"]},  # a cycle ends
        "_Grid.js": {"file": "static/js/Grid.js", "name": "Grid",
                     "imports": ["_b.js", "_missing.js"], "css": ["static/css/Grid.css"]},
        "_Grid.css": {"file": "static/css/Grid.css", "name": "Grid"},
        "_Other.js": {"file": "static/js/Other.js", "name": "Other"},
    }
    assert preload_files(manifest, ["Grid", "Unknown"]) == [
        "static/js/Grid.js", "static/js/b.js", "static/js/c.js"]
    assert preload_files(manifest, []) == []


def test_the_screener_preloads_streamlits_data_grid(tmp_path):
    from ui.static_index import page_preloads

    src = Path(file_util.get_static_dir())
    files = page_preloads(src)["screener"]
    assert any(Path(f).name.startswith("DataFrame.") for f in files)
    assert all((src / f).is_file() and f.endswith(".js") for f in files)
    index = (src / "index.html").read_text()
    assert not [f for f in files if f in index]  # nothing the page loads anyway
    assert page_preloads(tmp_path) == {}  # no manifest: no preloads, no error
    out = (mirror_static_dir(src, tmp_path / "static", URL_PATHS) / "index.html").read_text()
    assert files[0] in out


def test_the_pages_that_open_on_a_chart_preload_plotlys_code(tmp_path):
    """Plotly's chunk is read while a chart page connects, from its first message on, not
    once the chart's message arrived (issue 15): the root (the Overview) too, the Screener
    and the Admin page not."""
    from ui.static_index import page_preloads

    src = Path(file_util.get_static_dir())
    pre = page_preloads(src)
    for page in ("", "patterns", "forecasts", "volatility", "risk-sizing", "strategy-lab"):
        assert any(Path(f).name.startswith("PlotlyChart.") for f in pre[page]), page
    assert not [f for f in pre["screener"] if "PlotlyChart." in f]
    assert "admin" not in pre
    out = (mirror_static_dir(src, tmp_path / "static", URL_PATHS) / "index.html").read_text()
    assert '"": ' + json.dumps(pre[""]) in out


def test_every_element_a_page_declares_is_in_streamlits_build():
    """A name Streamlit's manifest does not know would be skipped without a word: a release
    that renamed a chunk fails here instead. A page preloads the code of what its first
    screen shows beside the chart (issue 15): the Strategy Lab its window picker and HTML
    blocks (its select boxes are in a closed tab and in popovers: not preloaded), the Overview
    its cards and window picker."""
    from ui.navigation import PRELOAD
    from ui.static_index import page_preloads

    src = Path(file_util.get_static_dir())
    manifest = json.loads((src / "manifest.json").read_text())
    known = {v.get("name") for v in manifest.values() if v.get("file", "").endswith(".js")}
    for page, names in PRELOAD.items():
        assert set(names) <= known, (page, set(names) - known)
    pre = page_preloads(src)

    def chunks(page):
        return {Path(f).name.split(".")[0] for f in pre[page]}
    assert {"ButtonGroup", "Html", "PlotlyChart"} <= chunks("strategy-lab")
    assert "Selectbox" not in chunks("strategy-lab")
    assert {"ButtonGroup", "Html", "PlotlyChart"} <= chunks("")
    assert "Selectbox" not in chunks("patterns")


def test_the_screener_evaluates_the_data_grids_code_when_idle(tmp_path):
    """The Screener's table code is evaluated once the page is idle, before a Scan brings the
    table (issue 15); only the grid's own chunk, and no other page."""
    from ui.static_index import entry_files, page_evaluates

    manifest = {"_Grid.js": {"file": "static/js/Grid.js", "name": "Grid", "imports": ["_b.js"]},
                "_b.js": {"file": "static/js/b.js"},
                "_Grid.css": {"file": "static/css/Grid.css", "name": "Grid"}}
    assert entry_files(manifest, ["Grid", "Unknown"]) == ["static/js/Grid.js"]
    src = Path(file_util.get_static_dir())
    ev = page_evaluates(src)
    assert list(ev) == ["screener"]
    assert [Path(f).name.split(".")[0] for f in ev["screener"]] == ["DataFrame"]
    assert page_evaluates(tmp_path) == {}
    out = (mirror_static_dir(src, tmp_path / "static", URL_PATHS) / "index.html").read_text()
    assert '{"screener": ["' + ev["screener"][0] + '"]}' in out
    assert "requestIdleCallback" in out
