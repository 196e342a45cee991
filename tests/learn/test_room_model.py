import numpy as np
import pytest
from PIL import Image

from scenefit.learn import RoomModel
from scenefit.scene import RoomClassifier, SceneAnalyzer, room_features


def _data(rng, per=12, d=6):
    centres = {"bedroom": np.r_[3, 0, 0, 0, 0, 0], "kitchen": np.r_[0, 3, 0, 0, 0, 0], "outdoor": np.r_[0, 0, 3, 0, 0, 0]}
    x, y = [], []
    for room, c in centres.items():
        x.append(c + rng.normal(scale=0.5, size=(per, d)))
        y += [room] * per
    return np.concatenate(x), y


def test_fit_learns_separable_rooms_and_reports_cv():
    rng = np.random.default_rng(0)
    x, y = _data(rng)
    model = RoomModel.fit(x, y)
    assert model.classes == ["bedroom", "kitchen", "outdoor"]
    assert model.cv_accuracy == pytest.approx(1.0) and model.n_scenes == 36
    p = model.probabilities(np.r_[0, 3, 0, 0, 0, 0])
    assert p.shape == (1, 3) and p.sum() == pytest.approx(1.0) and p.argmax() == 1


def test_cv_accuracy_is_honest_on_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6))
    y = [["a", "b"][i % 2] for i in range(40)]
    assert RoomModel.fit(x, y).cv_accuracy < 0.8  # labels carry no signal: no fake accuracy


def test_save_load_round_trip(tmp_path):
    x, y = _data(np.random.default_rng(2))
    model = RoomModel.fit(x, y)
    model.save(tmp_path)
    again = RoomModel.load(tmp_path)
    np.testing.assert_allclose(again.probabilities(x[:3]), model.probabilities(x[:3]))
    assert again.cv_accuracy == model.cv_accuracy and RoomModel.load(tmp_path / "none") is None


def test_analyzer_uses_the_room_model(appearance_encoder):
    im = Image.new("RGB", (256, 256), (200, 30, 30))
    regions = SceneAnalyzer(appearance_encoder).analyze(im).regions
    feats = room_features(regions)
    x = np.stack([feats, -feats, feats * 0.9, -feats * 0.9])
    model = RoomModel.fit(x, ["garage", "attic", "garage", "attic"], folds=2)
    s = SceneAnalyzer(appearance_encoder, room_model=model).analyze(im)
    assert next(iter(s.room_type)) == "garage" and sum(s.room_type.values()) == pytest.approx(1.0)


def test_near_constant_features_do_not_blow_up():
    rng = np.random.default_rng(4)
    x, y = _data(rng)
    x[:, 5] = 0.5 + rng.normal(scale=1e-7, size=len(x))  # a feature that barely varies
    model = RoomModel.fit(x, y)
    probe = x[:1].copy()
    p0 = model.probabilities(probe)
    probe[0, 5] += 1e-3
    np.testing.assert_allclose(model.probabilities(probe), p0, atol=1e-3)


def test_the_room_model_is_what_the_analyzer_takes():
    """The analyser only knows scene.RoomClassifier; the fitted model must keep satisfying it."""
    x = np.r_[np.eye(3), np.eye(3)]
    assert isinstance(RoomModel.fit(x, ["a", "b", "c"] * 2, folds=0), RoomClassifier)
    assert not isinstance(object(), RoomClassifier)
