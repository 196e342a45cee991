"""The ``scenefit`` command line: a thin layer over :class:`scenefit.Engine`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from pydantic import ValidationError
from rich.text import Text

from .._errors import ConfigError, ScenefitError
from ..embed import EncoderConfig, Runtime
from ..images import FetchConfig
from ..index import AnnConfig
from ..learn import LabelFreeConfig
from ..pipelines import IngestConfig
from ._choices import Encoder, IndexType, Regions, Runner
from ._common import _DEFAULT, _FETCH, _engine, _help, _index_folder, _log, _runtime, err, out
from ._feedback import experiments_app, feedback_app

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Recommend catalog products that fit a photographed scene.",
)
app.add_typer(feedback_app, name="feedback")
app.add_typer(experiments_app, name="experiments")


EncoderOpt = typer.Option(
    None, "--encoder", help=_help(EncoderConfig, "backend") + " Default: the index's encoder, or auto for a new index.",
)
ClipModelOpt = typer.Option(_DEFAULT.clip_model, "--clip-model", help=_help(EncoderConfig, "clip_model"))


RegionsOpt = typer.Option(
    None, "--regions", help="How product photos are matched against the scene: dense (feature-map windows "
    "of one higher-resolution pass: finer image-to-image matching) or crops (a shorter scene encoding); "
    "docs/quality.md and docs/performance.md measure both. Default: the regions the index's appearance "
    "adapter was fitted on, else dense (crops for an encoder without a dense feature map).")
StoreOpt = typer.Option(
    None, "--store", help="Keep a new index's vectors in Milvus: milvus://HOST:PORT/COLLECTION, or a "
    "Milvus Lite file (FILE.db). Default: FAISS files in the index folder. Recorded in the index.")
RuntimeOpt = typer.Option(None, "--runtime", help=_help(EncoderConfig, "runtime") + " Default: $SCENEFIT_RUNTIME, else onnx (onnx-int8 for an index built with it).")
AllowShrinkOpt = typer.Option(False, "--allow-shrink", help=_help(IngestConfig, "allow_shrink"))


def _scene(regions: Optional[Regions]):
    from ..scene import SceneConfig

    if regions is None:
        return None  # the engine follows the fitted adapter
    return SceneConfig(regions=regions.value)


def _runner(runner: Optional[Runner], engine_alias: Optional[Runner]) -> str:
    """--runner, or its deprecated name --engine (which still works, and says so)."""
    if engine_alias is not None:
        err.print("warning: --engine is deprecated; use --runner (same values)", style="yellow", soft_wrap=True)
        if runner is not None and runner != engine_alias:
            raise ConfigError(f"--runner {runner.value} and --engine {engine_alias.value} disagree (--engine is "
                              "the deprecated name of --runner: give only --runner)")
    chosen = runner or engine_alias
    return chosen.value if chosen is not None else IngestConfig.model_fields["runner"].default


@app.command()
def ingest(
    catalog: str = typer.Argument(..., help="Catalog file: .csv, .tsv, .jsonl or .parquet (with --runner ray, "
                                  "also any URI Ray reads, e.g. s3://bucket/catalog.parquet)."),
    index: Path = typer.Option(..., "--index", "-i", help="Index folder (created if missing)."),
    encoder: Optional[Encoder] = EncoderOpt,
    clip_model: str = ClipModelOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="Start a new index (e.g. with another encoder)."),
    keep_missing: bool = typer.Option(False, "--keep-missing", help="Keep index products absent from this catalog."),
    allow_shrink: bool = AllowShrinkOpt,
    concurrency: int = typer.Option(_FETCH.concurrency, help=_help(FetchConfig, "concurrency")),
    timeout: float = typer.Option(_FETCH.timeout_s, help=_help(FetchConfig, "timeout_s")),
    index_type: Optional[IndexType] = typer.Option(
        None, "--index-type", help=f"auto: exact up to {AnnConfig().flat_max:,} products, IVF above. "
        "Default: as recorded in the index (auto for a new one)."),
    nprobe: Optional[int] = typer.Option(None, "--nprobe", min=1, help=_help(AnnConfig, "nprobe")),
    runtime: Optional[Runtime] = RuntimeOpt,
    store: Optional[str] = StoreOpt,
    runner: Optional[Runner] = typer.Option(
        None, "--runner", help=_help(IngestConfig, "runner") + " Default: local."),
    engine_alias: Optional[Runner] = typer.Option(None, "--engine", hidden=True, help="Deprecated name of --runner."),
    address: Optional[str] = typer.Option(None, "--address", help=_help(IngestConfig, "ray_address")),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON on stdout."),
):
    """Build or update an index from a catalog. Only new or changed rows are embedded."""
    from ._render import render_ingest

    ann = None
    if index_type is not None or nprobe is not None:
        ann = AnnConfig(kind=index_type.value if index_type is not None else "auto", nprobe=nprobe)
    engine = _engine(
        index, encoder, clip_model, **_runtime(runtime), vector_store=store,
        ingest=IngestConfig(sync=not keep_missing, allow_shrink=allow_shrink, ann=ann,
                            runner=_runner(runner, engine_alias),
                            ray_address=address),
        fetch=FetchConfig(concurrency=concurrency, timeout_s=timeout),
    )
    report = engine.ingest(catalog, rebuild=rebuild)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        render_ingest(report, err)


@app.command()
def match(
    scene: Path = typer.Argument(..., help="Scene photo (jpg, png, webp, …)."),
    index: Path = typer.Option(..., "--index", "-i", help="Index folder built by `scenefit ingest`."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Number of recommendations."),
    context: Optional[str] = typer.Option(None, "--context", "-c", help='Text that shifts the query, e.g. "gaming setup".'),
    category: List[str] = typer.Option([], "--category", help="Only this category (repeatable)."),
    where: List[str] = typer.Option([], "--where", help="COLUMN=VALUE on any catalog column (repeatable)."),
    price_min: Optional[float] = typer.Option(None, "--price-min", help="Lowest price (the catalog's price column)."),
    price_max: Optional[float] = typer.Option(None, "--price-max", help="Highest price (the catalog's price column)."),
    runtime: Optional[Runtime] = RuntimeOpt,
    regions: Optional[Regions] = RegionsOpt,
    encoder: Optional[Encoder] = EncoderOpt,
    clip_model: str = ClipModelOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON on stdout."),
):
    """Recommend the products that fit a scene photo."""
    from ..rank import Filters

    engine = _engine(index, encoder, clip_model, **_runtime(runtime), scene=_scene(regions))
    filters = Filters.parse(category, where, price_min=price_min, price_max=price_max)
    result = engine.match(scene, k=k, context=context, filters=filters)
    _print_match(result, as_json)


@app.command()
def demo(
    index: Path = typer.Option(Path(".scenefit/demo-index"), "--index", "-i", help="Where the demo index is kept."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Number of recommendations."),
    context: Optional[str] = typer.Option(None, "--context", "-c", help="Optional text context."),
    encoder: Encoder = typer.Option(
        Encoder("offline"), "--encoder",
        help="offline (default: no download, same picks everywhere), clip or auto.",
    ),
    clip_model: str = ClipModelOpt,
    allow_shrink: bool = AllowShrinkOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the match result as JSON on stdout."),
):
    """The bundled demo: ingest the seed catalog, then match the living-room photo."""
    from .._errors import InvalidIndexError
    from ._demo import demo_files
    from ._render import render_ingest

    catalog, photo = demo_files()
    engine = _engine(index, encoder, clip_model, ingest=IngestConfig(allow_shrink=allow_shrink))
    err.print(Text.assemble(("Ingesting ", "bold"), f"{catalog} → {index}"), soft_wrap=True)
    try:
        report = engine.ingest(catalog)
    except InvalidIndexError:  # another encoder, an older format, damaged: the demo's own index, start afresh
        report = engine.ingest(catalog, rebuild=True)
    render_ingest(report, err, show=5)
    err.print(Text.assemble(("\nMatching ", "bold"), str(photo)), soft_wrap=True)
    _print_match(engine.match(photo, k=k, context=context), as_json)


@app.command(name="eval")
def eval_(
    catalog: Path = typer.Option(..., "--catalog", help="Catalog file of the benchmark."),
    labels: Path = typer.Option(..., "--labels", help="Labels JSONL: scene path, room_type, relevant ids."),
    index: Optional[Path] = typer.Option(
        None, "--index", "-i",
        help="Index folder to build or reuse; it is synced to --catalog, so don't point it at a "
        "production index (default: .scenefit/eval-<catalog name>)."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Cut-off K of the metrics."),
    cv: int = typer.Option(
        0, "--cv", min=0, max=20,
        help="N > 1: fit scenefit's appearance adapter, weights and room model on the other N−1 "
        "folds for each scene (held-out figures). 0: use what `scenefit fit` saved in the index, "
        "or the defaults."),
    adapt: bool = typer.Option(
        True, "--adapt/--no-adapt",
        help="With --cv: fit the appearance adapter on the other folds too (--no-adapt: without it)."),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the random baseline and of the --cv fold split: another split of the same "
        "scenes shows how much the held-out figures depend on it."),
    encoder: Optional[Encoder] = EncoderOpt,
    clip_model: str = ClipModelOpt,
    runtime: Optional[Runtime] = RuntimeOpt,
    store: Optional[str] = StoreOpt,
    regions: Optional[Regions] = RegionsOpt,
    allow_shrink: bool = AllowShrinkOpt,
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Write every figure and per-scene results here, and a PNG chart beside it."),
):
    """Measure recommendation quality on labelled scenes, against random and plain-cosine baselines."""
    from ..evaluate import write_chart
    from ._render import render_eval

    index = index or Path(".scenefit") / f"eval-{catalog.stem}"
    engine = _engine(index, encoder, clip_model, **_runtime(runtime), vector_store=store, scene=_scene(regions),
                     ingest=IngestConfig(allow_shrink=allow_shrink))
    report = engine.evaluate(catalog, labels, k=k, cv=cv, seed=seed, adapt=adapt)
    render_eval(report, out)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), "utf-8")
        chart = write_chart(report, json_out.with_suffix(".png"))
        err.print(Text(f"Wrote {json_out} and {chart}"), soft_wrap=True)


@app.command()
def fit(
    catalog: Optional[Path] = typer.Option(
        None, "--catalog", help="Catalog file the labels refer to (ingested first); default: the index as it is."),
    labels: Optional[Path] = typer.Option(
        None, "--labels", help="Labels JSONL: scene path, room_type, relevant (and irrelevant) ids."),
    from_feedback: bool = typer.Option(
        False, "--from-feedback", help="Fit on the feedback the service recorded (exported to "
        "INDEX/feedback/labels.jsonl first) instead of --labels."),
    index: Path = typer.Option(..., "--index", "-i", help="Index folder; the fitted weights are saved in it."),
    into: Optional[str] = typer.Option(
        None, "--into", help="Save in this subfolder of the index folder instead (e.g. fits/feedback), for "
        "an experiment variant to rank with; the index's own fit is left as it is."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Fit for Recall@K."),
    adapt: bool = typer.Option(
        True, "--adapt/--no-adapt",
        help="Fit the appearance adapter (product photos vs scene regions); --no-adapt removes one."),
    encoder: Optional[Encoder] = EncoderOpt,
    clip_model: str = ClipModelOpt,
    regions: Optional[Regions] = RegionsOpt,
):
    """Fit on your labelled scenes and save in the index: the appearance adapter, the ranking
    weights and the room-type model (the last two cross-validated)."""
    from ._render import render_fit

    if from_feedback == (labels is not None):
        raise ConfigError("give --labels FILE or --from-feedback")
    engine = _engine(index, encoder, clip_model, scene=_scene(regions))
    if from_feedback:
        exported = engine.feedback.export(index / "feedback" / "labels.jsonl")
        err.print(Text(f"Exported {exported.scenes} scenes with {exported.relevant} relevant and "
                       f"{exported.irrelevant} irrelevant products to {exported.labels}"), soft_wrap=True)
        labels = exported.labels
    render_fit(engine.fit(catalog, labels, k=k, adapt=adapt, into=into), index / into if into else index, out)


@app.command()
def adapt(
    index: Path = typer.Option(..., "--index", "-i", help="Index folder built by `scenefit ingest` from a catalog with photos."),
    scenes: Optional[Path] = typer.Option(
        None, "--scenes", help="Folder of your own room photos, no labels needed, to paste products into "
        "(default: the room photo that ships with scenefit). More and more varied rooms fit better."),
    composites: int = typer.Option(
        LabelFreeConfig.composites, "--composites", min=1, max=100_000,
        help="Synthetic scenes to make (each pastes a few product photos into a room photo)."),
    max_minutes: Optional[float] = typer.Option(
        None, "--max-minutes", min=0.1, help="Stop making composites after this long; the fit follows."),
    seed: int = typer.Option(0, "--seed", help="Seed of the composites and the fit."),
    regions: Optional[Regions] = typer.Option(
        None, "--regions", help="The scene regions to fit for (match then uses them): crops or dense. "
        "Default: dense where the encoder has a dense appearance space, else crops."),
    runtime: Optional[Runtime] = RuntimeOpt,
    json_out: bool = typer.Option(False, "--json", help="Print how it was fitted as JSON."),
):
    """Fit the appearance adapter without labelled scenes: product photos cut out of their white
    backgrounds and pasted into room photos teach it how products look inside rooms."""
    from ._render import render_adapt

    config = LabelFreeConfig(composites=composites, seed=seed,
                             max_seconds=max_minutes * 60 if max_minutes is not None else None)
    engine = _engine(index, None, _DEFAULT.clip_model, **_runtime(runtime))
    result = engine.adapt(scenes, regions=regions.value if regions is not None else None, config=config)
    if json_out:
        print(json.dumps(result.summary(), indent=2))
    else:
        render_adapt(result, index, out)


def _print_match(result, as_json: bool) -> None:
    from ._render import render_match

    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        render_match(result, out)


@app.command()
def bench(
    smoke: bool = typer.Option(False, "--smoke", help="A quick, small run (what CI runs): checks the suite, not the figures."),
    out: Path = typer.Option(Path("build/bench"), "--out", help="Folder for bench.json and bench.md."),
    work: Path = typer.Option(Path(".scenefit/bench"), "--work", help="Where synthetic indexes are built (kept between runs)."),
    real_index: Optional[Path] = typer.Option(
        None, "--real-index", help="Index whose product vectors the synthetic catalogs are sampled around "
        "(default: the seed catalog, embedded on first use)."),
    scales: Optional[str] = typer.Option(None, "--scales", help="Catalog sizes for search, e.g. 10000,100000,1000000."),
    only: Optional[str] = typer.Option(None, "--only", help="Run only these of search,match,memory,ingest,scaleout; "
                                       "the rest is kept from the previous report."),
):
    """Benchmark search, match, memory, cold start and ingestion; write JSON and a table."""
    from ..bench import BenchConfig, run_suite

    kw = {"out": out, "work": work, "real_index": real_index}
    cfg = BenchConfig.smoke_config(**kw) if smoke else BenchConfig(**kw)
    if scales:
        try:
            cfg.scales = [int(s.replace("_", "")) for s in scales.split(",") if s.strip()]
        except ValueError:
            from .._errors import ConfigError

            raise ConfigError(f"--scales: {scales!r} is not a comma-separated list of sizes") from None
    if only:
        from ..bench import SECTIONS

        chosen = tuple(x.strip() for x in only.split(",") if x.strip())
        if not chosen or set(chosen) - set(SECTIONS):
            from .._errors import ConfigError

            raise ConfigError(f"--only: choose from {','.join(SECTIONS)}")
        cfg.sections = chosen
    run_suite(cfg, log=_log)
    out_md = out / ("bench-smoke.md" if smoke else "bench.md")
    print(out_md.read_text())


@app.command()
def serve(
    index: Path = typer.Option(..., "--index", "-i", help="Index folder built by `scenefit ingest`."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes; each loads the model and the index, and its model gets an equal "
                               "share of the cores (SCENEFIT_THREADS overrides)."),
    runtime: Optional[Runtime] = RuntimeOpt,
):
    """Serve the HTTP API and the web page (OpenAPI docs at /docs).

    Settings come from SCENEFIT_* environment variables: SCENEFIT_API_KEY (writes),
    SCENEFIT_READ_API_KEY, SCENEFIT_DATABASE_URL, SCENEFIT_REDIS_URL, SCENEFIT_MAX_UPLOAD_MB.
    """
    from .._settings import Settings
    from ..api import run_server
    from ..index import VectorIndex

    if runtime is not None:
        os.environ["SCENEFIT_RUNTIME"] = runtime.value  # the workers read their settings from the environment
    settings = Settings.from_env()  # bad values fail here, before any process starts
    if not VectorIndex.exists(_index_folder(index)):
        from .._errors import InvalidIndexError

        raise InvalidIndexError(f"{index}: not a scenefit index; build one with `scenefit ingest CATALOG --index {index}`")
    if settings.api_key is None:
        _log("SCENEFIT_API_KEY is not set: write endpoints are disabled")
    run_server(index, host=host, port=port, workers=workers, log=_log)


def _error(message: str) -> None:
    # One line, whatever the width: soft_wrap stops Rich from folding it, and the newlines
    # some library messages carry are flattened.
    err.print(Text.assemble(("error:", "red"), " " + " ".join(message.split())), soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: the one place where errors become messages and exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except ScenefitError as exc:
        _error(str(exc))
        return 2
    except ValidationError as exc:  # an option value outside a config model's bounds
        first = exc.errors()[0]
        _error(f"invalid {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        return 2
    except OSError as exc:  # the file system said no (permissions, a file where a folder goes, …)
        _error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except typer.TyperException as exc:  # usage errors: typer prints them with a hint
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            _error(str(exc))
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
