"""mlviz: train classic machine-learning algorithms and animate how they learn.

The public API is the names in ``__all__`` plus the modules ``mlviz.panels`` (reusable
panels), ``mlviz.theme`` (themes: the colours panels draw with), ``mlviz.colorvision``
(colour-blind checks of a palette), ``mlviz.style`` (0.1's colour constants),
``mlviz.testing`` (pytest-mpl helpers),
``mlviz.torchutil`` (PyTorch helpers), ``mlviz.landscape`` (loss landscapes),
``mlviz.datasets`` (stock datasets: blobs, moons, circles, XOR, spiral),
``mlviz.sweep`` (comparing runs: what a plugin declares with ``declare_sweep``),
``mlviz.story`` (chapters and objective of a scene's lesson), ``mlviz.compat``
(whether installed plugins accept the running mlviz), ``mlviz.session`` (the registry,
theme and options in use) and ``mlviz.registry`` (the one registry of algorithms, panels,
writers and themes).
A plugin may import those and nothing else; every other module is private. Names are
imported on first use (``import mlviz`` imports neither numpy nor pluggy), and
matplotlib only when something is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # every name is imported on first use: `mlviz --help` stays quick
    from .algorithm import Algorithm
    from .config import Config, ParamInfo, param
    from .dataset import Dataset, UserData, read_csv
    from .errors import ConfigError, DataError, MlvizError
    from .hookspecs import hookimpl
    from .panel import Panel, RedrawPanel
    from .registry import Registry
    from .scene import Scene
    from .schedule import FrameSchedule
    from .session import Session
    from .snapshot import Snapshot
    from .story import Chapter, Story
    from .trainer import Run, Trainer, traced, train
    from .writers import Writer, open_writer

__all__ = [
    "Algorithm",
    "Chapter",
    "Config",
    "ConfigError",
    "DataError",
    "Dataset",
    "FrameSchedule",
    "MlvizError",
    "Panel",
    "ParamInfo",
    "Prepared",
    "RedrawPanel",
    "Registry",
    "Renderer",
    "Run",
    "Scene",
    "Snapshot",
    "Story",
    "Trainer",
    "UserData",
    "Writer",
    "hookimpl",
    "load_registry",
    "load_run",
    "open_writer",
    "param",
    "prepare",
    "read_csv",
    "render",
    "save_run",
    "traced",
    "train",
]

_LAZY = {
    "Algorithm": "algorithm",
    "Config": "config", "ParamInfo": "config", "param": "config",
    "Dataset": "dataset", "UserData": "dataset", "read_csv": "dataset",
    "ConfigError": "errors", "DataError": "errors", "MlvizError": "errors",
    "hookimpl": "hookspecs",
    "Panel": "panel", "RedrawPanel": "panel",
    "Scene": "scene",
    "FrameSchedule": "schedule",
    "Snapshot": "snapshot",
    "Chapter": "story", "Story": "story",
    "Run": "trainer", "Trainer": "trainer", "train": "trainer", "traced": "trainer",
    "Prepared": "api", "prepare": "api", "render": "api",
    "Registry": "registry", "load_registry": "plugins",
    "Renderer": "renderer",
    "save_run": "record", "load_run": "record",
    "open_writer": "writers", "Writer": "writers",
    "watch": "watch",
}


def _current_session() -> Session:
    """The current session: where :mod:`mlviz.wiring` looks (installed from here, the top
    of the package, so no lower module imports the session)."""
    from .session import current

    return current()


def _install() -> None:
    from .wiring import set_session_source

    set_session_source(_current_session)


_install()


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # once: later lookups skip this function
        return value
    raise AttributeError(f"module 'mlviz' has no attribute {name!r}")
