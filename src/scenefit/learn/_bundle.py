"""Everything ``scenefit fit`` saved in an index folder, loaded as one object.

What must stay true:

- a fitted file counts only under the encoder the index is built with: one fitted under
  another (the index was rebuilt since) is ignored, and the log says so, here and nowhere else;
- a bundle never changes after loading: a refit or a newer index generation gives a new
  bundle, which the engine swaps in whole, so a match never sees the weights of one fit with
  the adapter of another;
- a file unchanged since the previous bundle is not read again, and its model object is the
  same one (what was built on it, such as the scene analyser, stays valid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..rank import RankConfig
from ..scene import SceneConfig
from ._adapter import FILE as ADAPTER_FILE
from ._adapter import LABEL_FREE_FILE, AppearanceAdapter
from ._fit import FitResult
from ._ranking import FIT_FILE, FittedRanking
from ._room_model import FILE as ROOM_MODEL_FILE
from ._room_model import RoomModel

_LOADERS: dict[str, Callable[[Path], object]] = {
    FIT_FILE: FittedRanking.load, ADAPTER_FILE: AppearanceAdapter.load, ROOM_MODEL_FILE: RoomModel.load,
    LABEL_FREE_FILE: AppearanceAdapter.load_label_free,
}
_Stamp = tuple[int, int, int] | None  # a file's (inode, mtime_ns, size); None: no file


def _stamp(path: Path) -> _Stamp:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size  # an atomic rewrite always has a new inode


class FittedBundle:
    """The fitted ranking weights, appearance adapter and room model of one index folder that
    apply to its index (None where there is none that does)."""

    def __init__(self, ranking: FittedRanking | None = None, adapter: AppearanceAdapter | None = None,
                 room_model: RoomModel | None = None, *, label_free: AppearanceAdapter | None = None,
                 model_id: str | None = None, stamps: dict[str, _Stamp] | None = None,
                 loaded: dict[str, object] | None = None):
        #: ``adapter``: the labelled fit's, else the label-free one (``scenefit adapt``)
        self.ranking, self.adapter, self.room_model = ranking, adapter or label_free, room_model
        #: the label-free adapter, which a labelled fit starts from
        self.label_free = label_free
        self.model_id = model_id
        self._stamps = stamps or {}
        self._loaded = loaded or {}  # as read from each file, whether it applies or not
        self._for_regions: dict[str, AppearanceAdapter | None] = {}
        #: the ranking config of the fitted weights (the defaults without any)
        self.rank_config = (RankConfig(weights=ranking.weights, diversity=ranking.diversity)
                            if ranking is not None else RankConfig())
        #: the defaults, matching on the regions the adapter was fitted on: after ``fit
        #: --regions dense`` a plain match uses dense windows and the adapter
        self.scene_config = SceneConfig(**({"regions": self.adapter.regions} if self.adapter and self.adapter.regions else {}))

    @classmethod
    def load(cls, folder: str | Path, model_id: str | None, log: Callable[[str], None],
             previous: "FittedBundle | None" = None) -> "FittedBundle":
        """The fitted files of ``folder`` that were fitted under ``model_id``, the encoder of
        its index (None: there is no index, so nothing applies)."""
        folder = Path(folder)
        stamps: dict[str, _Stamp] = {}
        loaded: dict[str, object] = {}
        usable: dict[str, object] = {}
        for name, load in _LOADERS.items():
            stamps[name] = stamp = _stamp(folder / name)
            same = previous is not None and stamp is not None and previous._stamps.get(name) == stamp
            fitted = previous._loaded.get(name) if same else (load(folder) if stamp is not None else None)
            loaded[name] = fitted
            if fitted is None or model_id is None:
                continue
            if fitted.model_id != model_id:
                if not (same and previous.model_id == model_id):  # said when it was read
                    log(f"{name} not used: fitted under encoder {fitted.model_id or '(unrecorded)'}, "
                        f"the index is built with {model_id}; "
                        f"`scenefit {'adapt' if name == LABEL_FREE_FILE else 'fit'}` refits it")
                continue
            usable[name] = fitted
        return cls(usable.get(FIT_FILE), usable.get(ADAPTER_FILE), usable.get(ROOM_MODEL_FILE),
                   label_free=usable.get(LABEL_FREE_FILE), model_id=model_id, stamps=stamps, loaded=loaded)

    def is_current(self, folder: str | Path) -> bool:
        """Whether every fitted file of ``folder`` is the one this bundle was loaded from
        (or still absent): a few ``stat`` calls."""
        return all(_stamp(Path(folder) / name) == self._stamps.get(name) for name in _LOADERS)

    def label_free_for(self, regions: str) -> AppearanceAdapter | None:
        """The label-free adapter if it was fitted on these scene regions (what a labelled fit
        on them starts from)."""
        return self.label_free if self.label_free is not None and self.label_free.regions == regions else None

    def adapter_for(self, regions: str, log: Callable[[str], None]) -> AppearanceAdapter | None:
        """The adapter if it was fitted on these scene regions (crops or dense); once per
        bundle and regions, the log says why one is not used."""
        if regions not in self._for_regions:
            adapter = self.adapter
            if adapter is not None and adapter.regions != regions:
                log(f"appearance adapter not used: fitted on --regions {adapter.regions}, "
                    f"matching with --regions {regions}")
                adapter = None
            self._for_regions[regions] = adapter
        return self._for_regions[regions]


def save_fit(result: FitResult, folder: str | Path, *, model_id: str, regions: str) -> list[Path]:
    """Save what ``fit`` produced, recording the encoder and scene regions it was fitted
    under. Without an adapter, one fitted before is removed: it no longer applies. The caller
    holds the index folder's write lock."""
    folder = Path(folder)
    if result.adapter is not None:
        result.adapter.regions = regions
    saved = []
    for fitted in (result.ranking, result.room_model, result.adapter):
        if fitted is not None:
            fitted.model_id = model_id
            saved.append(fitted.save(folder))
    if result.adapter is None:
        (folder / ADAPTER_FILE).unlink(missing_ok=True)
    return saved
