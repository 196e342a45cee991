"""The package's shape: dependencies point one way, no import cycles, backends stay behind the
modules that implement them, no module grows past what one reader holds in mind.

Read statically (ast), so it sees lazy imports inside functions too; imports under
``if TYPE_CHECKING:`` are for annotations only and don't count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "scenefit"

# Lower layers never import higher ones. Top-level private modules (``_errors``, ``_types``,
# ``_atomic`` …) are the foundation every layer may use; ``_settings`` and ``_schema`` belong
# to the edges and the facade.
LAYERS = [
    {"taxonomy"},
    {"catalog"},
    {"images"},
    {"embed"},
    {"index"},
    {"scene"},
    {"rank"},
    {"evaluate"},
    {"pipelines", "learn", "feedback"},
    {"engine"},
    {"api", "bench", "cli"},
]
LAYER = {pkg: i for i, names in enumerate(LAYERS) for pkg in names}

#: Third-party backends and the only places that may import them.
BACKENDS = {
    "pymilvus": {"index"},
    "onnxruntime": {"embed"},
    "transformers": {"embed"},
    "ray": {"pipelines", "bench"},
    "psycopg": {"index", "feedback"},  # the store of record: products, and feedback
    "redis": {"scene"},
    # faiss is the vector index; the palette uses its k-means (no index), the bench measures it
    "faiss": {"index", "bench", "scene/_palette.py"},
    # torch runs the offline/CLIP networks; the appearance adapter is fitted with its optimiser
    "torch": {"embed", "learn/_adapter.py", "bench/_timing.py"},
}

MAX_LINES = 450
ENGINE_MAX_LINES = 400  # the facade: wiring only (one method per command)


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for every scenefit or third-party import outside TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    annotation_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            annotation_only.update(id(n) for n in ast.walk(node))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in annotation_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
    return found


GRAPH = {name: {t for t, _ in _imports(name, path) if t in MODULES and t != name} for name, path in MODULES.items()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not parts[1].startswith("_") else None


def test_no_import_cycles():
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(GRAPH[node]):
            if seen.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in seen:
                visit(nxt, path + [nxt])
        seen[node] = 2

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def _upward(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        here = _package(module)
        for target in targets:
            there = _package(target)
            if here and there and here != there and LAYER[there] > LAYER[here]:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_dependencies_point_down_the_layers():
    assert _upward(GRAPH) == []


def test_every_package_is_placed_in_a_layer():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists() and not p.name.startswith("_")}
    assert packages | {"engine"} == set(LAYER)


def test_no_private_imports_across_packages():
    wrong = []
    for module, path in MODULES.items():
        for target, line in _imports(module, path):
            here, there = _package(module), _package(target)
            parts = target.split(".")
            if there and there != here and len(parts) > 2 and parts[2].startswith("_"):
                wrong.append(f"{path.relative_to(SRC)}:{line} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("library", sorted(BACKENDS))
def test_backend_libraries_stay_in_the_modules_that_implement_them(library):
    allowed = BACKENDS[library]
    wrong = []
    for module, path in MODULES.items():
        rel = path.relative_to(SRC).as_posix()
        for target, line in _imports(module, path):
            if target.split(".")[0] == library and rel.split("/")[0] not in allowed and rel not in allowed:
                wrong.append(f"{rel}:{line}")
    assert wrong == []


def test_modules_stay_readable():
    long = {str(p.relative_to(SRC)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
    assert len((SRC / "engine.py").read_text().splitlines()) <= ENGINE_MAX_LINES


def test_the_layer_check_sees_a_wrong_way_import(tmp_path):
    """The checks read real import statements: an upward one is reported."""
    bad = tmp_path / "scenefit" / "index" / "_bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("def f():\n    from ..rank import Ranker\n")
    targets = {t for t, _ in _imports("scenefit.index._bad", bad)}
    assert _upward({"scenefit.index._bad": targets}) == ["scenefit.index._bad imports scenefit.rank"]
    assert _upward({"scenefit.rank._bad": {"scenefit.index"}}) == []  # downward is fine
