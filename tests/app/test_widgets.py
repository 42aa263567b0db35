"""ui.widgets: a keyed input that follows its default like an unkeyed one; metric rows."""

from streamlit.testing.v1 import AppTest

from tests.page_checks import metrics


def _follow_script():
    import streamlit as st

    from ui.widgets import follow_default

    side = st.radio("Side", ["long", "short"], key="side")
    follow_default("price", 105.0 if side == "long" else 95.0)
    st.number_input("Price", min_value=0.0, key="price")


def test_follow_default_resets_only_when_the_default_moves():
    at = AppTest.from_function(_follow_script, default_timeout=30).run()
    assert not at.exception
    assert at.number_input(key="price").value == 105.0
    at.number_input(key="price").set_value(101.0).run()
    at.run()  # a plain rerun keeps the user's value
    assert at.number_input(key="price").value == 101.0
    at.radio(key="side").set_value("short").run()  # new default: start from it again
    assert at.number_input(key="price").value == 95.0
    assert not at.exception and not at.warning  # no "default value and Session State" warning


def _metrics_script():
    from core.display import Metric
    from ui.widgets import metric_row

    metric_row([Metric("A", "1"), Metric("B", "2", "second", help="tip")])


def test_metric_row_is_one_html_element_with_every_figure():
    at = AppTest.from_function(_metrics_script, default_timeout=30).run()
    assert not at.exception
    got = [(m.label, m.value, m.delta, m.help) for m in metrics(at)]
    assert got == [("A", "1", "", ""), ("B", "2", "second", "tip")]
    assert len(at.get("html")) == 1 and not at.columns  # one element, no columns


def _kept_script():
    import streamlit as st

    from ui.widgets import kept_input

    draw = st.toggle("Draw", value=True, key="draw")
    n = kept_input(draw, st.number_input, "N", key="n", value=3, min_value=0, max_value=9)
    side = kept_input(draw, st.radio, "Side", options=["long", "short"], value="long",
                      key="side")
    st.write(f"n={n} side={side}")


def test_kept_input_outlives_the_runs_that_do_not_draw_it():
    at = AppTest.from_function(_kept_script, default_timeout=30).run()
    assert at.number_input(key="n").value == 3 and at.radio(key="side").value == "long"
    at.number_input(key="n").set_value(7).run()
    at.radio(key="side").set_value("short").run()
    at.toggle(key="draw").set_value(False).run()  # not drawn: Streamlit drops their state
    assert not at.number_input and not at.radio
    assert at.markdown[-1].value == "n=7 side=short"  # the kept values, without widgets
    at.run()
    at.toggle(key="draw").set_value(True).run()  # drawn again: they start from them
    assert at.number_input(key="n").value == 7 and at.radio(key="side").value == "short"
    assert not at.exception and not at.warning  # no "default value and Session State" warning


def _url_script():
    import streamlit as st

    from ui.widgets import keep_in_url

    keep_in_url("window", st.session_state.get("pick", "1Y"), "1Y")


def test_keep_in_url_writes_a_choice_and_leaves_the_default_out():
    at = AppTest.from_function(_url_script, default_timeout=30)
    at.query_params["window"] = "junk"
    at.run()
    assert "window" not in at.query_params  # the default: not in the address
    at.session_state["pick"] = "5Y"
    at.run()
    assert at.query_params["window"] == "5Y"
    at.session_state["pick"] = "1Y"
    at.run()
    assert "window" not in at.query_params
