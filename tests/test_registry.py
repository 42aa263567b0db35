import json

import pytest

from core.errors import ArtifactIntegrityError, NotTrainedError
from core.registry import list_versions, load_artifact, save_artifact


def test_round_trip(tmp_path):
    a = save_artifact("demo", {"weights.json": b'{"w": [1, 2]}'}, {"metrics": {"rmse": 1.0}},
                      models_dir=tmp_path)
    b = load_artifact("demo", models_dir=tmp_path)
    assert b.version == a.version
    assert b.json("weights.json") == {"w": [1, 2]}
    assert b.metadata["metrics"]["rmse"] == 1.0
    assert len(b.metadata["files"]["weights.json"]) == 64


def test_tampered_file_refused(tmp_path):
    a = save_artifact("demo", {"weights.json": b'{"w": 1}'}, models_dir=tmp_path)
    (a.path / "weights.json").write_bytes(b'{"w": 2}')
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        load_artifact("demo", a.version, models_dir=tmp_path)


def test_missing_file_refused(tmp_path):
    a = save_artifact("demo", {"weights.json": b"{}"}, models_dir=tmp_path)
    (a.path / "weights.json").unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        load_artifact("demo", models_dir=tmp_path)


def test_corrupt_metadata(tmp_path):
    a = save_artifact("demo", {"weights.json": b"{}"}, models_dir=tmp_path)
    (a.path / "metadata.json").write_text("{not json")
    with pytest.raises(ArtifactIntegrityError):
        load_artifact("demo", models_dir=tmp_path)


def test_no_model(tmp_path):
    with pytest.raises(NotTrainedError):
        load_artifact("nothing", models_dir=tmp_path)


@pytest.mark.parametrize("name", ["model.pkl", "m.joblib", "w.pt"])
def test_pickle_formats_refused(tmp_path, name):
    with pytest.raises(ValueError, match="not allowed"):
        save_artifact("demo", {name: b"x"}, models_dir=tmp_path)


def test_versions_sorted(tmp_path):
    v1 = save_artifact("demo", {"a.json": b"1"}, version="20200101T000000Z-0000", models_dir=tmp_path)
    v2 = save_artifact("demo", {"a.json": b"2"}, version="20210101T000000Z-0000", models_dir=tmp_path)
    assert list_versions("demo", models_dir=tmp_path) == [v1.version, v2.version]
    assert load_artifact("demo", models_dir=tmp_path).files["a.json"] == b"2"
    meta = json.loads((v1.path / "metadata.json").read_text())
    assert meta["library_versions"]["numpy"]
