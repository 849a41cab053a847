"""Data flows one way: a package imports only packages upstream of it, and the interfaces see only the facade
and values. Checked on every import statement of every module, relative or absolute, top level or nested."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
# Upstream first. The base modules are shared by every stage; each folder after them is a stage.
BASE = ("config", "errors", "files")
STAGES = ("domain", "chunking", "corpus", "index", "retrieval", "answering", "charter", "evaluation", "render",
          "interfaces")
# What the command line and the web app may import: the facade, values and presentation, nothing that runs
# the pipeline behind the facade's back.
INTERFACE_ALLOWED = ("interfaces", "domain", "render", *BASE)


def _stage(module: str) -> str:
    """'assistant.index.writer' → 'index'; 'assistant.config' → 'config'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imported_modules(path: Path) -> set[str]:
    here = "assistant." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = here.rsplit(".", 1)[0] if path.name != "__init__.py" else here.removesuffix(".__init__")
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # imports for annotations only: no runtime dependency
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module == "assistant":  # `from assistant import config` imports assistant.config
                found.update(f"assistant.{alias.name}" for alias in node.names)
                continue
            found.add(module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "assistant" or m.startswith("assistant.")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_stage():
    for path in _modules():
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:
            assert path.stem in (*BASE, "__init__", "__main__"), f"{path.name}: put it in a stage package"
        else:
            assert parts[0] in STAGES, f"{parts[0]}/ is not a stage in STAGES"


def test_no_package_imports_one_downstream_of_it():
    order = {name: i for i, name in enumerate(STAGES)}
    for path in _modules():
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:
            own = -1 if path.stem in BASE else len(STAGES)  # __main__/__init__ sit on top
        else:
            own = order[parts[0]]
        for module in _imported_modules(path):
            stage = _stage(module)
            if stage in BASE or module == "assistant":
                assert own >= 0 or stage in BASE, f"{path}: base module imports {module}"
                continue
            assert order[stage] <= own, f"{path.relative_to(PACKAGE)} imports downstream {module}"


def test_interfaces_use_only_the_facade_and_values():
    for path in (PACKAGE / "interfaces").rglob("*.py"):
        if path.name == "facade.py" or path.parent == PACKAGE / "interfaces" and path.name == "__init__.py":
            continue
        for module in _imported_modules(path):
            assert _stage(module) in INTERFACE_ALLOWED, f"{path.relative_to(PACKAGE)} imports {module}"


def test_the_checker_sees_nested_relative_and_absolute_imports(tmp_path):
    # the old check saw only top-level relative imports and missed cli.py importing the top-level app
    package = tmp_path / "assistant"
    (package / "retrieval").mkdir(parents=True)
    module = package / "retrieval" / "hybrid.py"
    module.write_text("from ..answering.extractive import compose\nimport assistant.index.snapshot\n"
                      "def f():\n    from assistant import config\n    from .query import terms\n")
    globals()["PACKAGE"], saved = package, PACKAGE
    try:
        found = _imported_modules(module)
    finally:
        globals()["PACKAGE"] = saved
    assert found == {"assistant.answering.extractive", "assistant.index.snapshot", "assistant.config",
                     "assistant.retrieval.query"}
