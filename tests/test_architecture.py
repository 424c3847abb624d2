"""mlviz's layers, checked on its source: imports go one way, no cycle, small modules, no
private name crosses a module.

Every module of ``src/mlviz`` is parsed with :mod:`ast`; imports count wherever they are
(top level and inside functions, ``import x`` and ``from x import y``), except those under
``if TYPE_CHECKING:``, which never run. A module may import from its own layer or a lower
one; importing ``mlviz.a.b`` also runs the package ``mlviz.a`` (its ``__init__``), so that
package's layer must be allowed too (the root ``mlviz`` package, the public facade, aside).

The layers, lowest first, and why each module is where it is:

foundation
    errors, terminal, limits, wiring, registry, story, snapshot, schedule, colorvision,
    torchutil, landscape, processes (the one process pool and start-method rule, for the
    renderer's workers, sweeps and the gallery alike). Import nothing above them. ``registry`` is the generic table of
    plugin items (no item class imported); ``wiring`` is where the package installs the
    current session's registry for lower layers (dependency inversion: nobody imports the
    session upward). ``torchutil`` and ``landscape`` are plugin-facing helpers that the
    built-in landscape panel uses, so they sit below the panels.
contract
    What a plugin implements and relies on: config, dataset, datasets, trainer, theme, style,
    panel, scene, algorithm, hookspecs, writers.base, plugins (the loader that checks items
    against these classes), session (registry + theme + options). ``theme`` is here, not
    in the engine, because ``Panel`` hands every panel its theme; ``writers.base`` (the
    ``Writer`` class a writer plugin subclasses, after the output split) is contract too.
engine
    Drawing: the built-in panels (``mlviz.panels``), renderer, parallel, progress (training
    progress, used by sweeps and the CLI alike).
output
    The writers package (atomic files, palette/GIF, MP4, WebP/APNG, PNG) and the player.
features
    record, sweep (a module or package), cache, batch.
front
    api, gallery and gallery_page (the ``mlviz gallery`` command's engine and its page, built
    on ``api.prepare`` for every algorithm: a front end), cli, testing, failure, and the
    ``mlviz`` package itself.

A module not named here fails the test: a new module gets a layer on purpose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "mlviz"
MAX_LINES = 600

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("errors", "terminal", "limits", "wiring", "registry", "story", "snapshot",
                    "schedule", "colorvision", "torchutil", "landscape", "processes", "collisions",
                    "contrast", "compat", "optional", "writers.atomic", "recordfile")),
    ("contract", ("config", "dataset", "datasets", "thinning", "trainer", "theme", "style",
                  "panel", "scene",
                  "algorithm", "hookspecs", "writers.base", "plugins", "session")),
    ("engine", ("panels", "caption", "composition", "renderer", "progress")),
    ("output", ("writers", "player", "parallel")),
    ("features", ("prepared", "record", "recordcheck", "sweep", "cache", "batch", "watch")),
    ("front", ("api", "gallery", "gallery_page", "cli", "testing", "failure", "__main__", "")),
)

#: Violations tolerated for now, each with the reason: none. The test fails on any
#: violation not listed AND on a listed one that is gone, so the list can only shrink.
PENDING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported mlviz module, dotted
    names: tuple[str, ...]  # names taken with ``from target import ...``
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST):
    """Every node, skipping the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """The mlviz modules ``name`` imports at run time (a ``from package import module``
    names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.partition(".")[0] != "mlviz":
                continue
            plain = [alias.name for alias in node.names]
            for alias in plain:
                if f"{target}.{alias}" in known:  # ``from . import batch``
                    found.append(Import(name, f"{target}.{alias}", (), node.lineno))
            names = tuple(a for a in plain if f"{target}.{a}" not in known)
            if names or not plain:
                found.append(Import(name, target, names, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.partition(".")[0] == "mlviz":
                    found.append(Import(name, alias.name, (), node.lineno))
    return [i for i in found if i.target != name]


def layer_of(name: str) -> int:
    """The index of ``name``'s layer: the longest declared prefix wins."""
    relative = name.removeprefix("mlviz").removeprefix(".")
    best, where = -1, None
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            matches = (relative == member or relative.startswith(member + ".")) if member else (
                relative == "")
            if matches and len(member) > best:
                best, where = len(member), index
    if where is None:
        raise AssertionError(f"{name} has no layer: add it to LAYERS in {__file__}")
    return where


