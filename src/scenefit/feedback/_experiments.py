"""A/B experiments, declared once in the index folder (``experiments.json``)::

    {"salt": "spring-test",
     "variants": [
       {"name": "label-free", "share": 0.5},
       {"name": "feedback",   "share": 0.5, "fit": "fits/feedback"}]}

Each variant names the folder of fitted files it ranks with (``fit``, relative to the index
folder; default the index folder's own, what ``scenefit fit`` writes there) and may override
the ranking config (``rank``: weights, diversity). A user or session id sent with a match
always gets the same variant (a keyed hash of salt and id picks it); a match without one gets
a random variant. The first variant is the control the others are compared against.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .._errors import ConfigError
from ..rank import RankConfig

FILE = "experiments.json"
#: The variant of a service with no experiments file.
DEFAULT = "default"
# Variant names are Prometheus label values and file-system friendly: a fixed, small set.
_NAME = r"^[a-z0-9][a-z0-9_.-]{0,31}$"
_MAX_VARIANTS = 16


def inside_index(folder: str) -> bool:
    """Whether ``folder`` names a folder inside the index folder (relative, no ``..``): a
    variant's fit is never read from, nor written to, anywhere else."""
    path = Path(folder)
    return not (path.is_absolute() or ".." in path.parts)


class Variant(BaseModel):
    name: str = Field(pattern=_NAME)
    share: float = Field(gt=0, le=1, description="Fraction of users or sessions that get this variant")
    fit: str = Field(".", description="Folder of fitted files, relative to the index folder")
    rank: RankConfig | None = Field(None, description="Ranking config overriding the fitted weights")

    @field_validator("fit")
    @classmethod
    def _inside(cls, value: str) -> str:
        if not inside_index(value):
            raise ValueError(f"fit must be a folder inside the index folder, got {value!r}")
        return value


class Experiment(BaseModel):
    salt: str = Field("scenefit", min_length=1, description="Changing it reshuffles who gets which variant")
    variants: list[Variant] = Field(min_length=1, max_length=_MAX_VARIANTS)

    @model_validator(mode="after")
    def _valid(self) -> "Experiment":
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be distinct")
        total = sum(v.share for v in self.variants)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"variant shares must add up to 1, they add up to {total:g}")
        return self

    @classmethod
    def default(cls) -> "Experiment":
        return cls(variants=[Variant(name=DEFAULT, share=1)])

    @classmethod
    def load(cls, index_dir: str | Path) -> "Experiment":
        """The experiment of an index folder; one variant, ``default``, without a file."""
        path = Path(index_dir) / FILE
        if not path.is_file():
            return cls.default()
        try:
            return cls.model_validate_json(path.read_text("utf-8"))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "file"
            raise ConfigError(f"{path}: {where}: {err['msg']}") from None

    def save(self, index_dir: str | Path) -> Path:
        from .._atomic import atomic_write

        return atomic_write(Path(index_dir) / FILE, self.model_dump_json(indent=2, exclude_none=True))

    @property
    def control(self) -> Variant:
        return self.variants[0]

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise ConfigError(f"no variant {name!r} in the experiment ({', '.join(v.name for v in self.variants)})")

    def subject_key(self, subject: str) -> str:
        """What is stored for a user or session id: a keyed hash, so the store holds no ids."""
        return hmac.new(self.salt.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]

    def assign(self, subject: str | None) -> Variant:
        """The variant of a user or session id (always the same one while the salt and shares
        stay); a random one without an id."""
        if subject is None:
            u = random.random()
        else:
            u = int(self.subject_key(subject)[:13], 16) / 16**13  # uniform in [0, 1)
        edge = 0.0
        for v in self.variants:
            edge += v.share
            if u < edge:
                return v
        return self.variants[-1]  # shares add up to 1 within rounding
