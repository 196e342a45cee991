"""The one encoder a long-lived engine holds: built on first use, kept while the same config
is asked for (requested or as resolved: ``auto`` resolves to a backend), rebuilt otherwise.

``build`` is :func:`scenefit.embed.build_encoder` unless the caller gives another (tests give
a fake); ``runtime`` overrides the offline encoder's runtime of every config asked for.
"""

from __future__ import annotations

import threading
from typing import Callable

from ._base import Encoder
from ._capabilities import EncoderCapabilities
from ._registry import EncoderConfig
from ._runtime import Runtime

Build = Callable[[EncoderConfig], "tuple[Encoder, EncoderConfig, str]"]


class EncoderLoader:
    def __init__(self, build: Build, *, runtime: Runtime | None = None, log: Callable[[str], None] = print):
        self._build, self.runtime, self.log = build, runtime, log
        self._lock = threading.RLock()
        self.encoder: Encoder | None = None
        #: the config the encoder was built from, as resolved (what a new index records)
        self.resolved: EncoderConfig | None = None
        self._requested: EncoderConfig | None = None

    def load(self, config: EncoderConfig, why: str | None = None) -> Encoder:
        """The encoder for ``config`` (with this loader's runtime); ``why`` is logged when it
        is built (default: the registry's reason, e.g. why ``auto`` chose a backend)."""
        if self.runtime is not None:
            config = config.model_copy(update={"runtime": self.runtime})
        with self._lock:
            if self.encoder is None or config not in (self._requested, self.resolved):
                encoder, resolved, reason = self._build(config)
                self.log(f"encoder: {why or reason}")
                self.encoder, self.resolved, self._requested = encoder, resolved, config
            return self.encoder

    def load_recorded(self, recorded: dict) -> Encoder:
        """The encoder an index recorded in its manifest. A recorded ``torch`` runtime is run
        as ``onnx`` (the same vectors): torch runs queries only when this loader's runtime
        asks for it, so an index built under torch is served without importing torch."""
        config = EncoderConfig.model_validate(recorded)
        if config.runtime == Runtime.TORCH:
            config = config.model_copy(update={"runtime": Runtime.ONNX})
        return self.load(config, f"{config.backend}, as recorded in the index")

    def prepare(self) -> None:
        """Build ahead what the loaded encoder would build on its first query (exported
        graphs); nothing when none is loaded."""
        with self._lock:
            encoder = self.encoder
        if encoder is not None:
            EncoderCapabilities.of(encoder).prepare()

    def forget(self) -> None:
        with self._lock:
            self.encoder = self.resolved = self._requested = None