def graph() -> dict[str, list[Import]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _parents(target: str) -> list[str]:
    """The packages importing ``target`` runs, root aside: ``mlviz.a.b`` -> ``[mlviz.a]``."""
    parts = target.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def violations() -> set[str]:
    known = modules()
    imports = graph()
    found: set[str] = set()
    edges = {name: {i.target for i in found_ if i.target in known}
             for name, found_ in imports.items()}
    for component in cycles(edges):
        found.add(f"cycle: {' <-> '.join(component)}")
    for name, items in imports.items():
        mine = layer_of(name)
        for item in items:
            for target in [item.target, *(p for p in _parents(item.target)
                                          if not name.startswith(p + ".") and name != p)]:
                if target not in known:
                    continue
                theirs = layer_of(target)
                if theirs > mine:
                    found.add(f"upward: {name} ({LAYERS[mine][0]}) imports {target} "
                              f"({LAYERS[theirs][0]})")
            for imported in item.names:
                if imported.startswith("_") and not imported.startswith("__"):
                    found.add(f"private: {name} imports {item.target}.{imported}")
    for name, path in known.items():
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            found.add(f"size: {name} has {lines} lines (at most {MAX_LINES})")
        found |= private_attributes(name, path, known)
    return found


def private_attributes(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """``module._name`` where ``module`` is another mlviz module bound by an import."""
    bound: dict[str, str] = {}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    bound[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known and alias.asname:
                    bound[alias.asname] = alias.name
    found = set()
    for node in _runtime_nodes(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in bound and node.attr.startswith("_")
                and not node.attr.startswith("__") and bound[node.value.id] != name):
            found.add(f"private: {name} uses {bound[node.value.id]}.{node.attr}")
    return found


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)  # raises for a module nobody placed


def test_no_cycle_no_upward_import_no_big_module_no_private_name():
    found = violations()
    new = sorted(found - PENDING)
    gone = sorted(PENDING - found)
    assert not new, "architecture violations:\n" + "\n".join(new)
    assert not gone, "fixed (remove from PENDING):\n" + "\n".join(gone)


# --- the checker itself: each rule must catch what it is for --------------------------


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A throwaway ``src/mlviz`` to run the checker on."""
    package = tmp_path / "mlviz"
    package.mkdir()
    globals_ = globals()
    monkeypatch.setitem(globals_, "SRC", tmp_path)
    monkeypatch.setitem(globals_, "PACKAGE", package)

    def write(files: dict[str, str]) -> set[str]:
        (package / "__init__.py").write_text("")
        for relative, text in files.items():
            (package / relative).parent.mkdir(parents=True, exist_ok=True)
            (package / relative).write_text(text)
        return violations()

    return write


def test_a_cycle_through_a_function_import_is_caught(fake_package):
    found = fake_package({"errors.py": "def f():\n    from .terminal import x\n",
                          "terminal.py": "from . import errors\n"})
    assert "cycle: mlviz.errors <-> mlviz.terminal" in found


def test_type_only_imports_are_not_counted(fake_package):
    found = fake_package({"errors.py": "from typing import TYPE_CHECKING\n"
                                       "if TYPE_CHECKING:\n    from .api import X\n"
                                       "else:\n    pass\n",
                          "api.py": "from .errors import MlvizError\n"})
    assert found == set()


def test_an_upward_import_is_caught_even_inside_a_function(fake_package):
    found = fake_package({"theme.py": "def f():\n    from .plugins import load\n",
                          "plugins.py": "", "renderer.py": "",
                          "panel.py": "import mlviz.renderer\n"})
    assert "upward: mlviz.panel (contract) imports mlviz.renderer (engine)" in found
    assert not any("theme" in v for v in found)  # plugins is contract too: same layer


def test_importing_a_submodule_counts_its_package(fake_package):
    found = fake_package({"writers/__init__.py": "", "writers/base.py": "",
                          "plugins.py": "from .writers.base import Writer\n"})
    assert "upward: mlviz.plugins (contract) imports mlviz.writers (output)" in found
    assert not any("writers.base" in v for v in found)


def test_private_names_and_big_modules_are_caught(fake_package):
    found = fake_package({"renderer.py": "def _figure_class():\n    pass\n",
                          "sweep.py": "from .renderer import _figure_class\n"
                                      "from . import renderer\nrenderer._other\n",
                          "api.py": "x = 1\n" * (MAX_LINES + 1)})
    assert "private: mlviz.sweep imports mlviz.renderer._figure_class" in found
    assert "private: mlviz.sweep uses mlviz.renderer._other" in found
    assert f"size: mlviz.api has {MAX_LINES + 1} lines (at most {MAX_LINES})" in found


def test_a_module_without_a_layer_fails(fake_package):
    with pytest.raises(AssertionError, match="mlviz.newthing has no layer"):
        fake_package({"newthing.py": ""})
