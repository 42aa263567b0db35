"""Pages serve the store's active version: a promote/rollback shows on the next rerun."""

import pytest

from core.errors import NotTrainedError


def test_active_artifact_follows_promote_and_disable(tmp_path, monkeypatch):
    from core.config import get_settings
    from core.registry import save_artifact
    from core.store import disable, promote, session_scope, sync_models_dir
    from ui.models import active_artifact

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    old = save_artifact("demo", {"w.json": b"1"}, version="20200101T000000Z-0000")
    new = save_artifact("demo", {"w.json": b"2"}, version="20210101T000000Z-0000")
    with session_scope() as s:
        sync_models_dir(session=s, who="test")  # activates the newest
    assert active_artifact("demo").version == new.version
    with session_scope() as s:
        promote("demo", old.version, session=s, who="test")
    assert active_artifact("demo").version == old.version  # no restart, no cache clear
    with session_scope() as s:
        disable("demo", session=s, who="test")
    with pytest.raises(NotTrainedError, match="disabled"):
        active_artifact("demo")


def test_pattern_cnn_and_sentiment_scorers_follow_a_rollback():
    """The page wrappers of the other families (and the sentiment scorers' own process cache,
    which the live panel uses) key on the serving version too."""
    import streamlit as st

    from core.registry import list_versions
    from core.sentiment.scorers import load_scorers
    from core.store import promote, session_scope, sync_models_dir
    from ui.patterns import cnn_model

    st.cache_resource.clear()
    with session_scope() as s:
        sync_models_dir(session=s, who="test")
    cnn_versions = list_versions("patterns-cnn")
    head_versions = list_versions("sentiment-head")
    assert cnn_model()[1] == cnn_versions[-1]
    assert load_scorers(finbert=False).head_metadata["head"]["method"] == "lora"
    with session_scope() as s:
        promote("patterns-cnn", cnn_versions[0], session=s, who="test")
        promote("sentiment-head", head_versions[0], session=s, who="test")
    assert cnn_model()[1] == cnn_versions[0]  # no restart, no cache clear
    assert load_scorers(finbert=False).head_metadata["head"]["method"] == "logreg"
