"""Which runtime runs the offline encoder's networks: declared once, here.

The CLI option, the settings, the encoder config, the engine and the benchmarks all take
their choices from :class:`Runtime`, so a new runtime is added in one place.
"""

from __future__ import annotations

from enum import StrEnum

from .._errors import ConfigError


class Runtime(StrEnum):
    """``torch``: eager PyTorch. ``onnx``: the same networks exported once into the user
    cache and run by ONNX Runtime (the same vectors to float precision, so the same model
    id). ``onnx-int8``: ``onnx`` with scene photos through an int8-quantised image network
    (approximately the same vectors; product vectors, and so indexes, are ``onnx``'s)."""

    TORCH = "torch"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"

    @classmethod
    def parse(cls, value: str, *, what: str = "runtime") -> Runtime:
        """``value`` as a Runtime; anything else is a ConfigError naming the choices."""
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(f"{what} must be one of {', '.join(cls)}, not {value!r}") from None
