"""`scenefit feedback …`, `scenefit experiments report` and `fit --from-feedback --into`: the
loop from recorded events to a fitted variant, on the command line."""

import json

from scenefit.cli import main
from scenefit.engine import Engine
from scenefit.feedback import Event


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def _served(tmp_path, capsys):
    """The benchmark's catalog ingested, each scene served twice (two variants), and a
    shopper who opens the scene's two products and dismisses one other."""
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix")
    assert code == 0, err
    (tmp_path / "ix" / "fits" / "b").mkdir(parents=True)
    (tmp_path / "ix" / "experiments.json").write_text(json.dumps({"variants": [
        {"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "fit": "fits/b"}]}))
    engine = Engine(tmp_path / "ix", log=lambda m: None)
    labels = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text().splitlines()]
    for n, line in enumerate(labels):
        for session in (f"s{n}", f"t{n}"):
            result = engine.serve_match((tmp_path / line["scene"]).read_bytes(), k=4, session_id=session)
            shown = [r.id for r in result.recommendations]
            for pid in line["relevant"]:
                if pid in shown:
                    engine.feedback.event(result.match_id, pid, Event.click)
            other = next(p for p in shown if p not in line["relevant"])
            engine.feedback.event(result.match_id, other, Event.dismiss)
    return labels


def test_export_fit_into_a_variant_and_report(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    labels = _served(tmp_path, capsys)
    code, out, err = run(capsys, "feedback", "export", "--index", tmp_path / "ix", "--out", tmp_path / "fb.jsonl")
    assert code == 0, err
    assert "Wrote 4 scenes" in err  # eight scene files, four distinct photos
    assert "passed over" not in err  # off unless asked
    exported = [json.loads(x) for x in (tmp_path / "fb.jsonl").read_text().splitlines()]
    assert all(len(x["relevant"]) == 2 and len(x["irrelevant"]) >= 1 for x in exported)
    assert {frozenset(x["relevant"]) for x in exported} == {frozenset(x["relevant"]) for x in labels}
    code, out, err = run(capsys, "feedback", "export", "--index", tmp_path / "ix", "--out", tmp_path / "fb2.jsonl",
                         "--passed-over")
    assert code == 0, err
    assert "0 of them passed over" in err  # eight matches are too few to estimate position bias

    code, out, err = run(capsys, "fit", "--from-feedback", "--index", tmp_path / "ix", "--into", "fits/b", "-k", "2")
    assert code == 0, err
    assert "Fitted on 4 scenes" in out and (tmp_path / "ix" / "fits" / "b" / "ranking.json").is_file()
    assert not (tmp_path / "ix" / "ranking.json").exists()  # the index's own fit is left alone
    assert (tmp_path / "ix" / "feedback" / "labels.jsonl").is_file()
    # The variant ranks with it: the matches it serves from now on use the fitted weights.
    engine = Engine(tmp_path / "ix", log=lambda m: None)
    variant = engine.feedback.experiment.variant("b")
    assert engine._fitted_for(variant).ranking is not None and engine.fitted.ranking is None

    code, out, err = run(capsys, "experiments", "report", "--index", tmp_path / "ix", "-k", "4", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert {v["name"] for v in report["variants"]} == {"a", "b"}
    assert sum(v["matches"] for v in report["variants"]) == 16
    assert all(v["rates"]["ctr"]["rate"] == 1.0 for v in report["variants"])  # every match got its clicks
    code, out, err = run(capsys, "experiments", "report", "--index", tmp_path / "ix")
    assert code == 0 and "CTR@10" in out and "b vs a, ctr" in out


def test_delete_and_purge(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    _served(tmp_path, capsys)
    code, out, err = run(capsys, "feedback", "delete", "--index", tmp_path / "ix", "--photo", tmp_path / "scene0.png")
    assert code == 0 and "Deleted 4 matches" in err  # scene0 and scene4 are one photo, served twice each
    store = Engine(tmp_path / "ix", log=lambda m: None).feedback.store
    assert store.counts()["matches"] == 12
    code, out, err = run(capsys, "feedback", "purge", "--index", tmp_path / "ix", "--older-than-days", "1")
    assert code == 0 and "Deleted 0 matches" in err
    code, out, err = run(capsys, "feedback", "purge", "--index", tmp_path / "ix", "--older-than-days", "0")
    assert code == 0 and "Deleted 12 matches" in err and store.counts() == {"matches": 0, "events": 0, "scenes": 0}


def test_errors_are_one_line(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix")
    code, out, err = run(capsys, "feedback", "export", "--index", tmp_path / "ix", "--out", tmp_path / "fb.jsonl")
    assert code == 2 and "no feedback to export" in err and "Traceback" not in err
    code, out, err = run(capsys, "fit", "--index", tmp_path / "ix")
    assert code == 2 and "--labels FILE or --from-feedback" in err
    code, out, err = run(capsys, "fit", "--labels", tmp_path / "labels.jsonl", "--index", tmp_path / "ix", "--into", "../x")
    assert code == 2 and "inside the index folder" in err
    code, out, err = run(capsys, "feedback", "delete", "--index", tmp_path / "ix", "--match", "nope")
    assert code == 2 and "no match with id" in err
