import numpy as np
import pytest

from scenefit.index import ProductRecord
from scenefit.learn import FitSample, FittedRanking, fit_ranking
from scenefit.rank import Pool, RankConfig, Ranker, RankWeights


def _sample(rng, n=40, n_rel=4):
    """A pool where the 'colour' factor marks the relevant products and the others are noise."""
    relevant = np.zeros(n, bool)
    relevant[rng.choice(n, n_rel, replace=False)] = True
    factors = {name: rng.random(n) for name in ("similarity", "room", "style")}
    factors["colour"] = np.where(relevant, 0.9 + 0.1 * rng.random(n), 0.5 * rng.random(n))
    records = [ProductRecord(str(i), "s", "d", None, "t", f"c{i}", [], [], "h", "none", key=i) for i in range(n)]
    vecs = rng.normal(size=(n, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return FitSample(Pool(records, vecs, np.zeros(n), factors), relevant, n_rel)


def test_fit_finds_the_informative_factor_and_reports_cv():
    rng = np.random.default_rng(0)
    samples = [_sample(rng) for _ in range(20)]
    fitted = fit_ranking(samples, Ranker(RankConfig()), k=4, labels="l.jsonl", step=0.5)
    assert fitted.weights.colour >= 0.5
    assert fitted.cv_recall > 0.9 and fitted.train_recall > 0.9
    assert fitted.default_recall < fitted.cv_recall
    assert fitted.n_scenes == 20 and fitted.cv_folds == 5


def test_saved_file_round_trips_and_other_versions_are_ignored(tmp_path):
    fitted = FittedRanking(weights=RankWeights(appearance=1, similarity=0, room=0, colour=0, style=0),
                           diversity=0.0, k=10, n_scenes=3, cv_folds=2, cv_recall=0.1, train_recall=0.2,
                           default_recall=0.05, labels="l", fitted_at="now")
    fitted.save(tmp_path)
    assert FittedRanking.load(tmp_path) == fitted
    (tmp_path / "ranking.json").write_text(fitted.model_copy(update={"format_version": 99}).model_dump_json())
    assert FittedRanking.load(tmp_path) is None
    assert FittedRanking.load(tmp_path / "nowhere") is None


def test_engine_uses_fitted_weights_of_its_own_model_unless_given_explicit_ones(tmp_path):
    from scenefit import Engine
    from scenefit.index import VectorIndex

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    assert Engine(tmp_path).rank_config == RankConfig()
    w = RankWeights(appearance=1, similarity=0, room=0, colour=0, style=0)
    fitted = FittedRanking(weights=w, diversity=0.0, k=10, n_scenes=3, cv_folds=2, cv_recall=0.1,
                           train_recall=0.2, default_recall=0.05, labels="l", fitted_at="now", model_id="m1")
    fitted.save(tmp_path)
    assert Engine(tmp_path).rank_config.weights == w and Engine(tmp_path).rank_config.diversity == 0.0
    explicit = RankConfig(diversity=0.5)
    assert Engine(tmp_path, rank=explicit).rank_config is explicit
    fitted.model_copy(update={"model_id": "other"}).save(tmp_path)  # e.g. the index was rebuilt
    assert Engine(tmp_path).rank_config == RankConfig()


def test_weights_for_absent_factors_fall_back_to_defaults():
    ranker = Ranker(RankConfig(weights=RankWeights(appearance=1, similarity=0, room=0, colour=0, style=0)))
    factors = {"similarity": np.array([0.2, 0.9]), "room": np.array([0.5, 0.5]),
               "colour": np.array([0.5, 0.5]), "style": np.array([0.5, 0.5])}
    scores = ranker.scores(factors)
    assert scores[1] > scores[0]  # not all zeros: the default weights rank by the factors present


@pytest.mark.parametrize("step, n", [(0.5, 3), (0.25, 5)])
def test_weight_grid_sums_to_one(step, n):
    from scenefit.learn._ranking import _grid

    names = ["similarity", "room", "colour", "style", "appearance"][:n]
    grid = _grid(names, step)
    assert grid and all(abs(sum(w.model_dump().values()) - 1) < 1e-9 for w in grid)


def test_fitted_weights_are_read_once_per_engine(tmp_path, monkeypatch):
    from scenefit import Engine
    from scenefit.index import VectorIndex

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    engine = Engine(tmp_path)
    first = engine.rank_config

    def no_disk(*a, **k):
        raise AssertionError("ranking.json read again on the hot path")

    monkeypatch.setattr(FittedRanking, "load", no_disk)
    assert engine.rank_config is first


def test_the_eval_report_names_the_weights_the_engine_uses(tmp_path):
    """A ranking.json fitted under another encoder is not what match used: the eval report
    must not say it was."""
    from scenefit.index import VectorIndex
    from scenefit import Engine
    from scenefit.learn import scenefit_setup

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    labels = tmp_path / "labels.jsonl"
    kw = dict(weights=RankWeights(), diversity=0.0, k=10, n_scenes=3, cv_folds=2, cv_recall=0.1,
              train_recall=0.2, default_recall=0.05, labels=str(labels), fitted_at="now")
    FittedRanking(**kw, model_id="other").save(tmp_path)
    engine = Engine(tmp_path, log=lambda m: None)
    assert scenefit_setup(engine.fitted.ranking, labels, cv=0, adapt=True) == "default weights"
    FittedRanking(**kw, model_id="m1").save(tmp_path)
    engine = Engine(tmp_path, log=lambda m: None)
    assert "IN-SAMPLE" in scenefit_setup(engine.fitted.ranking, labels, cv=0, adapt=True)
    assert scenefit_setup(engine.fitted.ranking, labels, cv=5, adapt=False) == \
        "5-fold cross-validated fit, no appearance adapter"


def _with_misfits(rng, n=40):
    """4 relevant products that score high on style and (noisily) on colour; 2 known misfits
    that score almost as high on style but low on colour; noise elsewhere."""
    relevant, misfit = np.zeros(n, bool), np.zeros(n, bool)
    relevant[:4], misfit[4:6] = True, True
    factors = {"similarity": rng.random(n) * 0.1, "room": rng.random(n) * 0.1}
    factors["style"] = np.where(relevant, 0.9 + 0.1 * rng.random(n), np.where(misfit, 0.8 + 0.08 * rng.random(n),
                                                                               0.5 * rng.random(n)))
    factors["colour"] = np.where(relevant, 0.6 + 0.4 * rng.random(n), np.where(misfit, 0.1 * rng.random(n),
                                                                                0.7 * rng.random(n)))
    records = [ProductRecord(str(i), "s", "d", None, "t", f"c{i}", [], [], "h", "none", key=i) for i in range(n)]
    vecs = rng.normal(size=(n, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return FitSample(Pool(records, vecs, np.zeros(n), factors), relevant, 4, misfit)


def test_known_misfits_steer_the_weights_away_from_them():
    rng = np.random.default_rng(1)
    samples = [_with_misfits(rng) for _ in range(12)]
    ranker = Ranker(RankConfig())

    def misfits_shown(fitted):
        return sum(s.irrelevant[ranker.order(s.pool, ranker.scores(s.pool.factors, fitted.weights), 6,
                                             fitted.diversity)].sum() for s in samples)

    blind = fit_ranking([FitSample(s.pool, s.relevant, s.n_relevant) for s in samples], ranker, k=6, labels="l",
                        step=0.5, folds=0)
    told = fit_ranking(samples, ranker, k=6, labels="l", step=0.5, folds=0)
    assert misfits_shown(blind) > 0  # style alone finds every relevant product, and the misfits next
    assert misfits_shown(told) < misfits_shown(blind) / 4 and told.weights.colour > 0
    assert told.train_recall == 1.0  # the figure reported stays plain recall
