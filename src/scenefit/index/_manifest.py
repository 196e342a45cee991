"""The index folder's manifest: what built the index, and which generation is current."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from .._atomic import atomic_write
from .._errors import InvalidIndexError
from ._ann import AnnConfig, IndexSpec

# 2: product metadata moved from products.parquet to a versioned database (see _records).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    model_id: str
    dim: int
    count: int = 0
    catalog_hash: str | None = Field(None, description="sha256 of the catalog file last ingested")
    generation: int = 0
    next_key: int = 0
    ann: IndexSpec = Field(default_factory=IndexSpec, description="The product vectors' FAISS index")
    appearance_ann: IndexSpec = Field(default_factory=IndexSpec, description="The appearance vectors' index")
    ann_config: AnnConfig = Field(default_factory=AnnConfig, description="How both were chosen (kept for later saves)")
    uid: str = Field(default_factory=lambda: uuid.uuid4().hex, description="Names this index's rows in a shared database")
    store: str = Field("sqlite", description="Where product metadata lives: sqlite (in the folder) or postgres")
    vector_store: str | None = Field(None, description="Where vectors live: None for FAISS files in the "
                                     "folder, else a Milvus URI (milvus://HOST:PORT/COLLECTION or FILE.db)")
    vector_collection: str | None = Field(None, description="The Milvus collection of this build "
                                          "(COLLECTION_<id>: a rebuild fills a new one, then drops the old)")
    appearance_dim: int = Field(0, description="Size of the image-to-image vectors; 0: none kept")
    encoder: dict[str, Any] = Field(default_factory=dict, description="EncoderConfig that rebuilds the model")
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    scenefit_version: str = ""

    @property
    def encoder_backend(self) -> str:
        """The encoder backend the index was built with (kept as the EncoderConfig's dump, so
        a manifest written by another release still loads)."""
        return str(self.encoder.get("backend", "unknown"))

    @classmethod
    def load(cls, folder: Path) -> "Manifest":
        path = folder / MANIFEST
        if not path.is_file():
            raise InvalidIndexError(f"{folder}: not a scenefit index (no {MANIFEST}); run `scenefit ingest` first")
        try:
            data = json.loads(path.read_text("utf-8"))
            manifest = cls.model_validate(data)
        except (json.JSONDecodeError, ValidationError, UnicodeDecodeError) as exc:
            raise InvalidIndexError(
                f"{path}: corrupt manifest ({str(exc).splitlines()[0]}); "
                "rebuild with `scenefit ingest CATALOG --index DIR --rebuild`"
            ) from None
        if manifest.format_version != FORMAT_VERSION:
            raise InvalidIndexError(
                f"{folder}: index format {manifest.format_version} is not supported by this "
                f"scenefit (format {FORMAT_VERSION}); rebuild it with `scenefit ingest --rebuild`"
            )
        return manifest

    def write_atomic(self, folder: Path) -> None:
        """Replace the manifest in one rename: readers see the old or the new, never half."""
        _remove_stale_tmp(folder)
        atomic_write(folder / MANIFEST, self.model_dump_json(indent=2))


def _remove_stale_tmp(folder: Path) -> None:
    """Remove the half-written manifests of writers that died mid-write (a kill, a power cut):
    their names start with the writer's pid (``scenefit._atomic``).

    Writers hold the folder's write lock, so no other writer should be writing one now; a
    file whose process is still alive is left alone all the same (a writer that took no lock)."""
    for tmp in folder.glob(f".{MANIFEST}.*.tmp"):
        pid = tmp.name[len(MANIFEST) + 2 : -len(".tmp")].split(".")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill there terminates the process: never probe with it
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process; not a pid at all
        return False
    except PermissionError:  # another user's process
        return True
    return True

