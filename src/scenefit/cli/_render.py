"""Human-readable output for the CLI (Rich). JSON output bypasses this module."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..pipelines import IngestReport
from .._schema import MatchResult
from ..evaluate import METRICS, EvalReport
from ..learn import ADAPTER_FILE, FIT_FILE, LABEL_FREE_FILE, ROOM_MODEL_FILE, SHIPPED, FitResult, LabelFreeResult


class RichProgress:
    """The :class:`scenefit._progress.Progress` protocol drawn as Rich progress bars on stderr."""

    def __init__(self, console: Console):
        self.console = console

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        with Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=False,
        ) as bar:
            tid = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(tid, n)


def render_ingest(report: IngestReport, console: Console, *, show: int = 15) -> None:
    rejected = len(report.rejected)
    console.print(
        f"[bold]Rows read {report.read}[/] · indexed {report.indexed} · rejected {rejected}"
        f"  ({'adds up' if report.read == report.indexed + rejected else 'DOES NOT ADD UP'})"
    )
    console.print(
        f"Index: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed · vectors: {report.cached} rows from cache, "
        f"{report.embedded} distinct texts/images embedded"
    )
    if report.rejected:
        table = Table(title=f"Rejected rows ({rejected})", title_justify="left")
        for col in ("row", "id", "reason"):
            table.add_column(col)
        for e in report.rejected[:show]:
            table.add_row(str(e.row), Text(e.id or "—"), Text(e.reason))
        console.print(table)
        if rejected > show:
            console.print(f"… and {rejected - show} more in the report")
    if report.image_failures:
        n = len(report.image_failures)
        console.print(f"[yellow]{n} image(s) failed; those products were embedded from text alone:[/]")
        for reason, count in Counter(f.error for f in report.image_failures).most_common(5):
            console.print(Text(f"  {count} × {reason}"))
    if report.further_images:
        console.print(f"Further photos: {report.further_images_ok} of {report.further_images} used")
        for reason, count in Counter(f.error for f in report.further_image_failures).most_common(5):
            console.print(Text(f"  {count} × {reason}"))
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings_s.items())
    console.print(f"Stages: {timings}")
    console.print(Text(f"Report: {report.report_path}"))


def _dist(d: dict[str, float], n: int = 3) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:n])


def render_match(result: MatchResult, console: Console) -> None:
    s = result.scene
    guess = " [dim](zero-shot guess: no room model fitted)[/]" if s.room_source == "zero-shot" else ""
    console.print(f"[bold]Room[/]    {_dist(s.room_type)}{guess}")
    console.print(f"[bold]Style[/]   {_dist(s.style)}")
    console.print(f"[bold]Palette[/] {_dist(s.palette)}")
    swatches = Text("Colours ", style="bold")
    for c in s.colours:
        swatches.append("██", style=c.hex)
        swatches.append(f" {c.name} {c.share:.0%}  ")  # Text.append never parses markup
    console.print(swatches)
    if s.context:
        console.print(Text.assemble(("Context ", "bold"), s.context))
    table = Table(show_lines=False)
    for col, kw in (("#", {"justify": "right"}), ("score", {"justify": "right"}), ("sku", {}),
                    ("description", {}), ("category", {}), ("why", {})):
        table.add_column(col, **kw)
    for r in result.recommendations:
        # Catalog text goes in as Text, never as markup: "[/]" in a description is data.
        table.add_row(str(r.rank), f"{r.score:.2f}", Text(r.sku_id), Text(r.description),
                      Text(r.category or "—"), Text(r.reason))
    console.print(table)
    if not result.recommendations:
        console.print("[yellow]No product passed the filters.[/]")
    console.print(Text(f"model {result.model.id} · index {result.index.count} products", style="dim"))


def render_eval(report: EvalReport, console: Console) -> None:
    k = report.k
    info = report.info
    products, model, setup = (info.products, info.model, info.scenefit) if info is not None else ("?",) * 3
    console.print(Text(f"{report.n_scenes} scenes · {products} products · model {model} · scenefit: {setup}"))
    if report.relevant_missing:
        console.print(Text(f"{report.relevant_missing} labelled products are not in the index "
                           "(rejected or absent) and cannot be found", style="yellow"))
    table = Table(title=f"Ranking @{k} (mean over scenes)", title_justify="left")
    table.add_column("method")
    for m in METRICS:
        table.add_column(f"{m.replace('_', ' ')}@{k}", justify="right")
    for name, figures in report.methods.items():
        table.add_row(name, *(f"{figures.overall[m]:.4f}" for m in METRICS))
    console.print(table)

    rooms = sorted({r for f in report.methods.values() for r in f.by_room})
    by_room = Table(title=f"Recall@{k} by room type", title_justify="left")
    by_room.add_column("room type")
    for name in report.methods:
        by_room.add_column(name, justify="right")
    by_room.add_column("room accuracy", justify="right")
    acc = report.room_accuracy.by_room
    for room in rooms:
        by_room.add_row(room, *(f"{f.recall_in(room):.4f}" for f in report.methods.values()),
                        f"{acc[room]:.2f}" if room in acc else "—")
    console.print(by_room)
    overall = report.room_accuracy.overall
    console.print(Text(f"Room-type accuracy: {overall:.3f} over {report.room_accuracy.n} scenes"
                       if overall is not None else "Room-type accuracy: no labelled room types"))
    if report.confusion:
        preds = sorted({p for row in report.confusion.values() for p in row})
        conf = Table(title="Room-type confusion (rows: labelled, columns: predicted)", title_justify="left")
        conf.add_column("")
        for p in preds:
            conf.add_column(p, justify="right")
        for true, row in report.confusion.items():
            conf.add_row(true, *(str(row.get(p, "")) for p in preds))
        console.print(conf)


def render_adapt(result: LabelFreeResult, index_dir, console: Console) -> None:
    d = result.adapter.details
    where = "the shipped room photo" if d.get("background_source") == SHIPPED else f"{result.backgrounds} room photos"
    console.print(Text(f"Label-free appearance adapter: {result.composites} composites of {result.products} products "
                       f"pasted into {where}, --regions {result.adapter.regions}, fitted in {result.seconds:.0f} s"))
    console.print(Text(f"Saved {LABEL_FREE_FILE} in {index_dir}; match, eval and serve use it on --regions "
                       f"{result.adapter.regions} (a labelled `scenefit fit` starts from it)."))


def render_fit(result: FitResult, index_dir, console: Console) -> None:
    fitted, room_model, adapter = result.ranking, result.room_model, result.adapter
    k = fitted.k
    if adapter is not None:
        console.print(Text(f"Appearance adapter: fitted on {adapter.n_scenes} scenes ({adapter.steps} steps)"))
    weights = ", ".join(f"{n} {v:.2f}" for n, v in fitted.weights.model_dump().items() if v)
    console.print(Text(f"Fitted on {fitted.n_scenes} scenes: {weights}; MMR diversity {fitted.diversity:g}"))
    table = Table(title=f"Recall@{k}", title_justify="left")
    for col in ("default weights", f"fitted, {fitted.cv_folds}-fold CV (held out)", "fitted, all scenes (optimistic)"):
        table.add_column(col, justify="right")
    cv = "—" if fitted.cv_recall is None else f"{fitted.cv_recall:.4f}"
    table.add_row(f"{fitted.default_recall:.4f}", cv, f"{fitted.train_recall:.4f}")
    console.print(table)
    if adapter is not None:
        console.print(Text("The adapter was fitted on all these scenes, so the CV column is optimistic too; "
                           "`scenefit eval --cv N` fits it on held-out folds.", style="dim"))
    if room_model is not None:
        console.print(Text(
            f"Room-type model: {len(room_model.classes)} room types from {room_model.n_scenes} scenes, "
            f"accuracy {room_model.cv_accuracy:.3f} ({fitted.cv_folds}-fold CV)"))
    saved = ", ".join([FIT_FILE] + ([ROOM_MODEL_FILE] if room_model is not None else [])
                      + ([ADAPTER_FILE] if adapter is not None else []))
    console.print(Text(f"Saved {saved} in {index_dir}; match and eval on this index now use them."))
