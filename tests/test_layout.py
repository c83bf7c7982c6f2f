"""The package's layout holds: no import cycles (lazy imports inside functions included), the model's parts
(``vqcodec.nn``) import nothing of files, training or analysis, the file formats (``vqcodec.io``) nothing of
training or analysis, the analysis nothing of training, and only ``vqcodec/__main__.py`` imports the CLI; the
pipeline (``vqcodec.pipeline``) runs over the backends without naming one, and neither it nor the onnxruntime
backend imports torch (the light install has none)."""

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


def test_only_the_package_main_imports_the_cli() -> None:
    """The CLI is the outermost layer: what it runs lives elsewhere, and only ``vqcodec/__main__.py`` (``python -m
    vqcodec``) calls it; another way in (``python -m vqcodec.train``) shares its one-line errors through
    :func:`vqcodec.errors.run_main`, not the CLI."""
    importers = sorted(module for module, targets in _imports().items() if "vqcodec.cli" in targets)
    assert importers == ["vqcodec.__main__"], f"{importers} import vqcodec.cli"


def _module_level_imports() -> dict[str, set[str]]:
    """Module -> the top-level names it imports when it is imported (not inside functions, nor for type checking)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        names = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        found[name] = names
    return found


def _loaded_with(module: str, imports: dict[str, set[str]]) -> set[str]:
    """Every name importing ``module`` imports at module level, its parent packages' included."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in imports]
        todo += [t for t in imports.get(m, ()) if t in imports]
    return seen | {t for m in seen for t in imports.get(m, ())}


def test_the_onnxruntime_backend_and_the_pipeline_import_no_torch() -> None:
    """The light install (no torch) runs the pipeline on onnxruntime: importing either must not import torch."""
    imports = _module_level_imports()
    pipeline = [m for m in imports if m.startswith("vqcodec.pipeline")]
    for module in ["vqcodec.backends.onnxruntime", "vqcodec.backends", *pipeline]:
        torch = sorted(t for t in _loaded_with(module, imports) if t.split(".")[0] in ("torch", "torchaudio"))
        assert not torch, f"importing {module} imports {torch}"


def test_the_pipeline_knows_no_backend() -> None:
    """A backend only runs graphs: the pipeline reaches one through ``vqcodec.backends.load``, never by name, and
    knows of the model only its config (no training, analysis, tokens or torch model)."""
    ok = ("vqcodec.pipeline", "vqcodec.errors", "vqcodec.codes", "vqcodec.io", "vqcodec.pitch", "vqcodec.entropy")
    ok += ("vqcodec.nn.config", "vqcodec.threads", "vqcodec.progress", "vqcodec.pretrained")
    for module, targets in _imports().items():
        if module.startswith("vqcodec.pipeline"):
            named = sorted(t for t in targets if t.startswith("vqcodec.backends."))
            assert not named, f"{module} imports {named}"
            bad = sorted(t for t in targets if not t.startswith(ok) and t not in ("vqcodec", "vqcodec.backends"))
            assert not bad, f"{module} imports {bad}"
