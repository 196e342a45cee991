"""Learning from labelled scenes and from the catalog alone: what ``scenefit fit`` saves in an
index folder (ranking weights, appearance adapter, room-type model), the label-free adapter
``scenefit adapt`` fits from product photos pasted into room photos (which a labelled fit
starts from, and which applies until one exists), how the engine loads them back (one
:class:`FittedBundle`), and the cross-validation behind ``scenefit eval --cv``.

It fits what :mod:`scenefit.rank` and :mod:`scenefit.scene` use, through the protocols they
declare (``RegionAdapter``, ``RoomClassifier``); neither of them imports this package.
"""

from ._adapter import FILE as ADAPTER_FILE
from ._adapter import LABEL_FREE_FILE, AdapterFitConfig, AdapterSample, AppearanceAdapter
from ._bundle import FittedBundle, save_fit
from ._crossval import crossval_method
from ._evaluate import evaluate_scenes, scenefit_setup
from ._fit import FitResult, fit_adapter, fit_labelled, fit_models
from ._folds import Fold, fold_count, kfold
from ._label_free import SHIPPED, USER, LabelFreeConfig, LabelFreeResult, adapt_index, background_photos, save_label_free
from ._labelled import LabelledAnalysis, analyze_labelled, fit_sample
from ._ranking import FIT_FILE, FitSample, FittedRanking, fit_ranking
from ._room_model import FILE as ROOM_MODEL_FILE
from ._room_model import RoomModel

__all__ = [
    "ADAPTER_FILE", "AdapterFitConfig", "AdapterSample", "AppearanceAdapter", "FIT_FILE", "FitResult", "FitSample",
    "FittedBundle", "FittedRanking", "Fold", "LABEL_FREE_FILE", "LabelFreeConfig", "LabelFreeResult", "LabelledAnalysis", "ROOM_MODEL_FILE", "RoomModel",
    "adapt_index", "analyze_labelled", "background_photos", "crossval_method", "evaluate_scenes", "fit_adapter", "fit_labelled", "fit_models", "fit_ranking",
    "fit_sample", "fold_count", "kfold", "save_fit", "save_label_free", "scenefit_setup", "SHIPPED", "USER",
]
