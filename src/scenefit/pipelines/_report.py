"""The ingest report: what a sync read, indexed, rejected and could not fetch; printed by
the CLI and kept in the index folder (``reports/ingest-*.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .._atomic import atomic_write
from .._types import RowError


@dataclass
class ImageFailure:
    row: int
    id: str
    image: str
    error: str


@dataclass
class IngestReport:
    catalog: str
    index: str
    model_id: str
    read: int = 0
    indexed: int = 0
    rejected: list[RowError] = field(default_factory=list)
    image_failures: list[ImageFailure] = field(default_factory=list)
    further_images: int = 0  # photos in the indexed products' ``images`` lists
    further_images_ok: int = 0  # of them, those fetched and readable
    #: further photos that could not be used (their products keep their other photos)
    further_image_failures: list[ImageFailure] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0  # vectors computed (cache misses)
    cached: int = 0  # vectors found in the embedding cache
    timings_s: dict[str, float] = field(default_factory=dict)
    report_path: str | None = None
    runner: str = "local"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rejected_count"] = len(self.rejected)
        return d


def write_report(report: IngestReport, index_dir: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = index_dir / "reports" / f"ingest-{stamp}.json"
    return atomic_write(path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
