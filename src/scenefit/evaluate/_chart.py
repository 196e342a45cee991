"""A small PNG: Recall@K by room type, scenefit against the baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._metrics import RECALL
from ._runner import EvalReport


def write_chart(report: EvalReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    names = list(report.methods)
    rooms = sorted({r for m in report.methods.values() for r in m.by_room})
    groups = rooms + ["overall"]
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(groups) + 2), 3.6), dpi=110)
    for i, name in enumerate(names):
        m = report.methods[name]
        values = [m.recall_in(r) for r in rooms] + [m.overall[RECALL]]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(x, groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"Recall@{report.k}")
    ax.set_title(f"Recall@{report.k} by room type ({report.n_scenes} scenes)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
