"""``scenefit feedback …`` and ``scenefit experiments …``: what the service recorded, as labels,
reports and upkeep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from ..feedback import CONFIDENCE
from ._common import _DEFAULT, _engine, err, out

feedback_app = typer.Typer(no_args_is_help=True, help="Shoppers' feedback recorded by `scenefit serve`: "
                                                      "export it as labels, delete it.")
experiments_app = typer.Typer(no_args_is_help=True, help="A/B experiments between fitted variants "
                                                         "(experiments.json in the index folder).")

IndexOpt = typer.Option(..., "--index", "-i", help="Index folder the service serves.")
SinceOpt = typer.Option(None, "--since", help="Only matches served at or after this UTC time (ISO 8601, e.g. 2026-12-01).")


@feedback_app.command("export")
def export(
    index: Path = IndexOpt,
    out_path: Path = typer.Option(..., "--out", "-o", help="Labels JSONL to write; the scene photos go to "
                                                           "the folder <name>-scenes beside it."),
    since: Optional[str] = SinceOpt,
    variant: Optional[str] = typer.Option(None, "--variant", help="Only matches served by this experiment variant."),
    passed_over: bool = typer.Option(
        False, "--passed-over/--no-passed-over",
        help="Also count as irrelevant the picks shoppers are expected, after position bias, to have looked "
             "at and left alone (see docs/feedback.md for what it measured)."),
):
    """Write the labels (relevant and irrelevant products per scene photo) that the recorded
    events give, in the format `scenefit fit` and `scenefit eval` read."""
    report = _engine(index, None, _DEFAULT.clip_model).feedback.export(out_path, since=since, variant=variant,
                                                                       passed_over=passed_over)
    left = f", {report.passed_over} of them passed over" if passed_over else ""
    err.print(Text(f"Wrote {report.scenes} scenes ({report.relevant} relevant and {report.irrelevant} irrelevant "
                   f"products{left}) from {report.matches} matches and {report.events} events to {report.labels}; "
                   f"photos in {report.scenes_dir}"), soft_wrap=True)


@feedback_app.command("purge")
def purge(
    index: Path = IndexOpt,
    older_than_days: Optional[float] = typer.Option(
        None, "--older-than-days", min=0, help="Default: SCENEFIT_FEEDBACK_RETENTION_DAYS."),
):
    """Delete recorded matches, their events and scene photos past the retention period (the
    service does this hourly by itself)."""
    from .._settings import Settings

    days = older_than_days if older_than_days is not None else Settings.from_env().feedback_retention_days
    purged = _engine(index, None, _DEFAULT.clip_model).feedback.purge(days)
    err.print(Text(f"Deleted {purged.matches} matches, {purged.events} events and {purged.scenes} scene photos "
                   f"older than {days:g} days"), soft_wrap=True)


@feedback_app.command("delete")
def delete(
    index: Path = IndexOpt,
    match_id: Optional[str] = typer.Option(None, "--match", help="A match_id: the match and its events."),
    photo: Optional[Path] = typer.Option(None, "--photo", help="A photo file: every match of that photo, its "
                                                              "events, and the stored copy."),
):
    """Delete what was recorded of one match, or of one scene photo (a shopper's request)."""
    from .._errors import ConfigError
    from ..scene import photo_digest

    if (match_id is None) == (photo is None):
        raise ConfigError("give --match ID or --photo FILE")
    loop = _engine(index, None, _DEFAULT.clip_model).feedback
    if match_id is not None:
        loop.delete_match(match_id)
        err.print(Text(f"Deleted match {match_id}"), soft_wrap=True)
    else:
        if not photo.is_file():
            raise ConfigError(f"--photo {photo}: no such file")
        n = loop.delete_photo(photo_digest(photo))
        err.print(Text(f"Deleted {n} matches of {photo} and its stored copy"), soft_wrap=True)


@experiments_app.command("report")
def report(
    index: Path = IndexOpt,
    k: int = typer.Option(10, "-k", min=1, max=100, help="Count events on products shown within the top K."),
    since: Optional[str] = SinceOpt,
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Per variant: matches, impressions, the share of matches with a click (CTR@k), an
    add-to-cart, a purchase, a dismiss, with confidence intervals; each variant against the control."""
    result = _engine(index, None, _DEFAULT.clip_model).feedback.report(k=k, since=since)
    if json_out:
        print(json.dumps(result.model_dump(), indent=2))
        return
    if not result.variants:
        err.print("No matches recorded yet" + (f" since {since}" if since else ""))
        return
    pct = lambda r: f"{100 * r.rate:.1f}% [{100 * r.low:.1f}–{100 * r.high:.1f}]"  # noqa: E731
    table = Table(title=f"Experiment, events within the top {k} ({CONFIDENCE:.0%} intervals)", title_justify="left")
    for col in ("variant", "matches", "impressions", f"CTR@{k}", "add to cart", "purchase", "dismiss"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for v in result.variants:
        table.add_row(v.name, str(v.matches), str(v.impressions), *(pct(v.rates[m]) for m in
                                                                    ("ctr", "add_to_cart", "purchase", "dismiss")))
    out.print(table)
    for c in result.comparisons:
        out.print(Text(f"{c.variant} vs {c.control}, {c.metric}: {100 * c.diff:+.1f} points "
                       f"[{100 * c.low:+.1f}, {100 * c.high:+.1f}], p = {c.p_value:.3g}: {c.verdict}"), soft_wrap=True)
