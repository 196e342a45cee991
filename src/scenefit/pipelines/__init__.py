"""Ingest pipelines: catalog → images → embed → index, run locally or on a Ray cluster.

The local runner is the default; Ray is imported only when the Ray runner is used.
"""

from ._ingest import IngestConfig, LocalRunner, Runner, run_ingest
from ._report import ImageFailure, IngestReport
from ._ray import RayRunner, connect, read_catalog, read_shards, shards_root
from ._writer import WRITE_FETCH_DEADLINE_S, Encoders, IndexWriter, read_source

__all__ = ["WRITE_FETCH_DEADLINE_S", "Encoders", "ImageFailure", "IndexWriter", "IngestConfig", "IngestReport", "LocalRunner", "RayRunner", "Runner", "connect", "read_catalog",
           "read_shards", "read_source", "run_ingest", "shards_root"]
