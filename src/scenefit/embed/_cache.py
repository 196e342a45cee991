"""Embedding cache: (model id, content hash) → vector, in SQLite; plus the image bytes that
could not be decoded, so every later ingest treats them the same way without decoding again.

Re-ingesting an unchanged catalog finds every vector here and embeds nothing; a changed row
has a new content hash and is the only one embedded again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, content_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bad_images (
    image_sha TEXT PRIMARY KEY,
    error TEXT NOT NULL
) WITHOUT ROWID;
"""


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: a second ingest process waits for the writer instead of failing at once.
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        hashes = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        # SQLite caps bound parameters; 900 stays under every build's limit.
        for start in range(0, len(hashes), 900):
            chunk = hashes[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT content_hash, dim, vector FROM embeddings "
                f"WHERE model_id = ? AND content_hash IN ({marks})",
                [model_id, *chunk],
            )
            for h, dim, blob in rows:
                # A damaged row (blob not dim float32s, even a torn byte count that
                # frombuffer would raise on) is a cache miss: the vector is recomputed.
                if not isinstance(blob, bytes) or len(blob) != 4 * dim:
                    continue
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (model_id, content_hash, dim, vector) "
                "VALUES (?, ?, ?, ?)",
                [
                    (model_id, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                    for h, v in items.items()
                ],
            )

    def bad_images(self, shas) -> dict[str, str]:
        """Which of these image hashes are known undecodable, with the error seen."""
        shas = list(dict.fromkeys(shas))
        out: dict[str, str] = {}
        for start in range(0, len(shas), 900):
            chunk = shas[start : start + 900]
            marks = ",".join("?" * len(chunk))
            out.update(self._db.execute(
                f"SELECT image_sha, error FROM bad_images WHERE image_sha IN ({marks})", chunk
            ).fetchall())
        return out

    def put_bad_image(self, sha: str, error: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO bad_images (image_sha, error) VALUES (?, ?)", (sha, error))

    def count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self._db.execute(
            "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)
        ).fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
