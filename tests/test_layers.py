"""Imports point one way: every module's imports (function-level and TYPE_CHECKING ones too) are
read with ast and checked against one table of allowed directions, and for circles between
packages and between modules. The checker is run on a small fixture tree too, so it is shown to
catch an upward import and a circle."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BELOW_APP = {"core", "data", "embedding", "fcm", "finetune", "models", "workspace"}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "data": {"core"},
    "embedding": {"core"},
    "fcm": {"core"},
    "finetune": {"core", "data", "embedding"},
    "models": {"core", "data", "embedding", "finetune"},
    "workspace": {"core", "data", "embedding", "fcm", "finetune", "models"},
    "app": BELOW_APP,
    "bench": BELOW_APP | {"app"},
}
"""Package -> the project packages it may import. Data flows up this table: records (core) at the
bottom; ingestion and the store, the ML stages and map maths; page logic; pages; benchmarks."""


def module_names(root: Path, packages: set[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the given top-level packages."""
    out = {}
    for pkg in sorted(packages):
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def import_graph(root: Path, packages: set[str]) -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its body ("from a import b" counts as
    a.b where b is a module, else as a)."""
    modules = module_names(root, packages)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import a.b.c` of a name inside a.b
                    target = target.rpartition(".")[0]
                if target and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def upward_imports(graph: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Every import from one package into another the table does not allow."""
    return sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps
                  if d.split(".")[0] != m.split(".")[0] and d.split(".")[0] not in allowed[m.split(".")[0]])


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m, deps in graph.items():
        out.setdefault(m.split(".")[0], set()).update(d.split(".")[0] for d in deps if d.split(".")[0] != m.split(".")[0])
    return out


def problems(root: Path, allowed: dict[str, set[str]]) -> list[str]:
    graph = import_graph(root, set(allowed))
    return ([f"upward import: {x}" for x in upward_imports(graph, allowed)]
            + [f"package circle: {' <-> '.join(c)}" for c in circles(package_graph(graph))]
            + [f"module circle: {' <-> '.join(c)}" for c in circles(graph)])


def test_the_table_itself_points_one_way():
    assert set(ALLOWED) == {p.name for p in ROOT.iterdir() if p.is_dir() and p.name in ALLOWED}
    assert circles(ALLOWED) == []


def test_project_imports_point_one_way_without_circles():
    graph = import_graph(ROOT, set(ALLOWED))
    assert "core.types" in graph and "workspace.mapview" in graph and "data.store.store" in graph
    assert "data.store.engine" in graph["data.store.store"]  # the reader sees what it should
    assert problems(ROOT, ALLOWED) == []


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checker_catches_an_upward_import_even_inside_a_function(tmp_path):
    _tree(tmp_path, {
        "core/__init__.py": "",
        "core/types.py": "def f():\n    from data.store import Store\n    return Store\n",
        "data/__init__.py": "",
        "data/store.py": "from core.types import f\nStore = f\n",
    })
    assert problems(tmp_path, {"core": set(), "data": {"core"}}) == [
        "upward import: core.types -> data.store",
        "package circle: core <-> data",
        "module circle: core.types <-> data.store",
    ]


def test_checker_catches_a_circle_inside_a_package_and_relative_imports(tmp_path):
    _tree(tmp_path, {
        "models/__init__.py": "",
        "models/classifier.py": "from .bundle import save\n",
        "models/bundle.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from models import classifier\n",
        "models/training.py": "import models.classifier\n",
    })
    assert problems(tmp_path, {"models": set()}) == ["module circle: models.bundle <-> models.classifier"]
    _tree(tmp_path, {"models/bundle.py": "def save():\n    pass\n"})
    assert problems(tmp_path, {"models": set()}) == []
