"""Loading plugins: the plugin manager and the registry of algorithms, panels and writers.

Nothing is loaded at import time. Each entry point of the ``mlviz`` group is loaded on
its own: one that fails to import (whatever it raises, ``SystemExit`` included), has a
hook with a wrong signature, implements an unknown hook, or registers an invalid name or
a name already taken is reported in one warning line naming the plugin and its
distribution, and everything else keeps working. Plugin text that is shown (summaries,
names, messages) is made printable: no escape sequences, no line breaks.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .algorithm import Algorithm, valid_name
from .errors import MlvizError, Terminated
from .panel import Panel
from .terminal import one_line
from .theme import Theme
from .writers import Writer

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
        return one_line(f"plugin {name} is installed twice; the second copy was ignored")
    try:
        plugin = load()
    except BaseException as exc:  # a broken third-party plugin must not break mlviz
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            raise
        return one_line(f"plugin {name} failed to import: {_describe_exception(exc)}")
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            raise
        if pm.has_plugin(name):
            pm.unregister(name=name)
        detail = (_first_line(exc) if isinstance(exc, pluggy.PluginValidationError)
                  else _describe_exception(exc))
        return one_line(f"plugin {name} was not loaded: {detail}")
    return None


@dataclass
class Registry:
    """Algorithms and panels by name, writers by file suffix, with the warnings gathered
    while loading them."""

    algorithms: dict[str, Algorithm] = field(default_factory=dict)
    panels: dict[str, type[Panel]] = field(default_factory=dict)
    #: Writer classes by lowercase suffix with its dot (".gif"); see ``mlviz_writers``.
    writers: dict[str, type[Writer]] = field(default_factory=dict)
    #: The plugin that registered each writer suffix.
    writer_plugins: dict[str, str] = field(default_factory=dict)
    #: Themes by name; see ``mlviz_themes``.
    themes: dict[str, Theme] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Python package (dotted prefix) of each plugin's code -> the plugin's label.
    packages: dict[str, str] = field(default_factory=dict)

    def plugin_of(self, module: str | None) -> str | None:
        """The plugin whose package holds ``module`` (mlviz itself is no plugin)."""
        while module:
            if module in self.packages:
                return self.packages[module]
            module = module.rpartition(".")[0]
        return None

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
    registry = Registry(warnings=[one_line(w) for w in warnings or []])
    say = registry.warnings.append
    for plugin_name, plugin in pm.list_name_plugin():
        _claim_package(registry, _module_of(plugin), plugin_name)
    for plugin_name, items in _call_each(pm, "mlviz_algorithms", registry.warnings):
        for item in items:
            if not isinstance(item, Algorithm):
                say(one_line(f"plugin {plugin_name} returned {type(item).__name__} from "
                             "mlviz_algorithms, not an Algorithm; ignored"))
            elif not valid_name(item.name):
                say(one_line(f"plugin {plugin_name} registers the invalid algorithm name "
                             f"{_quoted(item.name)} (lowercase letters, digits and '-' only); "
                             "ignored"))
            elif item.name in registry.algorithms:
                say(one_line(f"plugin {plugin_name} registers algorithm '{item.name}', already "
                             f"taken by {registry.algorithms[item.name].plugin}; ignored"))
            else:
                try:
                    registry.algorithms[item.name] = replace(
                        item, plugin=plugin_name, summary=one_line(item.summary, 200),
                        dataset_help=one_line(item.dataset_help),
                        data_help=one_line(item.data_help),
                    )
                except Exception as exc:
                    say(one_line(f"plugin {plugin_name} registers a broken algorithm "
                                 f"'{item.name}': {_describe_exception(exc)}; ignored"))
                    continue
                for part in (item.trainer, item.dataset, item.scene, item.load_data,
                             item.schedule, item.config):
                    _claim_package(registry, getattr(part, "__module__", None), plugin_name)
    for plugin_name, items in _call_each(pm, "mlviz_panels", registry.warnings):
        for item in items:
            if not (isinstance(item, type) and issubclass(item, Panel) and item.name):
                say(one_line(f"plugin {plugin_name} returned {item!r} from mlviz_panels, not a "
                             "named Panel subclass; ignored"))
            elif not valid_name(item.name):
                say(one_line(f"plugin {plugin_name} registers the invalid panel name "
                             f"{_quoted(item.name)} (lowercase letters, digits and '-' only); "
                             "ignored"))
            elif item.name in registry.panels and registry.panels[item.name] is not item:
                say(one_line(f"plugin {plugin_name} registers panel '{item.name}', already "
                             "taken; ignored"))
            else:
                registry.panels[item.name] = item
    for plugin_name, items in _call_each(pm, "mlviz_writers", registry.warnings):
        for item in items:
            _add_writer(registry, plugin_name, item)
    for plugin_name, items in _call_each(pm, "mlviz_themes", registry.warnings):
        for item in items:
            _add_theme(registry, plugin_name, item)
    return registry


def _add_theme(registry: Registry, plugin_name: str, item: Any) -> None:
    """Register one theme under its name, or warn why not."""
    say = registry.warnings.append
    if not isinstance(item, Theme):
        say(one_line(f"plugin {plugin_name} returned {item!r} from mlviz_themes, not a "
                     "Theme; ignored"))
    elif not valid_name(item.name):
        say(one_line(f"plugin {plugin_name} registers the invalid theme name "
                     f"{_quoted(item.name)} (lowercase letters, digits and '-' only); ignored"))
    elif item.name in registry.themes:
        if registry.themes[item.name] is not item:
            say(one_line(f"plugin {plugin_name} registers theme '{item.name}', already taken; "
                         "ignored"))
    else:
        registry.themes[item.name] = item


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")


def _add_writer(registry: Registry, plugin_name: str, item: Any) -> None:
    """Register one writer class under its lowercase suffix, or warn why not."""
    say = registry.warnings.append
    if not (isinstance(item, type) and issubclass(item, Writer)):
        say(one_line(f"plugin {plugin_name} returned {item!r} from mlviz_writers, not a "
                     "Writer subclass; ignored"))
        return
    suffix = item.suffix if isinstance(item.suffix, str) else ""
    if not _SUFFIX.fullmatch(suffix):
        say(one_line(f"plugin {plugin_name} registers writer {item.__name__} with the invalid "
                     f"suffix {_quoted(item.suffix)} (a dot, then 1 to 16 letters or digits); "
                     "ignored"))
        return
    suffix = suffix.lower()
    if suffix in registry.writers:
        if registry.writers[suffix] is not item:
            say(one_line(f"plugin {plugin_name} registers writer '{suffix}', already taken by "
                         f"{registry.writer_plugins[suffix]}; ignored"))
        return
    registry.writers[suffix] = item
    registry.writer_plugins[suffix] = plugin_name


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
            if result is None:
                continue
            try:
                items = list(result)
            except TypeError:
                warnings.append(one_line(f"plugin {impl.plugin_name}: {hook_name} must return "
                                         "a list"))
                continue
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, Terminated)):
                raise
            warnings.append(one_line(f"plugin {impl.plugin_name} failed in {hook_name}: "
                                     f"{_describe_exception(exc)}"))
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
    return one_line(f"{entry_point.name} ({_dist_name(entry_point)}{version})", 200)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _describe_exception(exc: BaseException) -> str:
    """``Type: message`` on one line (a ``SystemExit`` shows its exit code)."""
    message = one_line(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _quoted(name: object) -> str:
    return repr(one_line(name, 80)) if isinstance(name, str) else type(name).__name__


def _module_of(plugin: object) -> str | None:
    """The module a registered plugin object comes from (usually it is the module)."""
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return getattr(type(plugin), "__module__", None)


def _claim_package(registry: Registry, module: str | None, plugin_name: str) -> None:
    """Record that code in ``module``'s package belongs to ``plugin_name`` (first claim wins).

    A plugin module inside a package claims the package; mlviz's own modules stay mlviz's.
    """
    if not isinstance(module, str) or not module or module.partition(".")[0] == "mlviz":
        return
    package = module.rpartition(".")[0] or module
    registry.packages.setdefault(package, plugin_name)
