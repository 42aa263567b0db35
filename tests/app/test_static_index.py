"""ui.static_index: Streamlit's index.html with the app's base URL named on page addresses."""

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
