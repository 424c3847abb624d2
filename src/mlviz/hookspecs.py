"""Every hook a plugin can implement.

A plugin is a module (or object) declared in the ``mlviz`` entry-point group of its
distribution, with functions decorated by :data:`hookimpl`::

    from mlviz import hookimpl

    @hookimpl
    def mlviz_algorithms():
        return [Algorithm(...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .panel import Panel

PROJECT = "mlviz"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorator marking a plugin's hook implementations (re-exported as ``mlviz.hookimpl``).
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def mlviz_algorithms() -> list[Algorithm]:
    """Return the algorithms this plugin adds.

    Each item is an :class:`mlviz.Algorithm`: a unique name, a one-line summary, its config
    class, and factories for its trainer, default dataset and default scene. A name already
    taken by another plugin is refused with a warning; the first one registered keeps it
    (mlviz's own algorithms load first).

    Called once when the registry is built. The module defining this hook should import
    neither matplotlib nor torch at the top level, so ``mlviz list`` stays instant.
    """


@hookspec
def mlviz_panels() -> list[type[Panel]]:
    """Return the panel classes this plugin offers for composing scenes.

    Each item is a subclass of :class:`mlviz.Panel` with a unique ``name`` class attribute.
    Registered panels are listed by ``mlviz info`` and can be looked up by name with
    ``Registry.panels`` to build custom scenes.
    """
