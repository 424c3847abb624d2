"""Loading plugins: the plugin manager, and the registry built from what plugins return.

Nothing is loaded at import time. Each entry point of the ``mlviz`` group is loaded on
its own: one that fails to import (whatever it raises, ``SystemExit`` included), has a
hook with a wrong signature, implements an unknown hook, or registers an invalid name or
a name already taken is reported in one warning line naming the plugin and its
distribution, and everything else keeps working. Warnings are issued with
:func:`warnings.warn` (:class:`mlviz.registry.PluginWarning`), so a Python user sees them
too, and kept in ``Registry.warnings``. Plugin text that is shown (summaries, names,
messages) is made printable: no escape sequences, no line breaks.

``MLVIZ_DISABLE_PLUGINS=name,name`` leaves plugins out: each name is an entry-point name
(``kmeans``) or a distribution name (``mlviz-knn``); a name that matches no installed
plugin is a warning.

The items' own classes are checked here (an :class:`~mlviz.Algorithm`, a
:class:`~mlviz.Panel` subclass, a :class:`~mlviz.theme.Theme`); a writer is recognised by
its base class's name (``mlviz.writers...Writer``), so this module imports no output code.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .algorithm import Algorithm, valid_name
from .errors import Terminated
from .panel import Panel
from .registry import Registry
from .terminal import one_line
from .theme import Theme

__all__ = ["DISABLE_VARIABLE", "ENTRY_POINT_GROUP", "Registry", "build_registry",
           "disabled_plugins", "get_plugin_manager", "load_registry", "register_plugin"]

ENTRY_POINT_GROUP = "mlviz"
OWN_DISTRIBUTION = "mlviz"
#: Environment variable: comma-separated entry-point or distribution names to leave out.
DISABLE_VARIABLE = "MLVIZ_DISABLE_PLUGINS"


def get_plugin_manager(load_entry_points: bool = True) -> tuple[pluggy.PluginManager, list[str]]:
    """A plugin manager with mlviz's hooks and (by default) every installed plugin that
    ``MLVIZ_DISABLE_PLUGINS`` does not leave out.

    Returns the manager and the warnings about plugins that could not be loaded.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    warnings: list[str] = []
    if load_entry_points:
        points = _entry_points()
        disabled = disabled_plugins()
        for entry_point in points:
            if _canonical(entry_point.name) in disabled or _canonical(
                    _dist_name(entry_point)) in disabled:
                continue
            warning = register_plugin(pm, _describe(entry_point), entry_point.load)
            if warning:
                warnings.append(warning)
        known = {_canonical(n) for ep in points for n in (ep.name, _dist_name(ep))}
        for name in sorted(disabled - known):
            warnings.append(one_line(f"{DISABLE_VARIABLE} names '{name}', which is no "
                                     "installed plugin (entry-point or distribution name)"))
    return pm, warnings


def disabled_plugins() -> set[str]:
    """The names ``MLVIZ_DISABLE_PLUGINS`` lists (normalised: lowercase, ``_`` → ``-``)."""
    raw = os.environ.get(DISABLE_VARIABLE, "")
    return {_canonical(name) for name in raw.split(",") if name.strip()}


