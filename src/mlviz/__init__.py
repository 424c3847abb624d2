"""mlviz: train classic machine-learning algorithms and animate how they learn.

The public API is the names in ``__all__`` plus the modules ``mlviz.panels`` (reusable
panels), ``mlviz.style`` (colours and rc style), ``mlviz.testing`` (pytest-mpl helpers),
``mlviz.torchutil`` (PyTorch helpers) and ``mlviz.landscape`` (loss landscapes).
A plugin may import those and nothing else; every other module is private. matplotlib is
imported only when something is drawn.
"""

from __future__ import annotations

from .algorithm import Algorithm
from .config import Config, ParamInfo, param
from .dataset import Dataset, read_csv
from .errors import ConfigError, DataError, MlvizError
from .hookspecs import hookimpl
from .panel import Panel, RedrawPanel
from .scene import Scene
from .schedule import FrameSchedule
from .snapshot import Snapshot
from .trainer import Run, Trainer, train

__all__ = [
    "Algorithm",
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
    "Trainer",
    "hookimpl",
    "load_registry",
    "load_run",
    "open_writer",
    "param",
    "prepare",
    "read_csv",
    "render",
    "save_run",
    "train",
]

_LAZY = {
    "Prepared": "api", "prepare": "api", "render": "api",
    "Registry": "plugins", "load_registry": "plugins",
    "Renderer": "renderer",
    "save_run": "record", "load_run": "record",
    "open_writer": "writers",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'mlviz' has no attribute {name!r}")
