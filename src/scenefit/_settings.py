"""Settings read from ``SCENEFIT_*`` environment variables, declared once (pydantic-settings).

The CLI and the HTTP service both read them here; everything else receives typed values.
``Settings.from_env()`` reads the environment; ``Settings(...)`` takes only the values given
(and the defaults), so a service built in code or a test never picks up the caller's shell.
"""

from __future__ import annotations

import ipaddress
import os
from contextvars import ContextVar
from typing import Annotated, Any, Mapping

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from ._errors import ConfigError
from .embed import Runtime
from .pipelines import WRITE_FETCH_DEADLINE_S

PREFIX = "SCENEFIT_"

# The environment Settings reads while from_env() builds one; None: no environment at all.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("scenefit_settings_environ", default=None)


class _Environment(EnvSettingsSource):
    """``SCENEFIT_*`` variables of a given mapping; a blank value means unset, values are stripped."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v.strip() for k, v in self._environ.items() if k.upper().startswith(PREFIX) and v.strip()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, case_sensitive=False, extra="ignore")

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
    url_allow_networks: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated networks image_url may reach although not public "
        "(e.g. an internal image host); by default only public addresses.")
    runtime: Runtime | None = Field(
        None, description="Run the offline encoder with onnx (ONNX Runtime), onnx-int8 or torch; unset: "
        "onnx, or onnx-int8 for an index built with it.")
    threads: int | None = Field(
        None, ge=1, le=256, description="Cores the model of each serving process may use; unset: all of "
        "them, or with several workers an equal share each.")
    scene_cache_size: int = Field(256, ge=0, description="Scenes kept by the in-process cache.")
    match_concurrency: int = Field(
        2, ge=1, le=64, description="Matches computed at once per process; more wait their turn. "
        "The model already uses every core for one image: more in parallel only adds memory.")
    write_fetch_timeout_s: float = Field(
        WRITE_FETCH_DEADLINE_S, gt=0, description="Total time a product write (PUT, batch) may spend downloading its "
        "images; a product whose image is not in by then is written text-only.")
    match_queue: int = Field(
        8, ge=0, le=1024, description="Matches allowed to wait beyond those computing; past that a "
        "match is refused at once with 503 and Retry-After, before its upload is read.")
    upload_timeout_s: float = Field(
        30, gt=0, description="Time a match's request body may take to arrive; a slower one is "
        "refused with 408, so slow clients cannot hold the match queue's places for long.")

    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated origins whose pages may call the API from the browser (e.g. "
        "https://shop.example.com: a storefront sending matches and feedback); unset: same origin only.")
    record_matches: bool = Field(
        True, description="Record every served match (scene photo, request, picks) in the feedback store, "
        "so that POST /v1/feedback can refer to it by match_id; off: results carry no match_id.")
    feedback_retention_days: float = Field(
        90, gt=0, description="Days a recorded match, its scene photo and its events are kept; older ones "
        "are deleted by the service (hourly) and by `scenefit feedback purge`.")
    feedback_per_minute: int = Field(
        120, ge=1, le=100_000, description="Feedback events one client address may send per minute "
        "(with a burst of as many); past that, 429 with Retry-After.")

    @field_validator("url_allow_networks", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

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
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   **_unused: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the values given and, inside from_env(), the SCENEFIT_* variables: no .env
        # files or secrets directories, which the service never documented.
        environ = _ENVIRON.get()
        return (init_settings,) if environ is None else (init_settings, _Environment(settings_cls, environ))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings of ``environ`` (default: the process environment); a bad value is a
        ConfigError that names its variable."""
        token = _ENVIRON.set(os.environ if environ is None else environ)
        try:
            return cls()
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(f"{PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}") from None
        finally:
            _ENVIRON.reset(token)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