def _canonical(name: str) -> str:
    """A plugin or distribution name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def register_plugin(pm: pluggy.PluginManager, name: str, load: Callable[[], Any]) -> str | None:
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


#: Each hook, in the order it is collected, and what adds one of its items (or warns why not).
_HOOKS: dict[str, Callable[[Registry, str, Any], None]] = {}


def build_registry(pm: pluggy.PluginManager, warnings: list[str] | None = None) -> Registry:
    """Collect what every registered plugin's hooks return, refusing duplicate names.

    Every warning (``warnings``, from loading, and those found here) is issued through
    :func:`warnings.warn` and kept in ``Registry.warnings``.
    """
    registry = Registry()
    for message in warnings or []:
        registry.warn(message)
    for plugin_name, plugin in pm.list_name_plugin():
        _claim_package(registry, _module_of(plugin), plugin_name)
    for hook_name, add in _HOOKS.items():
        for plugin_name, items in _call_each(pm, hook_name, registry):
            for item in items:
                add(registry, plugin_name, item)
    return registry


def _hook(name: str) -> Callable[[Callable[[Registry, str, Any], None]],
                                 Callable[[Registry, str, Any], None]]:
    def mark(add: Callable[[Registry, str, Any], None]) -> Callable[[Registry, str, Any], None]:
        _HOOKS[name] = add
        return add

    return mark


def _named(registry: Registry, plugin_name: str, kind: str, name: object) -> bool:
    """Whether ``name`` is a valid name of ``kind`` (a warning if not)."""
    if valid_name(name):
        return True
    registry.warn(f"plugin {plugin_name} registers the invalid {kind} name {_quoted(name)} "
                  "(lowercase letters, digits and '-' only); ignored")
    return False


@_hook("mlviz_algorithms")
def _add_algorithm(registry: Registry, plugin_name: str, item: Any) -> None:
    if not isinstance(item, Algorithm):
        registry.warn(f"plugin {plugin_name} returned {type(item).__name__} from "
                      "mlviz_algorithms, not an Algorithm; ignored")
        return
    if not _named(registry, plugin_name, "algorithm", item.name):
        return
    if item.name in registry.algorithms:  # the clash message, before building the copy
        registry.add("algorithm", item.name, item, plugin_name)
        return
    try:
        owned = replace(item, plugin=plugin_name, summary=one_line(item.summary, 200),
                        dataset_help=one_line(item.dataset_help),
                        data_help=one_line(item.data_help))
    except Exception as exc:
        registry.warn(f"plugin {plugin_name} registers a broken algorithm '{item.name}': "
                      f"{_describe_exception(exc)}; ignored")
        return
    registry.add("algorithm", item.name, owned, plugin_name)
    for part in (item.trainer, item.dataset, item.scene, item.load_data, item.schedule,
                 item.config):
        _claim_package(registry, getattr(part, "__module__", None), plugin_name)


@_hook("mlviz_panels")
def _add_panel(registry: Registry, plugin_name: str, item: Any) -> None:
    if not (isinstance(item, type) and issubclass(item, Panel) and item.name):
        registry.warn(f"plugin {plugin_name} returned {item!r} from mlviz_panels, not a "
                      "named Panel subclass; ignored")
    elif _named(registry, plugin_name, "panel", item.name):
        registry.add("panel", item.name, item, plugin_name)


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")
#: Modules that define mlviz's ``Writer`` base class (a package after the writers split).
WRITER_BASES = ("mlviz.writers", "mlviz.writers.base")


def is_writer_class(item: object) -> bool:
    """Whether ``item`` is a subclass of mlviz's ``Writer``, recognised by the base class's
    module and name so that the registry imports no output code."""
    return isinstance(item, type) and any(
        base.__name__ == "Writer" and base.__module__ in WRITER_BASES for base in item.__mro__)


@_hook("mlviz_writers")
def _add_writer(registry: Registry, plugin_name: str, item: Any) -> None:
    """Register one writer class under its lowercase suffix, or warn why not."""
    if not is_writer_class(item):
        registry.warn(f"plugin {plugin_name} returned {item!r} from mlviz_writers, not a "
                      "Writer subclass; ignored")
        return
    suffix = item.suffix if isinstance(item.suffix, str) else ""
    if not _SUFFIX.fullmatch(suffix):
        registry.warn(f"plugin {plugin_name} registers writer {item.__name__} with the "
                      f"invalid suffix {_quoted(item.suffix)} (a dot, then 1 to 16 letters or "
                      "digits); ignored")
        return
    registry.add("writer", suffix.lower(), item, plugin_name)


@_hook("mlviz_themes")
def _add_theme(registry: Registry, plugin_name: str, item: Any) -> None:
    """Register one theme under its name, or warn why not."""
    if not isinstance(item, Theme):
        registry.warn(f"plugin {plugin_name} returned {item!r} from mlviz_themes, not a "
                      "Theme; ignored")
    elif _named(registry, plugin_name, "theme", item.name):
        registry.add("theme", item.name, item, plugin_name)


def load_registry() -> Registry:
    """A fresh registry of every installed plugin (built-in ones included). Most code wants
    the current session's instead, loaded once: :func:`mlviz.session.current`."""
    pm, warnings = get_plugin_manager()
    return build_registry(pm, warnings)


def _call_each(pm: pluggy.PluginManager, hook_name: str,
               registry: Registry) -> Iterator[tuple[str, list[Any]]]:
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
                registry.warn(f"plugin {impl.plugin_name}: {hook_name} must return a list")
                continue
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, Terminated)):
                raise
            registry.warn(f"plugin {impl.plugin_name} failed in {hook_name}: "
                          f"{_describe_exception(exc)}")
            continue
        yield impl.plugin_name, items


def _entry_points() -> list[metadata.EntryPoint]:
    """The group's entry points: mlviz's own first, then by distribution and name."""
    points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))

    def key(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
        dist = _dist_name(ep)
        return (dist != OWN_DISTRIBUTION, dist, ep.name)

    return sorted(points, key=key)


def _name_and_version(dist: metadata.Distribution) -> tuple[str, str]:
    """A distribution's name and version, read from its metadata's headers alone: the
    full parse reads the long description too, and took most of a plugin load's time."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n\n", 1)[0].splitlines():
        key, colon, value = line.partition(":")
        if colon and key in ("Name", "Version"):
            fields.setdefault(key, value.strip())
    if "Name" in fields and "Version" in fields:
        return fields["Name"], fields["Version"]
    return str(dist.metadata["Name"]), str(dist.version)


def _dist_name(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return _name_and_version(dist)[0] if dist is not None else "unknown distribution"


def _describe(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return one_line(f"{entry_point.name} (unknown distribution)", 200)
    name, version = _name_and_version(dist)
    return one_line(f"{entry_point.name} ({name} {version})", 200)


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
    """Record that code in ``module`` and its package belongs to ``plugin_name`` (first
    claim wins).

    A plugin module inside a package claims the package, and itself: two plugins of one
    package (two entry points) each keep their own module. mlviz's own modules stay
    mlviz's. Code two plugins share is told apart by what was called
    (:func:`mlviz.failure.blame`), not by these claims.
    """
    if not isinstance(module, str) or not module or module.partition(".")[0] == "mlviz":
        return
    package = module.rpartition(".")[0] or module
    registry.packages.setdefault(module, plugin_name)
    registry.packages.setdefault(package, plugin_name)
