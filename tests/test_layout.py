"""The package's layout holds: no import cycles (lazy imports inside functions included), the model's parts
(``vqcodec.nn``) import nothing of files, training or analysis, the file formats (``vqcodec.io``) nothing of
training or analysis, the analysis nothing of training, and only ``__main__`` modules import the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vqcodec"


def _imports() -> dict[str, set[str]]:
    """Module -> the vqcodec modules it imports anywhere in its source, or names for importlib."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)  # a module named for importlib (the CLI's commands, lazy names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycle() -> None:
    graph = _imports()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            assert state.get(target) != "open", "import cycle: " + " -> ".join([*path, target])
            if target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_parts_depend_one_way() -> None:
    allowed = {
        "vqcodec.nn": ("vqcodec.nn", "vqcodec.errors", "vqcodec.pitch"),
        "vqcodec.pitch": ("vqcodec.pitch", "vqcodec.errors"),  # a leaf: numpy and the tracker, no torch
        "vqcodec.io": ("vqcodec.io", "vqcodec.errors", "vqcodec.nn", "vqcodec.resample"),
    }
    for module, targets in _imports().items():
        for part, ok in allowed.items():
            if module.startswith(part + ".") or module == part:
                bad = sorted(t for t in targets if not t.startswith(ok))
                assert not bad, f"{module} imports {bad}"


def test_analysis_does_not_import_training() -> None:
    """Measuring a model needs nothing of training: training may use the analysis, not the reverse."""
    for module, targets in _imports().items():
        if module.startswith("vqcodec.analysis."):
            bad = sorted(t for t in targets if t.startswith("vqcodec.train"))
            assert not bad, f"{module} imports {bad}"


def test_only_main_modules_import_the_cli() -> None:
    """The CLI is the outermost layer: what it runs lives elsewhere, and only a ``__main__`` module (the way in
    of ``python -m``) may call it."""
    for module, targets in _imports().items():
        if "vqcodec.cli" in targets:
            assert module.endswith("__main__"), f"{module} imports vqcodec.cli"
