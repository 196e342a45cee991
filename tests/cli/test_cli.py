"""The command line: output contracts and one-line errors (never a traceback)."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from scenefit.cli import main
from scenefit.index import ProductRecord, VectorIndex


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert err.strip().splitlines()[-1] == lines[0], err  # the error is the last line, unwrapped
    for n in needles:
        assert n in lines[0], err


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, request):
    """Ingest the seed catalog once through the CLI (offline encoder)."""
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copy(request.config.rootpath / "examples" / "product-catalog.csv", tmp / "cat.csv")
    code = main(["ingest", str(tmp / "cat.csv"), "--index", str(tmp / "ix"), "--encoder", "offline", "--json"])
    assert code == 0
    return tmp / "ix"


def test_ingest_json_report_adds_up(seed_index, capsys):
    code, out, err = run(capsys, "ingest", seed_index.parent / "cat.csv", "--index", seed_index, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["read"] == report["indexed"] + report["rejected_count"] == 500
    assert report["embedded"] == 0  # second ingest: all from cache


def test_ingest_human_summary(seed_index, capsys):
    code, out, err = run(capsys, "ingest", seed_index.parent / "cat.csv", "--index", seed_index)
    assert code == 0
    text = " ".join(err.split())
    assert "Rows read 500 · indexed 500 · rejected 0 (adds up)" in text
    assert "499 image(s) failed" in text and "Report:" in text


def test_match_json_and_table(seed_index, capsys, request):
    photo = request.config.rootpath / "examples" / "living-room.webp"
    code, out, _ = run(capsys, "match", photo, "--index", seed_index, "-k", "4", "--json", "--context", "reading corner")
    assert code == 0
    data = json.loads(out)
    assert len(data["recommendations"]) == 4 and data["scene"]["context"] == "reading corner"
    code, out, _ = run(capsys, "match", photo, "--index", seed_index, "-k", "3")
    assert code == 0 and "Room" in out and "living room" in out
    code, out, _ = run(capsys, "match", photo, "--index", seed_index, "--category", "mirror", "--json")
    assert {r["category"] for r in json.loads(out)["recommendations"]} == {"mirror"}


def test_bad_scene_inputs(seed_index, capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    good = tmp_path / "x.png"
    Image.new("RGB", (64, 64), "red").save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:60])
    for path, needle in ((tmp_path / "missing.jpg", "not found"), (tmp_path / "notes.txt", "not an image"),
                         (tmp_path / "cut.png", "truncated")):
        code, _, err = run(capsys, "match", path, "--index", seed_index)
        assert_one_line_error(code, err, needle)


def test_bad_catalogs(capsys, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,sku_id,description,primary_image\n")
    (tmp_path / "cols.csv").write_text("id,description\n1,vase\n")
    cases = [
        (tmp_path / "empty.csv", "empty"),
        (tmp_path / "header.csv", "no data rows"),
        (tmp_path / "cols.csv", "missing required column(s) sku_id, primary_image"),
        (tmp_path / "absent.csv", "no such catalog file"),
    ]
    for path, needle in cases:
        code, _, err = run(capsys, "ingest", path, "--index", tmp_path / "ix")
        assert_one_line_error(code, err, needle)
    assert not (tmp_path / "ix").exists()  # nothing half-built


def test_index_errors(capsys, tmp_path, request):
    photo = request.config.rootpath / "examples" / "living-room.webp"
    code, _, err = run(capsys, "match", photo, "--index", tmp_path / "nowhere")
    assert_one_line_error(code, err, "no such index folder")
    # An index built with another model (a CLIP one), queried with the offline encoder.
    ix = VectorIndex.create(tmp_path / "clipix", model_id="clip:some/other-model", dim=512,
                            encoder={"backend": "clip", "clip_model": "some/other-model"})
    rec = ProductRecord("1", "s", "vase", None, "vase", "vase", [], [], "h", "none")
    ix.upsert([rec], np.eye(512, dtype=np.float32)[:1])
    ix.save()
    code, _, err = run(capsys, "match", photo, "--index", tmp_path / "clipix", "--encoder", "offline")
    assert_one_line_error(code, err, "built with model 'clip:some/other-model'")


def test_usage_errors_exit_nonzero(capsys):
    code, _, err = run(capsys, "match")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(capsys, "match", "x.jpg", "--index", "ix", "-k", "0")
    assert code == 2 and "Traceback" not in err


def test_out_of_range_option_is_one_line(capsys, tmp_path, request):
    catalog = request.config.rootpath / "examples" / "product-catalog.csv"
    code, _, err = run(capsys, "ingest", catalog, "--index", tmp_path / "ix", "--concurrency", "0")
    assert_one_line_error(code, err, "invalid concurrency")


def test_unknown_runtime_names_the_choices(capsys, seed_index, living_room):
    code, _, err = run(capsys, "match", living_room, "--index", seed_index, "--runtime", "tensorrt")
    assert code == 2 and "--runtime" in err and "'tensorrt' is not one of 'torch', 'onnx', 'onnx-int8'" in err


def test_regions_option(capsys, seed_index, living_room):
    code, _, err = run(capsys, "match", living_room, "--index", seed_index, "--regions", "pixels")
    assert code == 2 and "Traceback" not in err  # a usage error: Typer checks the choice
    assert "--regions" in err and "'pixels' is not one of 'crops', 'dense'" in err
    code, out, err = run(capsys, "match", living_room, "--index", seed_index, "--regions", "dense", "--json")
    assert code == 0, err
    assert len(json.loads(out)["recommendations"]) == 10


def test_error_text_with_brackets_is_printed_verbatim(capsys, tmp_path):
    (tmp_path / "[weird].csv").write_text("id\n1\n")
    code, _, err = run(capsys, "ingest", tmp_path / "[weird].csv", "--index", tmp_path / "ix")
    assert_one_line_error(code, err, "[weird].csv", "missing required column(s)")


def test_markup_like_catalog_text_is_shown_verbatim(capsys, tmp_path, write_image):
    (tmp_path / "c.csv").write_text(
        "id,sku_id,description,primary_image\n"
        "x[/],[bold]s,VASE [/] GOLD [red]ROUGE[/red],\nb,s2,VASE BLUE,\n"
    )
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "[red]ix", "--encoder", "offline")
    assert code == 0, err
    assert "[red]ix" in err  # the report path is printed as given
    photo = write_image(tmp_path / "room.png", (90, 80, 70), size=(128, 128))
    code, out, err = run(capsys, "match", photo, "--index", tmp_path / "[red]ix", "-k", "2")
    assert code == 0, err
    assert "VASE [/] GOLD [red]ROUGE[/red]" in out and "[bold]s" in out


def test_filesystem_errors_are_one_line(capsys, tmp_path):
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,VASE,\n")
    (tmp_path / "afile").write_text("x")
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "afile", "--encoder", "offline")
    assert_one_line_error(code, err, "afile")


def test_demo_runs_and_prints_ten_picks(capsys, tmp_path, monkeypatch, request):
    monkeypatch.chdir(request.config.rootpath)
    code, out, err = run(capsys, "demo", "--index", tmp_path / "demo", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["recommendations"]) == 10 and data["model"]["backend"] == "offline"
    assert "Rows read 500 · indexed 500 · rejected 0 (adds up)" in " ".join(err.split())


def test_catalog_with_no_valid_row_fails_and_leaves_no_index(capsys, tmp_path):
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,,\n,b,VASE,\n")
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix", "--encoder", "offline")
    assert_one_line_error(code, err, "no valid rows (all 2 rejected")
    assert not (tmp_path / "ix" / "manifest.json").exists()
    assert list((tmp_path / "ix" / "reports").glob("ingest-*.json"))


def test_eval_cross_validated(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    code, out, err = run(capsys, "eval", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2", "--cv", "2", "--json", tmp_path / "r.json")
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["scenefit"] == "2-fold cross-validated fit"
    assert data["methods"]["scenefit"]["overall"]["recall"] == 1.0  # colour appearance finds them
    assert data["room_accuracy"]["n"] == 8
    assert (data["regions"], data["seed"]) == ("crops", 0)
    assert not (tmp_path / "ix" / "ranking.json").exists()  # eval --cv saves nothing


def test_eval_seed_changes_the_fold_split(capsys, colour_benchmark, monkeypatch):
    import scenefit.learn._crossval as crossval

    splits = []
    real = crossval.rank_fold
    monkeypatch.setattr(crossval, "rank_fold",
                        lambda items, train, test, *a: (splits.append(sorted(test)), real(items, train, test, *a)))
    tmp_path = colour_benchmark
    for seed in ("0", "3"):
        code, out, err = run(capsys, "eval", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                             "--index", tmp_path / "ix", "-k", "2", "--cv", "2", "--seed", seed,
                             "--json", tmp_path / f"r{seed}.json")
        assert code == 0, err
        assert json.loads((tmp_path / f"r{seed}.json").read_text())["seed"] == int(seed)
    assert len(splits) == 4 and splits[:2] != splits[2:]  # two folds per run, split differently


def test_fit_on_a_small_labelled_set(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    code, out, err = run(capsys, "fit", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2")
    assert code == 0, err
    assert "Fitted on 8 scenes" in out and (tmp_path / "ix" / "ranking.json").is_file()
    assert (tmp_path / "ix" / "room-model.npz").is_file() and "Room-type model: 2 room types" in out
    fitted = json.loads((tmp_path / "ix" / "ranking.json").read_text())
    assert fitted["train_recall"] == 1.0 and abs(sum(fitted["weights"].values()) - 1) < 1e-9
    assert "Appearance adapter: fitted on 8 scenes" in out and "appearance-adapter.npz" in out
    from scenefit.learn import AppearanceAdapter

    adapter = AppearanceAdapter.load(tmp_path / "ix")
    assert adapter.regions == "crops" and adapter.model_id == fitted["model_id"] and adapter.n_scenes == 8
    # match uses it; refitting without it removes it
    code, out, err = run(capsys, "fit", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2", "--no-adapt")
    assert code == 0, err
    assert not (tmp_path / "ix" / "appearance-adapter.npz").exists() and "Appearance adapter" not in out


def test_eval_cross_validated_without_the_adapter(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    code, out, err = run(capsys, "eval", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2", "--cv", "2", "--no-adapt", "--json", tmp_path / "r.json")
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["scenefit"] == "2-fold cross-validated fit, no appearance adapter"
    assert data["methods"]["scenefit"]["overall"]["recall"] == 1.0


def test_fit_keeps_products_outside_the_labelled_catalog(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    extra = tmp_path / "extra.csv"
    extra.write_text("id,sku_id,description,primary_image\nkeep1,s,OAK CHEST,\n")
    assert run(capsys, "ingest", extra, "--index", tmp_path / "ix")[0] == 0
    code, _, err = run(capsys, "fit", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                       "--index", tmp_path / "ix", "-k", "2")
    assert code == 0, err
    from scenefit.index import VectorIndex

    assert VectorIndex.open(tmp_path / "ix").get("keep1") is not None


def test_fit_without_any_findable_product_is_a_clear_error(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    (tmp_path / "nolabels.jsonl").write_text('{"scene": "scene0.png", "room_type": "kitchen", "relevant": ["nope"]}\n')
    code, _, err = run(capsys, "fit", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "nolabels.jsonl",
                       "--index", tmp_path / "ix")
    assert_one_line_error(code, err, "nothing to fit on")


def test_match_price_range_needs_a_price_column(seed_index, capsys, request):
    photo = request.config.rootpath / "examples" / "living-room.webp"
    code, _, err = run(capsys, "match", photo, "--index", seed_index, "--price-max", "10")
    assert_one_line_error(code, err, "unknown filter field(s) price")


def test_serve_refuses_a_missing_index_and_bad_settings(capsys, tmp_path, seed_index, monkeypatch):
    code, _, err = run(capsys, "serve", "--index", tmp_path / "nothing")
    assert_one_line_error(code, err, "not a scenefit index")
    monkeypatch.setenv("SCENEFIT_MAX_UPLOAD_MB", "huge")
    code, _, err = run(capsys, "serve", "--index", seed_index)
    assert_one_line_error(code, err, "SCENEFIT_MAX_UPLOAD_MB")


def test_serve_starts_uvicorn_with_the_index(capsys, seed_index, monkeypatch):
    calls = {}
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: calls.update(args=a, **kw))
    monkeypatch.delenv("SCENEFIT_API_KEY", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    code, _, err = run(capsys, "serve", "--index", seed_index, "--port", "8123", "--workers", "2")
    assert code == 0 and "write endpoints are disabled" in err
    assert calls["port"] == 8123 and calls["workers"] == 2 and calls["factory"] is True
    import os

    assert os.environ["SCENEFIT_SERVE_INDEX"] == str(seed_index.resolve())
    assert os.path.isdir(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"))  # workers share metrics
    os.environ.pop("SCENEFIT_SERVE_INDEX")


def test_ingest_index_type_is_recorded(capsys, tmp_path, write_image):
    rows = "\n".join(f"p{i},s{i},RED CERAMIC VASE {i},"for i in range(120))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n" + rows + "\n")
    code, out, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix", "--encoder", "offline",
                         "--index-type", "ivf", "--nprobe", "2", "--json")
    assert code == 0, err
    manifest = VectorIndex.open(tmp_path / "ix").manifest
    assert manifest.ann.kind == "ivf" and manifest.ann.nprobe == 2 and manifest.ann_config.kind == "ivf"
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix", "--index-type", "hnsw")
    assert code == 2 and "'hnsw' is not one of 'auto', 'flat', 'ivf'" in err


# -- bad input a new user may give ------------------------------------------------------------

def _catalog(path, n, *, broken=None):
    rows = ["id,sku_id,description,primary_image"] + [f"p{i},s{i},RED CERAMIC VASE {i}," for i in range(n)]
    for i, text in (broken or {}).items():
        rows[i] = text
    path.write_text("\n".join(rows) + "\n")
    return path


def test_stray_quote_and_a_large_shrink_are_refused_and_leave_the_index(capsys, tmp_path):
    ix = tmp_path / "ix"
    code, _, err = run(capsys, "ingest", _catalog(tmp_path / "c.csv", 200), "--index", ix, "--encoder", "offline")
    assert code == 0, err
    generation = VectorIndex.open(ix).manifest.generation
    # An unclosed quote in row 2 that runs to the end of the file: the whole file is refused.
    code, _, err = run(capsys, "ingest", _catalog(tmp_path / "eof.csv", 200, broken={2: 'p1,s1,"GOLD VASE,'}),
                       "--index", ix)
    assert_one_line_error(code, err, "eof.csv: a quoted field opened on line 3 runs to the end of the file")
    # Closed again by a 10" further down: the row is rejected, and the sync that would drop
    # the rows it swallowed is refused.
    closed = _catalog(tmp_path / "closed.csv", 200, broken={2: 'p1,s1,"GOLD VASE,', 80: 'p79,s79,10" VASE,'})
    code, _, err = run(capsys, "ingest", closed, "--index", ix)
    assert_one_line_error(code, err, "would remove 79 of the index's 200 products", "--allow-shrink", "--keep-missing")
    index = VectorIndex.open(ix)
    assert index.manifest.generation == generation and len(index) == 200
    code, out, err = run(capsys, "ingest", closed, "--index", ix, "--keep-missing", "--json")
    assert code == 0 and json.loads(out)["removed"] == 0 and len(VectorIndex.open(ix)) == 200
    code, out, err = run(capsys, "ingest", closed, "--index", ix, "--allow-shrink", "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"] == 79 and report["read"] == report["indexed"] + report["rejected_count"]
    assert len(VectorIndex.open(ix)) == 121


@pytest.mark.parametrize("command", ["eval", "demo"])
def test_commands_that_sync_take_allow_shrink(capsys, tmp_path, monkeypatch, command):
    import scenefit.engine as engine_mod
    from scenefit import CatalogError

    seen = []

    def fake(self, *a, **kw):
        seen.append(self.ingest_config.allow_shrink)
        raise CatalogError("stop here")

    monkeypatch.setattr(engine_mod.Engine, "evaluate" if command == "eval" else "ingest", fake)
    args = ["--catalog", "c.csv", "--labels", "l.jsonl"] if command == "eval" else []
    for flag in ([], ["--allow-shrink"]):
        code, _, err = run(capsys, command, *args, "--index", tmp_path / "ix", "--encoder", "offline", *flag)
        assert_one_line_error(code, err, "stop here")
    assert seen == [False, True]


def test_a_file_given_as_the_index_folder(capsys, tmp_path, request):
    (tmp_path / "notes.txt").write_text("not an index")
    photo = request.config.rootpath / "examples" / "living-room.webp"
    for argv in (["ingest", _catalog(tmp_path / "c.csv", 3)], ["match", photo], ["serve"]):
        code, _, err = run(capsys, *argv, "--index", tmp_path / "notes.txt")
        assert_one_line_error(code, err, "notes.txt: that is a file; an index is a folder")
    assert (tmp_path / "notes.txt").read_text() == "not an index"


def test_all_malformed_jsonl_catalog(capsys, tmp_path):
    (tmp_path / "c.jsonl").write_text("id,sku_id,description,primary_image\n1,s,VASE,\n")
    code, _, err = run(capsys, "ingest", tmp_path / "c.jsonl", "--index", tmp_path / "ix")
    assert_one_line_error(code, err, "no line is a JSON object", "(line 1: invalid JSON")
    assert "missing required column" not in err


# -- fixed choices ------------------------------------------------------------------------------

@pytest.mark.parametrize("command, option, values", [
    ("match", "--regions", "crops|dense"), ("match", "--encoder", "auto|clip|offline"),
    ("ingest", "--index-type", "auto|flat|ivf"), ("ingest", "--runner", "local|ray"),
    ("eval", "--regions", "crops|dense"), ("fit", "--regions", "crops|dense"),
])
def test_help_lists_the_choices(capsys, monkeypatch, command, option, values):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    line = next(line for line in out.splitlines() if option in line.split()[:4])
    assert values in line, line


def test_engine_is_a_hidden_deprecated_name_of_runner(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "200")
    _, out, _ = run(capsys, "ingest", "--help")
    assert "--runner" in out and "--engine" not in out
    code, _, err = run(capsys, "ingest", tmp_path / "missing.csv", "--index", tmp_path / "ix", "--encoder", "offline",
                       "--engine", "local")
    assert "--engine is deprecated; use --runner" in err
    assert_one_line_error(code, err, "missing.csv")  # and then it runs as --runner local would
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix", "--engine", "dask")
    assert code == 2 and "'dask' is not one of 'local', 'ray'" in err
    code, _, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix",
                       "--runner", "local", "--engine", "ray")
    assert_one_line_error(code, err, "--runner local and --engine ray disagree")


def test_choices_come_from_the_config_models():
    from typing import get_args

    from scenefit.cli._choices import Encoder, IndexType, Regions, Runner
    from scenefit.embed import EncoderConfig
    from scenefit.index import AnnConfig
    from scenefit.pipelines import IngestConfig
    from scenefit.scene import SceneConfig

    for enum, model, field in ((Encoder, EncoderConfig, "backend"), (Regions, SceneConfig, "regions"),
                               (IndexType, AnnConfig, "kind"), (Runner, IngestConfig, "runner")):
        assert [e.value for e in enum] == list(get_args(model.model_fields[field].annotation))
    assert IngestConfig(engine="ray").runner == "ray" == IngestConfig(runner="ray").engine  # the former name


def test_adapt_without_labels_then_eval_and_fit_start_from_it(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    rooms = tmp_path / "rooms"
    rooms.mkdir()
    for n in range(2):
        (rooms / f"scene{n}.png").write_bytes((tmp_path / f"scene{n}.png").read_bytes())
    code, out, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix")
    assert code == 0, err
    code, out, err = run(capsys, "adapt", "--index", tmp_path / "ix", "--scenes", rooms, "--composites", "4",
                         "--regions", "crops", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["source"] == "composites" and summary["regions"] == "crops"
    assert summary["composites"] == 4 and summary["backgrounds"] == 2 and summary["background_source"] == "user"
    assert (tmp_path / "ix" / "label-free-adapter.npz").exists()
    # eval without --cv scores it; with --cv the folds' adapters start from it
    code, out, err = run(capsys, "eval", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2", "--json", tmp_path / "lf.json")
    assert code == 0, err
    assert json.loads((tmp_path / "lf.json").read_text())["scenefit"] == "default weights, label-free adapter"
    code, out, err = run(capsys, "eval", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2", "--cv", "2", "--json", tmp_path / "cv.json")
    assert code == 0, err
    assert json.loads((tmp_path / "cv.json").read_text())["scenefit"] == \
        "2-fold cross-validated fit, adapter from the label-free one"
    # a match says its room types are zero-shot guesses while no room model is fitted
    code, out, err = run(capsys, "match", tmp_path / "scene0.png", "--index", tmp_path / "ix", "-k", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["scene"]["room_source"] == "zero-shot"
    code, out, err = run(capsys, "fit", "--catalog", tmp_path / "c.csv", "--labels", tmp_path / "labels.jsonl",
                         "--index", tmp_path / "ix", "-k", "2")
    assert code == 0, err
    from scenefit.learn import AppearanceAdapter

    assert AppearanceAdapter.load(tmp_path / "ix").source == "composites+labels"
    code, out, err = run(capsys, "match", tmp_path / "scene0.png", "--index", tmp_path / "ix", "-k", "2", "--json")
    assert json.loads(out)["scene"]["room_source"] == "fitted"


def test_adapt_errors_are_one_line(capsys, colour_benchmark):
    tmp_path = colour_benchmark
    code, out, err = run(capsys, "ingest", tmp_path / "c.csv", "--index", tmp_path / "ix")
    assert code == 0, err
    code, out, err = run(capsys, "adapt", "--index", tmp_path / "ix", "--scenes", tmp_path / "nowhere")
    assert_one_line_error(code, err, "--scenes", "not a folder")
    code, out, err = run(capsys, "adapt", "--index", tmp_path / "missing")
    assert code == 2 and "Traceback" not in err
