"""The layout of the package keeps its promises: modules import only their own layer or the
layers below, stay small, and only the modality modules name a kind's presence fields."""

from __future__ import annotations

import ast
from pathlib import Path

import mmcli

PACKAGE = Path(mmcli.__file__).parent

# Lowest first. A module may import its own layer and the layers before it, at module level
# or inside a function (imports under ``if TYPE_CHECKING:`` are for annotations only).
LAYERS = [
    ("base", ["mmcli", "mmcli.errors", "mmcli.layout", "mmcli.config", "mmcli.config_io",
              "mmcli.registry", "mmcli.metrics", "mmcli.data.clean"]),
    ("edges", ["mmcli.io", "mmcli.report"]),
    ("modalities", ["mmcli.modalities"]),
    ("data", ["mmcli.data"]),
    ("tasks", ["mmcli.tasks"]),
    ("engines", ["mmcli.engines"]),
    ("model", ["mmcli.model"]),
    ("bundle", ["mmcli.bundle"]),
    ("api", ["mmcli.api", "mmcli.tune"]),  # tune's objective runs api.train
    ("serve", ["mmcli.serve"]),
    ("cli", ["mmcli.cli", "mmcli.__main__"]),
]

# The one import downwards-looking rules allow upwards: ``mmcli.load`` (the package's documented
# Python entry point, imported lazily by the package's ``__getattr__``).
FACADE = {("mmcli", "mmcli.api.load")}


def layer_of(module: str) -> int:
    """The layer of a module: its longest matching prefix in LAYERS."""
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{module} is in no layer"
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path) -> list[str]:
    """The mmcli modules a file imports, leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mmcli"):
            if node.module == "mmcli":
                found += [f"mmcli.{alias.name}" for alias in node.names]
            else:
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("mmcli")]
    return found


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for name, path in modules():
        for target in imports(path):
            if target == "mmcli.__version__" or (name, target) in FACADE:
                continue
            if layer_of(target) > layer_of(name):
                upward.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "\n".join(upward)


def test_no_module_is_over_300_lines():
    long = {name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > 300}
    assert not long, long


def test_only_the_modality_modules_name_presence_fields():
    """Presence fields (image_present, text_present ...) come from mmcli.modalities."""
    named = [name for name, path in modules() if not name.startswith("mmcli.modalities")
             and ("image_present" in path.read_text() or "text_present" in path.read_text())]
    assert not named, named
