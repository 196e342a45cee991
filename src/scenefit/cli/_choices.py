"""The command line's fixed choices, as Enums so that Typer checks them and ``--help`` lists them.

Each is built from the Literal type of the config field it fills, so the values are declared
once, in the model that validates them.
"""

from __future__ import annotations

from enum import Enum
from typing import get_args

from pydantic import BaseModel

from ..embed import EncoderConfig
from ..index import AnnConfig
from ..pipelines import IngestConfig
from ..scene import SceneConfig


def _choices(name: str, model: type[BaseModel], field: str) -> type[Enum]:
    values = get_args(model.model_fields[field].annotation)
    if not values or not all(isinstance(v, str) for v in values):
        raise TypeError(f"{model.__name__}.{field} is not a Literal of strings")
    return Enum(name, [(v, v) for v in values], type=str)


Encoder = _choices("Encoder", EncoderConfig, "backend")
Regions = _choices("Regions", SceneConfig, "regions")
IndexType = _choices("IndexType", AnnConfig, "kind")
Runner = _choices("Runner", IngestConfig, "runner")

__all__ = ["Encoder", "IndexType", "Regions", "Runner"]
