"""Loading plugins: the plugin manager and the registry of algorithms and panels.

Nothing is loaded at import time. Each entry point of the ``mlviz`` group is loaded on
its own: one that fails to import, has a hook with a wrong signature, implements an
unknown hook, or registers a name already taken is reported in one warning line naming
the plugin and its distribution, and everything else keeps working.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .algorithm import Algorithm
from .errors import MlvizError
from .panel import Panel

ENTRY_POINT_GROUP = "mlviz"
OWN_DISTRIBUTION = "mlviz"


def get_plugin_manager(load_entry_points: bool = True) -> tuple[pluggy.PluginManager, list[str]]:
    """A plugin manager with mlviz's hooks and (by default) every installed plugin.

    Returns the manager and the warnings about plugins that could not be loaded.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    warnings: list[str] = []
    if load_entry_points:
        for entry_point in _entry_points():
            warning = register_plugin(pm, _describe(entry_point), entry_point.load)
            if warning:
                warnings.append(warning)
    return pm, warnings


def register_plugin(pm: pluggy.PluginManager, name: str, load: Any) -> str | None:
    """Load (``load()``) and register one plugin; return a warning instead of raising."""
    if pm.has_plugin(name):
        return f"plugin {name} is installed twice; the second copy was ignored"
    try:
        plugin = load()
    except Exception as exc:  # a broken third-party plugin must not break mlviz
        return f"plugin {name} failed to import: {type(exc).__name__}: {exc}"
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if pm.has_plugin(name):
            pm.unregister(name=name)
        return f"plugin {name} was not loaded: {_first_line(exc)}"
    return None


@dataclass
class Registry:
    """Algorithms and panels by name, with the warnings gathered while loading them."""

    algorithms: dict[str, Algorithm] = field(default_factory=dict)
    panels: dict[str, type[Panel]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def get(self, name: str) -> Algorithm:
        """The algorithm called ``name``; a :class:`MlvizError` suggesting the closest one."""
        if name in self.algorithms:
            return self.algorithms[name]
        known = sorted(self.algorithms)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise MlvizError(
            f"unknown algorithm '{name}'.{hint} Known: {', '.join(known) or 'none'}"
        )


def build_registry(pm: pluggy.PluginManager, warnings: list[str] | None = None) -> Registry:
    """Collect what every registered plugin's hooks return, refusing duplicate names."""
    registry = Registry(warnings=list(warnings or []))
    for plugin_name, items in _call_each(pm, "mlviz_algorithms", registry.warnings):
        for item in items:
            if not isinstance(item, Algorithm):
                registry.warnings.append(
                    f"plugin {plugin_name} returned {type(item).__name__} from mlviz_algorithms,"
                    " not an Algorithm; ignored"
                )
            elif item.name in registry.algorithms:
                registry.warnings.append(
                    f"plugin {plugin_name} registers algorithm '{item.name}', already taken by"
                    f" {registry.algorithms[item.name].plugin}; ignored"
                )
            else:
                registry.algorithms[item.name] = replace(item, plugin=plugin_name)
    for plugin_name, items in _call_each(pm, "mlviz_panels", registry.warnings):
        for item in items:
            if not (isinstance(item, type) and issubclass(item, Panel) and item.name):
                registry.warnings.append(
                    f"plugin {plugin_name} returned {item!r} from mlviz_panels, not a named"
                    " Panel subclass; ignored"
                )
            elif item.name in registry.panels and registry.panels[item.name] is not item:
                registry.warnings.append(
                    f"plugin {plugin_name} registers panel '{item.name}', already taken; ignored"
                )
            else:
                registry.panels[item.name] = item
    return registry


def load_registry() -> Registry:
    """The registry of every installed plugin (built-in ones included)."""
    pm, warnings = get_plugin_manager()
    return build_registry(pm, warnings)


def _call_each(pm: pluggy.PluginManager, hook_name: str, warnings: list[str]):
    """Call one hook plugin by plugin, so one failing plugin cannot hide the others."""
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():  # in registration order
        try:
            result = impl.function()
        except Exception as exc:
            warnings.append(
                f"plugin {impl.plugin_name} failed in {hook_name}: {type(exc).__name__}: {exc}"
            )
            continue
        if result is None:
            continue
        try:
            items = list(result)
        except TypeError:
            warnings.append(f"plugin {impl.plugin_name}: {hook_name} must return a list")
            continue
        yield impl.plugin_name, items


def _entry_points() -> list[metadata.EntryPoint]:
    """The group's entry points: mlviz's own first, then by distribution and name."""
    points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))

    def key(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
        dist = _dist_name(ep)
        return (dist != OWN_DISTRIBUTION, dist, ep.name)

    return sorted(points, key=key)


def _dist_name(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return dist.metadata["Name"] if dist is not None else "unknown distribution"


def _describe(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    version = f" {dist.version}" if dist is not None else ""
    return f"{entry_point.name} ({_dist_name(entry_point)}{version})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
