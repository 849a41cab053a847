"""Data flows one way: a module imports only modules upstream of it."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
# upstream first
LAYERS = ["errors", "schema", "config", "locks", "segment", "chunking", "corpus", "embeddings", "store", "baseline",
          "places", "extract", "metadata", "ingest", "retrieval", "topics", "answer", "compare", "llm", "render",
          "dialogue", "quantities", "requirements", "suggest", "charter", "skeleton", "charter_io", "views", "api",
          "evaluate", "report", "charter_cli", "cli", "__main__"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_is_layered():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules <= set(LAYERS), f"place new modules in LAYERS: {modules - set(LAYERS)}"


def test_no_module_imports_downstream():
    for name in LAYERS:
        path = PACKAGE / f"{name}.py"
        if not path.exists():
            continue
        for imported in _imports(path):
            if imported in LAYERS:
                assert LAYERS.index(imported) < LAYERS.index(name), f"{name} imports downstream {imported}"
