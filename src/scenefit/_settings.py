"""Settings read from ``SCENEFIT_*`` environment variables, declared once.

The CLI and the HTTP service both read them here; everything else receives typed values.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Mapping

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from ._errors import ConfigError
from .embed import Runtime

PREFIX = "SCENEFIT_"


class Settings(BaseModel):
    database_url: str | None = Field(
        None, description="PostgreSQL URL for product metadata of new indexes, and of indexes "
        "built with one (several serving machines share it); unset: SQLite in the index folder.")
    redis_url: str | None = Field(
        None, description="Redis URL for the scene-embedding cache shared by serving processes; "
        "unset: an in-process LRU.")
    api_key: SecretStr | None = Field(
        None, description="Bearer key required by write endpoints; unset: writes are disabled.")
    read_api_key: SecretStr | None = Field(
        None, description="Bearer key required by read endpoints too (match, products); unset: open.")
    max_upload_mb: float = Field(15, gt=0, description="Largest request body (upload), in MB.")
    url_timeout_s: float = Field(10, gt=0, description="Total time allowed to fetch an image_url.")
    url_allow_networks: tuple[str, ...] = Field(
        (), description="Comma-separated networks image_url may reach although not public "
        "(e.g. an internal image host); by default only public addresses.")
    runtime: Runtime | None = Field(
        None, description="Run the offline encoder with torch, onnx (ONNX Runtime) or onnx-int8; unset: as the index records.")
    scene_cache_size: int = Field(256, ge=0, description="Scenes kept by the in-process cache.")
    match_concurrency: int = Field(
        2, ge=1, le=64, description="Matches computed at once per process; more wait their turn. "
        "The model already uses every core for one image: more in parallel only adds memory.")
    write_fetch_timeout_s: float = Field(
        15, gt=0, description="Total time a product write (PUT, batch) may spend downloading its "
        "images; a product whose image is not in by then is written text-only.")
    match_queue: int = Field(
        8, ge=0, le=1024, description="Matches allowed to wait beyond those computing; past that a "
        "match is refused at once with 503 and Retry-After, before its upload is read.")
    upload_timeout_s: float = Field(
        30, gt=0, description="Time a match's request body may take to arrive; a slower one is "
        "refused with 408, so slow clients cannot hold the match queue's places for long.")

    @field_validator("url_allow_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:  # refused at start-up, not on the first request that needs it
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (e.g. 10.1.0.0/16)") from None
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = environ.get(PREFIX + name.upper())
            if raw is None or raw.strip() == "":
                continue
            values[name] = tuple(p.strip() for p in raw.split(",") if p.strip()) \
                if name == "url_allow_networks" else raw.strip()
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(f"{PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}") from None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
