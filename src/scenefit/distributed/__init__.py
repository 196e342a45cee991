"""Scale-out engines: ingest on a Ray cluster. Ray is imported only when used."""

from ._ray import RayRunner, connect, read_catalog, read_shards, shards_root

__all__ = ["RayRunner", "connect", "read_catalog", "read_shards", "shards_root"]
