import numpy as np

from scenefit.learn import (ADAPTER_FILE, FIT_FILE, AppearanceAdapter, FitResult, FittedBundle, FittedRanking,
                            RoomModel, save_fit)
from scenefit.rank import RankConfig, RankWeights


def _ranking(model_id="m1", appearance=1.0):
    w = RankWeights(appearance=appearance, similarity=1 - appearance, room=0, colour=0, style=0)
    return FittedRanking(weights=w, diversity=0.0, k=10, n_scenes=3, cv_folds=2, cv_recall=0.1, train_recall=0.2,
                         default_recall=0.05, labels="l", fitted_at="now", model_id=model_id)


def _room_model(model_id="m1"):
    x = np.r_[np.eye(4), np.eye(4) + 0.1]
    model = RoomModel.fit(x, ["a", "b", "a", "b"] * 2, folds=0)
    model.model_id = model_id
    return model


def _save_all(folder, model_id="m1", regions="dense"):
    _ranking(model_id).save(folder)
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id=model_id, regions=regions).save(folder)
    _room_model(model_id).save(folder)


def test_loads_every_fitted_file_of_the_index_encoder(tmp_path):
    _save_all(tmp_path)
    notes = []
    bundle = FittedBundle.load(tmp_path, "m1", notes.append)
    assert bundle.ranking is not None and bundle.adapter is not None and bundle.room_model is not None
    assert bundle.rank_config.weights == _ranking().weights and bundle.rank_config.diversity == 0.0
    assert bundle.scene_config.regions == "dense" and notes == []


def test_files_fitted_under_another_encoder_are_ignored_and_said_so(tmp_path):
    _save_all(tmp_path, model_id="old")
    notes = []
    bundle = FittedBundle.load(tmp_path, "m1", notes.append)
    assert (bundle.ranking, bundle.adapter, bundle.room_model) == (None, None, None)
    assert bundle.rank_config == RankConfig() and bundle.scene_config.regions == "dense"
    assert len(notes) == 3 and all("fitted under encoder old" in n and "m1" in n for n in notes)
    assert FittedBundle.load(tmp_path, None, notes.append).ranking is None and len(notes) == 3  # no index


def test_a_reload_rereads_changed_files_only_and_says_nothing_twice(tmp_path):
    _save_all(tmp_path)
    _ranking("old").save(tmp_path)
    notes = []
    first = FittedBundle.load(tmp_path, "m1", notes.append)
    same = FittedBundle.load(tmp_path, "m1", notes.append, first)
    assert same is not first and same.adapter is first.adapter and same.room_model is first.room_model
    assert len(notes) == 1  # the other encoder's ranking.json, said once
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="crops").save(tmp_path)
    refit = FittedBundle.load(tmp_path, "m1", notes.append, same)
    assert refit.adapter is not first.adapter and refit.adapter.regions == "crops"
    assert refit.room_model is first.room_model


def test_adapter_for_other_regions_is_not_used_and_said_once(tmp_path):
    _save_all(tmp_path, regions="crops")
    notes = []
    bundle = FittedBundle.load(tmp_path, "m1", notes.append)
    assert bundle.adapter_for("crops", notes.append) is bundle.adapter
    assert bundle.adapter_for("dense", notes.append) is None and bundle.adapter_for("dense", notes.append) is None
    assert len(notes) == 1 and "fitted on --regions crops" in notes[0]


def test_save_fit_records_the_encoder_and_regions_and_drops_a_stale_adapter(tmp_path, monkeypatch):
    import os

    import scenefit._atomic as atomic

    published = []
    real_replace = os.replace
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (published.append(os.path.basename(b)), real_replace(a, b)))
    result = FitResult(_ranking(""), _room_model(""), AppearanceAdapter(np.zeros((3, 3), np.float32)))
    save_fit(result, tmp_path, model_id="m2", regions="dense")
    bundle = FittedBundle.load(tmp_path, "m2", print)
    assert bundle.adapter.regions == "dense" and bundle.ranking.model_id == bundle.room_model.model_id == "m2"
    save_fit(FitResult(_ranking(""), None, None), tmp_path, model_id="m2", regions="dense")
    assert not (tmp_path / ADAPTER_FILE).exists() and (tmp_path / FIT_FILE).exists()
    assert not list(tmp_path.glob("*.tmp"))  # written through atomic files
    assert {FIT_FILE, ADAPTER_FILE} <= set(published)  # each one published by a rename
