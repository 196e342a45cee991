import json

import pytest

from scenefit import CatalogError
from scenefit.evaluate import read_labels


def test_room_names_are_normalised(tmp_path):
    f = tmp_path / "l.jsonl"
    f.write_text('{"scene": "a.jpg", "room_type": "Living_Room", "relevant": []}\n'
                 '{"scene": "b.jpg", "room_type": " home-office ", "relevant": []}\n')
    assert [s.room_type for s in read_labels(f)] == ["living room", "home office"]


def test_paths_resolve_against_the_labels_file(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "labels.jsonl"
    f.write_text(json.dumps({"scene": "scenes/a.jpg", "room_type": "bedroom", "relevant": ["1", 2]}) + "\n\n"
                 + json.dumps({"scene": "/abs/b.jpg", "relevant": []}) + "\n")
    a, b = read_labels(f)
    assert a.path == tmp_path / "sub" / "scenes" / "a.jpg" and a.scene == "scenes/a.jpg"
    assert a.relevant == {"1", "2"} and a.room_type == "bedroom"
    assert str(b.path) == "/abs/b.jpg" and b.room_type is None


@pytest.mark.parametrize("content, needle", [
    ("", "no scenes"),
    ("{bad json\n", "invalid JSON"),
    ('{"relevant": []}\n', "\"scene\" path"),
    ('{"scene": "a.jpg", "relevant": "1"}\n', "must be a list"),
])
def test_bad_labels(tmp_path, content, needle):
    f = tmp_path / "l.jsonl"
    f.write_text(content)
    with pytest.raises(CatalogError, match=needle):
        read_labels(f)
    with pytest.raises(CatalogError, match="no such labels file"):
        read_labels(tmp_path / "absent.jsonl")
