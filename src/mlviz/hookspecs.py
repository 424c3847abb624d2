"""Every hook a plugin can implement.

A plugin is a module (or object) declared in the ``mlviz`` entry-point group of its
distribution, with functions decorated by :data:`hookimpl`::

    from mlviz import hookimpl

    @hookimpl
    def mlviz_algorithms():
        return [Algorithm(...)]

Every hook takes no argument (so it has no ``:param:``) and returns a list; what a hook
returns is checked item by item and added to the one registry (:mod:`mlviz.registry`).
A plugin is left out with ``MLVIZ_DISABLE_PLUGINS=NAME`` (entry-point or distribution name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .panel import Panel
    from .theme import Theme
    from .writers import Writer

PROJECT = "mlviz"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorator marking a plugin's hook implementations (re-exported as ``mlviz.hookimpl``).
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def mlviz_algorithms() -> list[Algorithm]:  # type: ignore[empty-body]
    """Return the algorithms this plugin adds.

    Each item is an :class:`mlviz.Algorithm`: a unique name, a one-line summary, its config
    class, and factories for its trainer, default dataset and default scene. A name already
    taken by another plugin is refused with a warning naming both plugins; the first one
    registered keeps it (mlviz's own algorithms load first).

    Called once when the registry is built. The module defining this hook should import
    neither matplotlib nor torch at the top level, so ``mlviz list`` stays instant.

    :returns: a list of :class:`mlviz.Algorithm` (``None`` or an empty list: none).

    .. versionadded:: 0.1
    """


@hookspec
def mlviz_panels() -> list[type[Panel]]:  # type: ignore[empty-body]
    """Return the panel classes this plugin offers for composing scenes.

    Each item is a subclass of :class:`mlviz.Panel` with a unique ``name`` class attribute
    (a name already taken is refused with a warning naming both plugins). Registered panels
    are listed by ``mlviz info`` and can be looked up by name with
    ``Registry.lookup("panel", name)`` to build custom scenes.

    :returns: a list of :class:`mlviz.Panel` subclasses.

    .. versionadded:: 0.1
    """


@hookspec
def mlviz_writers() -> list[type[Writer]]:  # type: ignore[empty-body]
    """Return the writer classes this plugin adds: one output format each, picked by suffix.

    Each item is a subclass of :class:`mlviz.Writer` with a lowercase ``suffix``
    (``".webm"``), a one-line ``description``, the frame rates it can store (``min_fps``,
    ``max_fps``, ``fps_limit``), ``last_frame_only`` for a poster format, and, for an
    optional dependency, ``requires`` (module, package) and the pip ``extra`` that installs
    it: ``check_available()`` then fails in one line naming the extra. A suffix already
    taken is refused with a warning naming both plugins; the first one registered keeps it
    (mlviz's own GIF, MP4, WebP, APNG and PNG writers load first).

    Called once when the registry is built; the module defining this hook should import
    no encoder at the top level (import it in the writer's ``_open`` or ``_finish``).

    :returns: a list of :class:`mlviz.Writer` subclasses.

    .. versionadded:: 0.2
    """


@hookspec
def mlviz_themes() -> list[Theme]:  # type: ignore[empty-body]
    """Return the themes this plugin adds, for ``--theme NAME``.

    Each item is an :class:`mlviz.theme.Theme` with a unique ``name`` (lowercase letters,
    digits and '-'); build one with :func:`mlviz.theme.make_theme`, which derives the
    matplotlib rc from its colours. A name already taken is refused with a warning naming
    both plugins (mlviz's own ``light``, ``dark`` and ``transparent`` load first). Check a
    palette with :func:`mlviz.colorvision.check_palette`.

    :returns: a list of :class:`mlviz.theme.Theme`.

    .. versionadded:: 0.2
    """
