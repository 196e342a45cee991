"""The names of the fit factors a candidate is scored on.

They are the keys of a pool's factor values, the fields of :class:`RankWeights`, the keys of a
recommendation's ``factors`` in the match JSON, and what explanations and weight fits refer to:
declared here once so that those places cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class Factor(StrEnum):
    SIMILARITY = "similarity"
    ROOM = "room"
    COLOUR = "colour"
    STYLE = "style"
    APPEARANCE = "appearance"  # only with an appearance space (image to image)


#: the raw scene–product cosine, reported beside the factors but never weighted
COSINE = "cosine"
