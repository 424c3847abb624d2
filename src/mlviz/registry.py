"""One registry for every kind of plugin item: algorithms, panels, writers and themes.

Every item is added through :meth:`Registry.add`, which refuses a name already taken by
another item (a warning naming both plugins; the first one keeps the name, nothing is
overwritten), and looked up through :meth:`Registry.lookup`, which suggests the closest
known name. Warnings go through :func:`warnings.warn` as :class:`PluginWarning`, so a
Python user sees them, and are also kept in :attr:`Registry.warnings` (the CLI and the
gallery page show them).

This module sits at the bottom of mlviz's layers: it imports no item class. What makes an
item valid is checked by the loader (:mod:`mlviz.plugins`). Code that needs the installed
plugins without being handed a registry asks :func:`mlviz.wiring.default_registry`, which
the package wires to the current :class:`mlviz.session.Session` (a source installed from
above, so no module imports upward).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import MlvizError, MlvizWarning
from .terminal import one_line

if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .panel import Panel
    from .theme import Theme
    from .writers import Writer

#: Each kind of item and the :class:`Registry` table that holds it.
KINDS = {"algorithm": "algorithms", "panel": "panels", "writer": "writers", "theme": "themes"}


class PluginWarning(MlvizWarning):
    """A plugin, or one of its items, could not be used; the rest of mlviz works."""


def warn(message: str, stacklevel: int = 2) -> str:
    """Issue ``message`` (made one line) as a :class:`PluginWarning`; return the line."""
    line = one_line(message)
    warnings.warn(PluginWarning(line), stacklevel=stacklevel + 1)
    return line


@dataclass
class Registry:
    """Algorithms, panels and themes by name, writers by lowercase file suffix (``".gif"``),
    the plugin that added each item, and the warnings gathered while loading them."""

    algorithms: dict[str, Algorithm] = field(default_factory=dict)
    panels: dict[str, type[Panel]] = field(default_factory=dict)
    #: Writer classes by lowercase suffix with its dot (".gif"); see ``mlviz_writers``.
    writers: dict[str, type[Writer]] = field(default_factory=dict)
    #: Themes by name; see ``mlviz_themes``.
    themes: dict[str, Theme] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Python package (dotted prefix) of each plugin's code -> the plugin's label.
    packages: dict[str, str] = field(default_factory=dict)
    #: kind -> name -> the plugin that added it.
    owners: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def writer_plugins(self) -> dict[str, str]:
        """The plugin that registered each writer suffix."""
        return self.owners.setdefault("writer", {})

    def table(self, kind: str) -> dict[str, Any]:
        """The table of one kind (``"algorithm"``, ``"panel"``, ``"writer"``, ``"theme"``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of plugin item {kind!r}; one of {', '.join(KINDS)}")
        table: dict[str, Any] = getattr(self, KINDS[kind])
        return table

    def owner(self, kind: str, name: str) -> str:
        """The plugin that added item ``name`` of ``kind`` ("" when unknown)."""
        return self.owners.get(kind, {}).get(name, "")

    def warn(self, message: str) -> None:
        """Keep ``message`` (one line) and issue it as a :class:`PluginWarning`."""
        self.warnings.append(warn(message, stacklevel=2))

    def add(self, kind: str, name: str, item: Any, plugin: str) -> bool:
        """Add ``item`` under ``name``; ``False`` (and a warning naming both plugins) when
        another item has the name. The same item added twice is kept once, quietly."""
        table = self.table(kind)
        if name in table:
            if table[name] is not item:
                first = self.owner(kind, name) or "another plugin"
                self.warn(f"plugin {plugin} registers {kind} '{name}', already taken by "
                          f"{first}; ignored")
            return False
        table[name] = item
        self.owners.setdefault(kind, {})[name] = plugin
        return True

    def lookup(self, kind: str, name: str) -> Any:
        """Item ``name`` of ``kind``; a one-line :class:`MlvizError` suggesting the closest
        known name otherwise."""
        table = self.table(kind)
        if name in table:
            return table[name]
        raise MlvizError(unknown(kind, name, list(table)))

    def get(self, name: str) -> Algorithm:
        """The algorithm called ``name``; a :class:`MlvizError` suggesting the closest one."""
        algorithm: Algorithm = self.lookup("algorithm", name)
        return algorithm

    def plugin_of(self, module: str | None) -> str | None:
        """The plugin whose package holds ``module`` (mlviz itself is no plugin)."""
        while module:
            if module in self.packages:
                return self.packages[module]
            module = module.rpartition(".")[0]
        return None


def unknown(kind: str, name: str, known: list[str], what: str | None = None) -> str:
    """``unknown KIND 'name'. Did you mean 'x'? Known: …`` — the one message for an
    unknown name of any kind (``what`` replaces the kind's word, e.g. "output format")."""
    import difflib

    names = sorted(known) if kind != "theme" else list(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown {what or kind} '{name}'.{hint} Known: {', '.join(names) or 'none'}"
