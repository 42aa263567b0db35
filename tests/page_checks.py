"""Checks shared by the AppTest page tests: a page that takes its error path fails them."""

from __future__ import annotations

import re

#: warnings the bundled models give on purpose (they report a negative result, not a failure)
EXPECTED_WARNINGS = ("**No skill.**",                               # Patterns: breakout filter
                     "The DQN did **not** beat volatility targeting")  # Risk Sizing: DQN


def shown(markdown: str) -> str:
    """What the reader sees of markdown escaped by ``core.display.literal``."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at, kind: str) -> str:
    """Every element of ``kind`` (``markdown``, ``caption``, ``error``...) as shown, joined."""
    return " | ".join(shown(e.value) for e in getattr(at, kind))


def open_page(path: str, **params):
    """The page script at ``path`` run once by ``AppTest`` with the query string ``params``
    (symbol MSFT unless given)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(path, default_timeout=180)
    for k, v in {"symbol": "MSFT", **params}.items():
        at.query_params[k] = v
    return at.run()


def assert_page_ok(at, *, allow_errors: tuple[str, ...] = (),
                   allow_warnings: tuple[str, ...] | None = EXPECTED_WARNINGS) -> None:
    """Fail when the page raised, shows an ``st.error`` that contains none of
    ``allow_errors``, or an ``st.warning`` that contains none of ``allow_warnings`` (most
    pages show a failed load or model as a warning; None: warnings are not checked)."""
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error if not any(a in shown(e.value) for a in allow_errors)]
    assert not errors, errors
    if allow_warnings is not None:
        warnings = [w.value for w in at.warning
                    if not any(a in w.value or a in shown(w.value) for a in allow_warnings)]
        assert not warnings, warnings


def table_columns(at) -> list[set[str]]:
    """The column names of every table on the page: ``st.dataframe`` grids, markdown tables
    (their header row, markdown escapes removed) and the HTML tables of
    ``ui.widgets.small_table`` (their ``<th>`` cells, HTML entities decoded)."""
    import re

    out = [set(map(str, d.value.columns)) for d in at.dataframe]
    for m in at.markdown:
        lines = str(m.value).splitlines()
        if len(lines) >= 2 and lines[0].startswith("| ") and re.fullmatch(
                r"\|(:?-+:?\|)+", lines[1]):
            out.append({re.sub(r"\\(.)", r"\1", c.strip())
                        for c in lines[0].strip("|").split(" | ")})
    out += [set(t) for t in html_tables(at)[0]]
    return out


HEAD_CELL, BODY_CELL = r"<th(?: [^>]*)?>(.*?)</th>", r"<td(?: [^>]*)?>(.*?)</td>"


def html_tables(at) -> tuple[list[list[str]], list[list[list[str]]]]:
    """The ``small_table`` tables on the page (``st.html`` bodies): their header rows and
    their body rows, cell texts with HTML entities decoded."""
    import html
    import re

    heads, bodies = [], []
    for e in at.get("html"):
        for table in re.findall(r'<table class="qd-table">(.*?)</table>', str(e.proto.body),
                                re.S):
            head, _, body = table.partition("</thead>")
            heads.append([html.unescape(c) for c in re.findall(HEAD_CELL, head)])
            bodies.append([[html.unescape(c) for c in re.findall(BODY_CELL, row)]
                           for row in re.findall(r"<tr>(.*?)</tr>", body)])
    return heads, bodies



def metrics(at) -> list:
    """The ``metric_row`` figures on the page (``st.html`` bodies), in order: each with
    ``label``, ``value``, ``delta`` and ``help`` (``""`` when absent), HTML entities decoded."""
    import html
    import re
    from types import SimpleNamespace

    def part(cls: str, card: str) -> str:
        m = re.search(rf'<div class="{cls}">(.*?)</div>', card, re.S)
        return "" if m is None else m.group(1)

    out = []
    for e in at.get("html"):
        for card in str(e.proto.body).split('<div class="qd-metric"')[1:]:
            tip = re.match(r' title="([^"]*)"', card)
            label = part("qd-label", card).removesuffix('<span class="qd-help">?</span>')
            out.append(SimpleNamespace(
                label=html.unescape(label), value=html.unescape(part("qd-value", card)),
                delta=html.unescape(part("qd-delta", card)),
                help=html.unescape(tip.group(1)) if tip else ""))
    return out


def cards(at) -> list[str]:
    """The Overview's symbol cards on the page (``st.html`` bodies of
    ``core.panel.cards.cards_html``), in order: each card's text, one line per block (head,
    signal line, forecast table, each context line), HTML entities decoded."""
    import html
    import re

    out = []
    for e in at.get("html"):
        for card in str(e.proto.body).split('<div class="qd-card">')[1:]:
            text = re.sub(r"</div>|<br>|</table>", "\n", card)
            text = html.unescape(re.sub(r"<[^>]+>", " ", text))
            lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
            out.append("\n".join(line for line in lines if line))
    return out
