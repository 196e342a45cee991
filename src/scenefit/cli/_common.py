"""What every command shares: the consoles, building the engine, how log lines look."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.text import Text

from ..embed import EncoderConfig, Runtime
from ..images import FetchConfig
from ._choices import Encoder


def _console(stderr: bool) -> Console:
    # Rich falls back to 80 columns when not writing to a terminal (make, pipes, CI logs),
    # which folds the results table into an unreadable column; use $COLUMNS or 140 there.
    # The stream itself is not bound here: Rich looks up sys.stdout/stderr when it prints.
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "140"))
    return Console(stderr=stderr, width=width)


err = _console(stderr=True)
out = _console(stderr=False)

_DEFAULT = EncoderConfig()
_FETCH = FetchConfig()


def _help(model, field: str) -> str:
    """Option help taken from the config model, where it is declared once."""
    return model.model_fields[field].description or ""


def _index_folder(index: Path) -> Path:
    """--index names a folder; a file there would otherwise surface as an OS error, or as "not
    an index" with the advice to build one in the very place a folder cannot go."""
    if index.exists() and not index.is_dir():
        from .._errors import ConfigError

        raise ConfigError(f"--index {index}: that is a file; an index is a folder (give a new or an existing index folder)")
    return index


def _runtime(runtime: Optional[Runtime]) -> dict:
    return {} if runtime is None else {"runtime": runtime}


def _engine(index: Path, encoder: Optional[Encoder], clip_model: str, **kw):
    from .._settings import Settings
    from ..engine import Engine
    from ._render import RichProgress

    _index_folder(index)
    config = None
    if encoder is not None or clip_model != _DEFAULT.clip_model:
        config = EncoderConfig(backend=encoder.value if encoder is not None else "auto", clip_model=clip_model)
    settings = Settings.from_env()
    kw.setdefault("runtime", settings.runtime)
    return Engine(index, encoder=config, progress=RichProgress(err), log=_log,
                  database_url=settings.database_url, **kw)


def _log(message: str) -> None:
    err.print(Text(message, style="dim"), soft_wrap=True)
